"""One emulated session through the real recorder, for any family with an emulator (test helper, not a test)."""
from __future__ import annotations

import asyncio
import contextlib

import numpy as np
from bleak import BleakClient

from sensors.ble import Recorder, find_device
from sensors.emulator.backend import BumbleClient, BumbleScanner, VirtualAir
from sensors.emulator.registry import emulator_for
from sensors.journal import JournalWriter, recover
from sensors.simulator import simulate

WALL_LIMIT_S = 30.0


async def record_emulated(tmp_path, profile, rate_hz, seconds, *, speed=20.0, fault=None, recorder_kwargs=None,
                          **emulator_kwargs):
    """Stream a simulated run from an emulated `profile` device into a journal; (result, device, recovered).

    `fault(device, recorder)` runs while recording (await `device.reached(n)` to time it without sleeping).
    The recorder is told the emulator's speed, so host-clocked devices measure outages in device time.
    """
    air = VirtualAir()
    run = simulate("shank", "backward", sampling_rate_hz=rate_hz, duration_s=seconds + 1, seed=2)
    device = emulator_for(profile)(air, profile, run.recording, speed=speed, **emulator_kwargs)
    await device.start()
    found, _ = await find_device(None, profile, scanner_kwargs={"backend": BumbleScanner, "air": air})
    path = tmp_path / "run.rrj"
    with JournalWriter(path, sampling_rate_hz=rate_hz, placement="shank", device=profile.key) as journal:
        recorder = Recorder(profile, journal, duration_s=seconds, rate_hz=rate_hz, wall_limit_s=WALL_LIMIT_S,
                            client_kwargs={"backend": BumbleClient, "air": air}, device_speed=speed,
                            **(recorder_kwargs or {}))
        task = asyncio.ensure_future(recorder.run(found))
        try:
            if fault is not None:
                await fault(device, recorder)
            result = await asyncio.wait_for(task, WALL_LIMIT_S)
        finally:
            task.cancel()
            await device.stop()
    return result, device, recover(path)


@contextlib.asynccontextmanager
async def raw_link(emulator_class, profile, notify_uuid, *, seconds: float = 2.0, **emulator_kwargs):
    """An emulated device serving a short simulated run and a bleak client connected to it and subscribed to
    `notify_uuid`, for talking to the device byte by byte: yields (device, client, queue of notifications).
    The device is stopped after the client has disconnected."""
    air = VirtualAir()
    run = simulate("shank", "backward", duration_s=seconds).recording
    device = emulator_class(air, profile, run, **emulator_kwargs)
    await device.start()
    received: asyncio.Queue = asyncio.Queue()
    try:
        async with BleakClient(device.address, backend=BumbleClient, air=air) as client:
            await client.start_notify(notify_uuid, lambda _, data: received.put_nowait(bytes(data)))
            yield device, client, received
    finally:
        await device.stop()


def drops_at(*positions):
    """A fault: drop the link from the device side once its clock passes each of `positions`."""
    async def fault(device, recorder):
        for position in positions:
            await asyncio.wait_for(device.reached(position).wait(), WALL_LIMIT_S)
            await device.drop_link()
    return fault


def injects_at(position, garbage):
    """A fault: once the device's clock passes `position`, notify each of `garbage` on the data characteristic."""
    async def fault(device, recorder):
        await asyncio.wait_for(device.reached(position).wait(), WALL_LIMIT_S)
        for data in garbage:
            await device.send_raw(data)
    return fault


def sent_first(device, n_samples):
    """What the device notified for sample indices below `n_samples`, each index once, in index order."""
    index, acc_g = device.sent.arrays()
    index, first = np.unique(index, return_index=True)
    keep = index < n_samples
    return index[keep], acc_g[first][keep]


def lost_by_gaps(recording) -> int:
    """Samples the recording's gaps stand for (a gap spans from the last sample before to the first after)."""
    return sum(round((end - start) * recording.sampling_rate_hz) - 1 for start, end in recording.gaps)


def gap_samples(gap, rate_hz):
    """Samples missing in one recording gap (start_s, end_s): the last sample before it and the first after."""
    start_s, end_s = gap
    return round((end_s - start_s) * rate_hz) - 1


def received_indices(rec, rate_hz):
    return np.round(rec.time_s * rate_hz).astype(int)


def check_garbage_is_counted_and_skipped(tmp_path, profile, rate_hz, garbage, at_sample, **kwargs):
    """Notify each of `garbage` once sample `at_sample` is due: every one is counted and logged as a malformed
    frame, and the recording is still complete and exactly what the device sent."""
    seconds = 5.0
    result, device, recovered = asyncio.run(record_emulated(tmp_path, profile, rate_hz, seconds,
                                                            fault=injects_at(at_sample, garbage), **kwargs))
    n = round(seconds * rate_hz)
    assert result.status.malformed_frames == len(garbage)
    assert [e["event"] for e in recovered.events].count("malformed_frame") == len(garbage)
    _, sent = sent_first(device, n)
    assert len(recovered.recording) == n and recovered.recording.gaps == []
    np.testing.assert_array_equal(recovered.recording.acc_g, sent)
