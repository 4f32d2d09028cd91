"""Recording any emulated family through the real Recorder, for the per-family end-to-end tests.

Not a test module: test_movesense.py and test_metawear.py import it (pytest puts tests/ on sys.path).
"""
from __future__ import annotations

import asyncio

import numpy as np

from sensors.ble import Recorder, find_device
from sensors.emulator.backend import BumbleClient, BumbleScanner
from sensors.emulator.registry import start_emulated
from sensors.journal import JournalWriter, recover
from sensors.simulator import simulate

WALL_LIMIT_S = 30.0


async def record_emulated(tmp_path, profile, rate_hz, seconds, *, speed=20.0, fault=None, host_clocked=False,
                          range_g=None, **emulator_kwargs):
    """Record `seconds` of a simulated run from an emulated `profile` device; (result, device, recovered).

    `fault(device, recorder)` runs while recording (awaiting `device.reached(n)`, then injecting); a
    `host_clocked` family (no device time) needs the Recorder told how fast the emulator runs.
    """
    run = simulate("shank", "backward", sampling_rate_hz=rate_hz, duration_s=seconds + 1, seed=2)
    air, device = await start_emulated(profile, run.recording, speed=speed, **emulator_kwargs)
    found, _ = await find_device(None, profile, scanner_kwargs={"backend": BumbleScanner, "air": air})
    journal_path = tmp_path / "run.rrj"
    with JournalWriter(journal_path, sampling_rate_hz=rate_hz, placement="shank", device=profile.key) as journal:
        recorder = Recorder(profile, journal, duration_s=seconds, rate_hz=rate_hz, range_g=range_g,
                            wall_limit_s=WALL_LIMIT_S, client_kwargs={"backend": BumbleClient, "air": air},
                            device_speed=speed if host_clocked else 1.0)
        task = asyncio.ensure_future(recorder.run(found))
        try:
            if fault is not None:
                await fault(device, recorder)
            result = await asyncio.wait_for(task, WALL_LIMIT_S)
        finally:
            task.cancel()
            await device.stop()
    return result, device, recover(journal_path)


def sent_before(device, n_samples):
    """Indices and values (g) the emulator notified, of its first `n_samples` samples."""
    index, acc_g = device.sent.arrays()
    keep = index < n_samples
    return index[keep], acc_g[keep]


def drop_link_at(position):
    """A fault: drop the link once the device's clock passes sample `position`."""
    async def fault(device, recorder):
        await asyncio.wait_for(device.reached(position).wait(), WALL_LIMIT_S)
        await device.drop_link()
    return fault


def send_raw_at(position, garbage):
    """A fault: notify each of `garbage` (bytes) on the data characteristic once sample `position` is due."""
    async def fault(device, recorder):
        await asyncio.wait_for(device.reached(position).wait(), WALL_LIMIT_S)
        for data in garbage:
            await device.send_raw(data)
    return fault


def gap_samples(gap, rate_hz):
    """Samples missing in a recording gap (start_s, end_s): the last sample before it and the first after."""
    start_s, end_s = gap
    return round((end_s - start_s) * rate_hz) - 1


def received_indices(rec, rate_hz):
    return np.round(rec.time_s * rate_hz).astype(int)
