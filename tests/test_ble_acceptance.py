"""Issue 3 acceptance, for every emulated profile, through bleak's public API and the real recorder:
a session arrives complete and analyses to the simulator's steps; five link drops lose nothing on a device
that replays its backlog, and on one that does not the reported gaps equal what never arrived; a silent
link is recovered. Timing figures (stall recovery time, gap error in frames) are in
`python -m benchmarks.ble_faults`, not asserted here."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest

pytest.importorskip("bumble", reason="the emulator needs Google Bumble: pip install 'retrorun[test]'")

from analyzer import analyze  # noqa: E402
from analyzer.validate import match_events  # noqa: E402
from sensors.ble import Recorder, find_device  # noqa: E402
from sensors.devices import PROFILES  # noqa: E402
from sensors.emulator.backend import BumbleClient, BumbleScanner, VirtualAir  # noqa: E402
from sensors.emulator.registry import EMULATORS, start_emulated  # noqa: E402
from sensors.journal import JournalWriter, recover  # noqa: E402
from sensors.simulator import simulate  # noqa: E402

WALL_LIMIT_S = 60.0
EMULATED = [p for p in PROFILES.values() if p.family in EMULATORS and p.streams_acceleration]
DEVICE_CLOCKED = [p for p in EMULATED if not p.host_clocked]


def served_run(profile, seconds: float, seed: int = 4):
    rate_hz = profile.default_rate_hz
    return simulate("shank", "backward", sampling_rate_hz=rate_hz, duration_s=seconds + 1, seed=seed)


async def record(tmp_path, profile, seconds, *, speed, fault=None, watchdog_s=3.0, **emulator_kwargs):
    air = VirtualAir()
    run = served_run(profile, seconds)
    _, device = await start_emulated(profile, run.recording, speed=speed, air=air, **emulator_kwargs)
    found, _ = await find_device(device.name, profile, scanner_kwargs={"backend": BumbleScanner, "air": air})
    rate_hz = profile.default_rate_hz
    with JournalWriter(tmp_path / "run.rrj", sampling_rate_hz=rate_hz, placement="shank") as journal:
        recorder = Recorder(profile, journal, duration_s=seconds, wall_limit_s=WALL_LIMIT_S, watchdog_s=watchdog_s,
                            client_kwargs={"backend": BumbleClient, "air": air}, device_speed=speed)
        task = asyncio.ensure_future(recorder.run(found))
        if fault is not None:
            await fault(device, recorder)
        result = await asyncio.wait_for(task, WALL_LIMIT_S)
    await device.stop()
    return run, result, device, recover(tmp_path / "run.rrj").recording


def n_due(profile, seconds: float) -> int:
    return round(seconds * profile.default_rate_hz)


@pytest.mark.parametrize("profile", EMULATED, ids=lambda p: p.key)
def test_sixty_seconds_arrive_complete_and_analyse_to_the_simulated_steps(tmp_path, profile):
    run, result, device, rec = asyncio.run(record(tmp_path, profile, 60.0, speed=40.0))
    n = n_due(profile, 60.0)
    _, sent = device.sent.arrays()
    assert len(rec) == n == result.status.samples and rec.gaps == [] and device.lost_samples == 0
    np.testing.assert_array_equal(rec.acc_g, sent[:n])            # samples received = samples sent
    truth = run.truth[(run.truth.ic_s > 0.5) & (run.truth.ic_s < 59.5)]
    match = match_events(analyze(rec).steps.time_s, truth.ic_s, 0.04)
    assert match.recall >= 0.98 and match.precision >= 0.98


def five_drops(n_total: int):
    async def fault(device, recorder):
        for k in range(1, 6):
            await asyncio.wait_for(device.reached(k * n_total // 6).wait(), WALL_LIMIT_S)
            await device.drop_link()
    return fault


@pytest.mark.parametrize("profile", DEVICE_CLOCKED, ids=lambda p: p.key)
def test_five_drops_lose_nothing_on_a_device_that_replays_its_backlog(tmp_path, profile):
    n = n_due(profile, 30.0)
    _, result, device, rec = asyncio.run(record(tmp_path, profile, 30.0, speed=20.0, fault=five_drops(n),
                                                replay_backlog=True))
    _, sent = device.sent.arrays()
    assert result.status.reconnects == 5 and device.lost_samples == 0
    assert len(rec) == n and rec.gaps == [] and result.status.lost_samples == 0
    index, sent = device.sent.arrays()
    first = {i: k for k, i in reversed(list(enumerate(index)))}     # a sample sent twice carries the same value
    np.testing.assert_array_equal(rec.acc_g, sent[[first[i] for i in range(n)]])


@pytest.mark.parametrize("profile", EMULATED, ids=lambda p: p.key)
def test_five_drops_on_a_device_that_does_not_replay_are_gaps_of_the_true_length(tmp_path, profile):
    n = n_due(profile, 30.0)
    # a host-clocked device's gaps come from arrival times: emulate it nearer real time so that a busy test
    # machine's scheduling delays, multiplied by the speed, stay below a notification
    speed = 5.0 if profile.host_clocked else 20.0
    _, result, device, rec = asyncio.run(record(tmp_path, profile, 30.0, speed=speed, fault=five_drops(n),
                                                replay_backlog=False))
    assert result.status.reconnects == 5 and len(rec.gaps) == 5 and device.lost_samples > 0
    never_arrived = n - len(rec)
    reported = rec.metadata["lost_samples"]
    assert reported == result.status.lost_samples
    if profile.host_clocked:   # placed by arrival time: each gap is known within one notification
        assert abs(reported - never_arrived) <= 5 * device.samples_per_frame
    else:                      # placed by the device's counter or clock: exact
        assert reported == never_arrived
    steps = analyze(rec).steps
    for start_s, end_s in rec.gaps:
        assert not ((steps.time_s > start_s) & (steps.time_s < end_s)).any()


@pytest.mark.parametrize("profile", EMULATED, ids=lambda p: p.key)
def test_a_silent_link_is_detected_and_the_stream_restarted(tmp_path, profile):
    n = n_due(profile, 20.0)

    async def go_silent(device, recorder):
        await asyncio.wait_for(device.reached(n // 3).wait(), WALL_LIMIT_S)
        device.stall()

    _, result, device, rec = asyncio.run(record(tmp_path, profile, 20.0, speed=10.0, fault=go_silent,
                                                watchdog_s=0.5))
    events = [e["event"] for e in result.events]
    assert events.count("link_silent") == 1 and result.status.reconnects == 1
    assert len(rec) + rec.metadata["lost_samples"] == n
    assert len(rec.gaps) == (0 if device.replay_backlog else 1)      # a buffering phone resends the stall


@pytest.mark.parametrize("profile", DEVICE_CLOCKED, ids=lambda p: p.key)
def test_frames_delivered_out_of_order_are_put_back_in_place(tmp_path, profile):
    n = n_due(profile, 20.0)

    async def swap_three_times(device, recorder):
        for k in (1, 2, 3):
            await asyncio.wait_for(device.reached(k * n // 4).wait(), WALL_LIMIT_S)
            device.swap_next_frames()

    _, result, device, rec = asyncio.run(record(tmp_path, profile, 20.0, speed=10.0, fault=swap_three_times))
    index, sent = device.sent.arrays()
    assert len(rec) == n and rec.gaps == [] and result.status.lost_samples == 0
    order = np.argsort(index, kind="stable")
    np.testing.assert_array_equal(rec.acc_g, sent[order][:n])
