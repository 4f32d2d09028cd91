"""The recorder (sensors.ble) end to end on the emulator: journal, gaps after a link drop, refusals."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest

pytest.importorskip("bumble", reason="the emulator needs Google Bumble: pip install 'retrorun[test]'")

from sensors.ble import Recorder, find_device  # noqa: E402
from sensors.devices import polar_pmd as pmd  # noqa: E402
from sensors.emulator.backend import BumbleClient, BumbleScanner, VirtualAir  # noqa: E402
from sensors.emulator.polar import EmulatedPolar  # noqa: E402
from sensors.errors import DeviceError  # noqa: E402
from sensors.journal import JournalWriter, recover  # noqa: E402
from sensors.simulator import simulate  # noqa: E402

WALL_LIMIT_S = 30.0


async def record_emulated(tmp_path, profile, rate_hz, seconds, *, speed=20.0, fault=None, **emulator_kwargs):
    air = VirtualAir()
    run = simulate("shank", "backward", sampling_rate_hz=rate_hz, duration_s=seconds + 1, seed=2)
    device = EmulatedPolar(air, profile, run.recording, speed=speed, **emulator_kwargs)
    await device.start()
    found, _ = await find_device(None, profile, scanner_kwargs={"backend": BumbleScanner, "air": air})
    with JournalWriter(tmp_path / "run.rrj", sampling_rate_hz=rate_hz, placement="shank", device=profile.key) as journal:
        recorder = Recorder(profile, journal, duration_s=seconds, rate_hz=rate_hz, wall_limit_s=WALL_LIMIT_S,
                            client_kwargs={"backend": BumbleClient, "air": air})
        task = asyncio.ensure_future(recorder.run(found))
        if fault is not None:
            await fault(device, recorder)
        result = await asyncio.wait_for(task, WALL_LIMIT_S)
    await device.stop()
    return result, device, recover(tmp_path / "run.rrj")


def sent_before(device, n_samples):
    index, acc_g = device.sent.arrays()
    keep = index < n_samples
    return index[keep], acc_g[keep]


def test_a_clean_session_journals_every_sample_sent(tmp_path):
    result, device, recovered = asyncio.run(record_emulated(tmp_path, pmd.POLAR_H10, 200.0, 10.0))
    rec = recovered.recording
    index, sent = sent_before(device, 2000)
    assert len(rec) == 2000 and result.status.samples == 2000 and rec.gaps == []
    np.testing.assert_array_equal(rec.acc_g, sent)
    np.testing.assert_allclose(rec.time_s, np.arange(2000) / 200.0, atol=1e-9)
    assert recovered.clean_end and result.status.reconnects == 0 and result.status.malformed_frames == 0
    assert result.status.battery_percent == device.battery_percent and "battery 87 %" in result.status.line()


def test_a_link_drop_is_survived_and_the_gap_has_the_true_length(tmp_path):
    async def drop_midway(device, recorder):
        await asyncio.wait_for(device.reached(600).wait(), WALL_LIMIT_S)
        await device.drop_link()

    result, device, recovered = asyncio.run(record_emulated(tmp_path, pmd.POLAR_VERITY_SENSE, 52.0, 30.0,
                                                            speed=20.0, fault=drop_midway))
    rec = recovered.recording
    index, sent = sent_before(device, 52 * 30)
    assert result.status.reconnects == 1 and device.lost_samples > 0
    # what arrived is exactly what was sent at those sample indices; what is missing, the samples the device
    # never sent while the link was down (and, on a busy machine, frames in flight when it dropped), is one gap
    received = np.round(rec.time_s * 52.0).astype(int)
    position = {i: k for k, i in enumerate(index)}
    np.testing.assert_array_equal(rec.acc_g, sent[[position[i] for i in received]])
    lost = 52 * 30 - len(rec)
    assert lost >= device.lost_samples
    assert len(rec.gaps) == 1
    start_s, end_s = rec.gaps[0]
    assert end_s - start_s == pytest.approx((lost + 1) / 52.0)
    assert result.status.lost_samples == lost == rec.metadata["lost_samples"]
    assert [e["event"] for e in recovered.events].count("link_lost") == 1


def test_a_refused_start_stops_with_the_device_error(tmp_path):
    with pytest.raises(DeviceError, match="INVALID_STATE"):
        asyncio.run(record_emulated(tmp_path, pmd.POLAR_H10, 200.0, 5.0, refuse_start=pmd.Status.INVALID_STATE))


def test_an_absent_device_is_a_clear_error():
    async def scenario():
        air = VirtualAir()
        await find_device("Polar H10 NOPE", pmd.POLAR_H10, timeout_s=0.5,
                          scanner_kwargs={"backend": BumbleScanner, "air": air})

    with pytest.raises(DeviceError, match="Polar H10 NOPE did not advertise"):
        asyncio.run(scenario())


def test_a_silent_link_is_detected_by_the_watchdog_and_recovered(tmp_path):
    async def go_silent(device, recorder):
        await asyncio.wait_for(device.reached(400).wait(), WALL_LIMIT_S)
        device.stall()

    async def scenario():
        air = VirtualAir()
        run = simulate("shank", "backward", sampling_rate_hz=200.0, duration_s=12.0, seed=3)
        device = EmulatedPolar(air, pmd.POLAR_H10, run.recording, speed=10.0)
        await device.start()
        with JournalWriter(tmp_path / "run.rrj", sampling_rate_hz=200.0) as journal:
            recorder = Recorder(pmd.POLAR_H10, journal, duration_s=10.0, wall_limit_s=WALL_LIMIT_S, watchdog_s=0.5,
                                client_kwargs={"backend": BumbleClient, "air": air})
            task = asyncio.ensure_future(recorder.run(device.address))
            await go_silent(device, recorder)
            result = await asyncio.wait_for(task, WALL_LIMIT_S)
        await device.stop()
        return result, device

    result, device = asyncio.run(scenario())
    rec = recover(tmp_path / "run.rrj").recording
    assert [e["event"] for e in result.events].count("link_silent") == 1 and result.status.reconnects == 1
    assert device.lost_samples > 0 and len(rec.gaps) == 1
    assert len(rec) + device.lost_samples == 2000 == len(rec) + rec.metadata["lost_samples"]


def test_sixty_seconds_arrive_complete_and_analyse_to_the_simulated_steps(tmp_path):
    from analyzer import analyze
    from analyzer.validate import match_events

    result, device, recovered = asyncio.run(record_emulated(tmp_path, pmd.POLAR_H10, 200.0, 60.0, speed=40.0))
    rec = recovered.recording
    assert len(rec) == 12000 == result.status.samples and device.lost_samples == 0
    truth = simulate("shank", "backward", sampling_rate_hz=200.0, duration_s=61.0, seed=2).truth
    truth = truth[(truth.ic_s > 0.5) & (truth.ic_s < 59.5)]
    steps = analyze(rec).steps
    match = match_events(steps.time_s, truth.ic_s, 0.04)
    assert match.recall >= 0.98 and match.precision >= 0.98


def test_five_drops_gap_total_equals_the_true_outage_and_no_step_is_invented(tmp_path):
    from analyzer import analyze

    async def five_drops(device, recorder):
        for position in (2000, 4000, 6000, 8000, 10000):
            await asyncio.wait_for(device.reached(position).wait(), WALL_LIMIT_S)
            await device.drop_link()

    result, device, recovered = asyncio.run(record_emulated(tmp_path, pmd.POLAR_H10, 200.0, 60.0, speed=30.0,
                                                            fault=five_drops))
    rec = recovered.recording
    assert result.status.reconnects == 5 and len(rec.gaps) == 5
    lost_by_gaps = sum(round((end - start) * 200.0) - 1 for start, end in rec.gaps)
    # every missing sample is inside a reported gap: those the device never sent while the link was down,
    # and, on a busy machine, frames that were in flight when it dropped
    assert lost_by_gaps == 12000 - len(rec) == result.status.lost_samples
    assert lost_by_gaps >= device.lost_samples
    steps = analyze(rec).steps
    for start_s, end_s in rec.gaps:
        assert not ((steps.time_s > start_s) & (steps.time_s < end_s)).any()


def test_malformed_frames_are_counted_and_logged_never_fatal(tmp_path):
    garbage = [b"", b"\x02\x00", bytes(10) + b"\x01\x00", b"\x02" + bytes(8) + b"\x7f" + bytes(6)]

    async def inject(device, recorder):
        await asyncio.wait_for(device.reached(400).wait(), WALL_LIMIT_S)
        for data in garbage:
            await device.send_raw(data)

    result, device, recovered = asyncio.run(record_emulated(tmp_path, pmd.POLAR_H10, 200.0, 5.0, fault=inject))
    assert result.status.malformed_frames == len(garbage)
    assert [e["event"] for e in recovered.events].count("malformed_frame") == len(garbage)
    index, sent = sent_before(device, 1000)
    assert len(recovered.recording) == 1000 and recovered.recording.gaps == []
    np.testing.assert_array_equal(recovered.recording.acc_g, sent)


def test_drops_in_the_middle_of_the_handshake_are_retried(tmp_path):
    drops = (pmd.OpCode.GET_SETTINGS, pmd.OpCode.START)
    result, device, recovered = asyncio.run(record_emulated(tmp_path, pmd.POLAR_H10, 200.0, 5.0,
                                                            drop_on_commands=drops))
    events = [e["event"] for e in result.events]
    assert events.count("connection_failed") == 2 and result.status.reconnects == 2
    assert not device.drop_on_commands and device.lost_samples == 0
    assert len(recovered.recording) == 1000 and recovered.recording.gaps == []


def test_a_verity_sense_above_52_hz_streams_in_sdk_mode(tmp_path):
    result, device, recovered = asyncio.run(record_emulated(tmp_path, pmd.POLAR_VERITY_SENSE, 208.0, 5.0))
    # the emulator refuses 208 Hz outside SDK mode (next test), so a complete recording means SDK mode worked
    assert len(recovered.recording) == 1040 and recovered.recording.gaps == []
    assert not device.sdk_mode                     # and the session left it at the end


def test_the_emulated_verity_refuses_fast_rates_outside_sdk_mode():
    async def scenario():
        air = VirtualAir()
        run = simulate("shank", "backward", sampling_rate_hz=208.0, duration_s=2.0, seed=2)
        device = EmulatedPolar(air, pmd.POLAR_VERITY_SENSE, run.recording)
        await device.start()
        replies: asyncio.Queue = asyncio.Queue()
        from bleak import BleakClient
        async with BleakClient(device.address, backend=BumbleClient, air=air) as client:
            await client.start_notify(pmd.PMD_CONTROL_UUID, lambda _, data: replies.put_nowait(bytes(data)))
            await client.write_gatt_char(pmd.PMD_CONTROL_UUID, pmd.start_acc_request(208, 8), response=True)
            reply = pmd.decode_response(await asyncio.wait_for(replies.get(), 10))
        await device.stop()
        return reply

    assert asyncio.run(scenario()).status == pmd.Status.INVALID_SAMPLE_RATE
