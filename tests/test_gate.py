"""The gait gate and the run evidence (analyzer/gate.py): its pieces against plain computations, synthetic
non-gait that must give no steps or no running, and the real everyday recordings (scoring people only)."""
import itertools

import numpy as np
import pytest

from analyzer import ParameterError, analyze
from analyzer.gate import GaitWindows, GateParams, carried_forward, window_extremes, window_std
from benchmarks.realdata import HAPT, MOTIONSENSE, NON_GAIT, hapt_sessions, motionsense_segments
from sensors import Recording, simulate

needs_everyday = pytest.mark.skipif(not (MOTIONSENSE.is_dir() and HAPT.is_dir()),
                                    reason="the real everyday recordings (../shared/data) are not here")


def test_window_features_match_plain_numpy():
    rng = np.random.default_rng(1)
    x = 1.0 + rng.normal(0, 0.3, 2000)
    start = np.arange(0, 1700, 50)
    std = window_std(x, start, 300)
    floor, peak = window_extremes(x, start, 300)
    for k, a in enumerate(start):
        assert std[k] == pytest.approx(x[a:a + 300].std(), rel=1e-9)
        assert floor[k] == pytest.approx(np.percentile(x[a:a + 300], 2))
        assert peak[k] == pytest.approx(np.percentile(x[a:a + 300], 98))


def test_windows_near_a_time_by_running_counts_equal_the_brute_force_answer():
    centres = np.arange(3.0, 40.0, 1.0)
    rng = np.random.default_rng(2)
    for _ in range(100):
        flag = rng.random(len(centres)) < 0.3
        times = rng.uniform(-3, 45, 40)
        reach = float(rng.choice([0.0, 0.5, 1.0]))
        windows = GaitWindows(centres, centres, centres, centres, centres, flag, reach)
        distance = np.abs(times[:, None] - centres[None, :])
        within = np.maximum(reach, distance.min(axis=1, keepdims=True))
        expected = ((distance <= within + 1e-9) & flag[None, :]).any(axis=1)
        assert (windows.at(times) == expected).all()


def test_evidence_is_carried_along_a_stretch_and_stops_at_its_break():
    evidence = np.array([0, 0, 1, 0, 0, 0, 0, 1, 0], dtype=bool)
    continuing = np.array([0, 1, 1, 1, 0, 1, 1, 1, 1], dtype=bool)
    assert carried_forward(evidence, continuing).astype(int).tolist() == [0, 0, 1, 1, 0, 0, 0, 1, 1]


@pytest.mark.parametrize("name,value", [("min_regularity", 1.5), ("min_intensity_g", -0.1), ("reach_s", "1")])
def test_a_bad_gate_parameter_is_one_parameter_error_naming_it(name, value):
    with pytest.raises(ParameterError) as caught:
        GateParams(**{name: value})
    assert name in str(caught.value) and repr(value) in str(caught.value)
    assert isinstance(caught.value, ValueError)


def _synthetic(acc_g: np.ndarray, rate_hz: float, placement: str) -> Recording:
    return Recording(time_s=np.arange(len(acc_g)) / rate_hz, acc_g=acc_g, placement=placement)


@pytest.mark.parametrize("placement", ["sacrum", "phone_pocket", "phone_arm", "wrist"])
def test_a_still_sensor_that_shifts_now_and_then_makes_no_steps(placement):
    """Posture changes: the gravity vector jumps to a new tilt every few seconds, with a jolt."""
    rate_hz, rng = 100.0, np.random.default_rng(3)
    n = int(120 * rate_hz)
    acc = np.tile([0.0, 0.0, 1.0], (n, 1))
    for start in range(0, n, int(7 * rate_hz)):
        tilt = rng.uniform(-0.6, 0.6, 2)
        direction = np.array([tilt[0], tilt[1], 1.0]) / np.linalg.norm([tilt[0], tilt[1], 1.0])
        acc[start:] = direction
        acc[start:start + 30] += rng.normal(0, 0.5, (min(30, n - start), 3))
    acc += rng.normal(0, 0.01, acc.shape)
    assert len(analyze(_synthetic(acc, rate_hz, placement)).steps) == 0


@pytest.mark.parametrize("placement", ["phone_pocket", "sacrum", "wrist"])
def test_a_seated_leg_bounce_at_3_hz_is_no_run(placement):
    """A heel bouncing under a desk: periodic and brisk, at a run's cadence, but the body stays supported."""
    rate_hz = 100.0
    t = np.arange(int(60 * rate_hz)) / rate_hz
    rng = np.random.default_rng(4)
    acc = np.column_stack([0.15 * np.sin(2 * np.pi * 3 * t), np.zeros_like(t), 1.0 + 0.45 * np.sin(2 * np.pi * 3 * t)])
    acc += rng.normal(0, 0.02, acc.shape)
    steps = analyze(_synthetic(acc, rate_hz, placement)).steps
    assert not steps.running.any()


@pytest.mark.parametrize("placement,cadence", [("phone_pocket", 140), ("sacrum", 140), ("wrist", 180),
                                               ("phone_arm", 220)])
def test_simulated_runs_keep_their_run_with_the_gate(placement, cadence):
    run = simulate(placement, "backward", cadence_spm=cadence, sampling_rate_hz=100, duration_s=30, seed=12)
    steps = analyze(run.recording).steps
    inner = steps[(steps.time_s > 4) & (steps.time_s < 26)]
    assert len(inner) > 0.9 * 22 * cadence / 60 and inner.running.all()


@needs_everyday
def test_real_sitting_and_standing_make_no_steps_and_jogs_are_runs():
    minutes_still, steps_still, jog_steps, jog_running = 0.0, 0, 0, 0
    chosen = itertools.islice((s for s in motionsense_segments(tuning=False)
                               if s[0] in ("sitting", "standing", "jogging")), 0, None)
    for activity, _, rec in chosen:
        steps = analyze(rec).steps
        if activity == "jogging":
            jog_steps += len(steps)
            jog_running += int(steps.running.sum())
        else:
            minutes_still += rec.duration_s / 60
            steps_still += len(steps)
    assert minutes_still > 30 and steps_still / minutes_still <= 0.2
    assert jog_steps > 1000 and jog_running >= 0.98 * jog_steps


@needs_everyday
def test_real_waist_sessions_run_nowhere_and_walk_where_labelled():
    non_gait_minutes, non_gait_running, walk_steps, walk_running = 0.0, 0, 0, 0
    for _, _, rec, labels in itertools.islice(hapt_sessions(tuning=False), 6):
        steps = analyze(rec).steps
        time_s, running = steps.time_s.to_numpy(), steps.running.to_numpy(dtype=bool)
        for row in labels.itertuples():
            inside = (time_s >= row.start_s) & (time_s < row.end_s)
            if row.activity in NON_GAIT:
                non_gait_minutes += (row.end_s - row.start_s) / 60
                non_gait_running += int((inside & running).sum())
            elif row.activity == "walking":
                walk_steps += int(inside.sum())
                walk_running += int((inside & running).sum())
                # a labelled walk is found: 70-140 steps a minute
                assert 70 <= inside.sum() / ((row.end_s - row.start_s) / 60) <= 140 or row.end_s - row.start_s < 8
    assert non_gait_minutes > 10 and non_gait_running / non_gait_minutes <= 0.5
    assert walk_steps > 300 and walk_running <= 0.02 * walk_steps
