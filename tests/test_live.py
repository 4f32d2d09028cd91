"""Step events with a hard-landing flag over the streaming detector (issue 7)."""
import json

import numpy as np
import pytest

from analyzer import analyze
from analyzer.live import HardLandingJudge, HardLandingRule, StepEventStream
from analyzer.steps import PERIOD_WINDOW_S
from analyzer.stream import StreamingDetector, StreamSettings
from sensors import InputError, simulate


def run_events(rec, rule=HardLandingRule(), chunk=100, clock=None):
    stream = StepEventStream(StreamingDetector(rec.placement, rec.sampling_rate_hz), rule, clock=clock)
    events = []
    for i in range(0, len(rec), chunk):
        events += stream.push(rec.time_s[i:i + chunk], rec.acc_g[i:i + chunk])
    return events + stream.flush()


@pytest.fixture(scope="module")
def shank_run():
    return simulate("shank", "backward", cadence_spm=180, sampling_rate_hz=200, duration_s=40, seed=1).recording


def test_events_are_the_detectors_steps(shank_run):
    events = run_events(shank_run)
    offline = analyze(shank_run).steps
    assert len(events) == len(offline)
    np.testing.assert_allclose([e.time_s for e in events], offline.time_s, atol=1 / 200 + 1e-9)
    observed = [e for e in events if not e.estimated and e.running]
    assert observed and all(e.impact_g > 0 for e in observed)
    assert 170 < np.median([e.cadence_spm for e in events if e.cadence_spm is not None]) < 190


def test_emit_time_is_the_newest_sample_and_never_before_the_decision_delay(shank_run):
    events = run_events(shank_run)
    before_flush = [e for e in events if e.emit_time_s < shank_run.time_s[-1]]
    assert before_flush
    assert all(e.latency_s >= StreamSettings().decision_delay_s - 1e-9 for e in before_flush)
    chunk_s = 100 / shank_run.sampling_rate_hz    # the emit time is the newest sample of the chunk that completes it
    delay_s = StreamSettings().decision_delay_s
    # the first contacts wait until one full period window (6 s) of data exists
    settled = [e for e in before_flush if e.time_s >= PERIOD_WINDOW_S - delay_s]
    assert settled and all(e.latency_s <= delay_s + chunk_s for e in settled)
    assert all(e.emit_time_s <= PERIOD_WINDOW_S + chunk_s for e in before_flush if e.time_s < PERIOD_WINDOW_S - delay_s)


def test_clock_stamps_the_emit_time(shank_run):
    events = run_events(shank_run, clock=lambda: 1234.5)
    assert {e.emit_time_s for e in events} == {1234.5}


def test_given_baseline_far_below_flags_every_observed_step_after_five_peaks(shank_run):
    events = run_events(shank_run, HardLandingRule(baseline_impact_g=0.5))
    observed = [e for e in events if not e.estimated and e.running]
    assert not any(e.hard_landing for e in observed[:4])
    assert all(e.hard_landing for e in observed[4:])
    assert all(e.target_impact_g == pytest.approx(0.4) for e in events)
    assert not any(e.hard_landing for e in events if e.estimated)


def test_given_baseline_far_above_flags_nothing(shank_run):
    events = run_events(shank_run, HardLandingRule(baseline_impact_g=100.0))
    assert not any(e.hard_landing for e in events)


def test_session_baseline_is_the_median_of_the_first_running_steps():
    judge = HardLandingJudge(HardLandingRule(baseline_steps=5, target_fraction=0.8, moving_average_peaks=1))
    flags = [judge.judge(g, counts=True)[1] for g in (5.0, 9.0, 4.0, 5.0, 6.0)]
    assert flags == [False] * 4 + [True]                                # the 5th step completes the baseline
    assert judge.baseline_impact_g == 5.0 and judge.target_impact_g == pytest.approx(4.0)
    assert judge.judge(7.0, counts=False) == (None, False)             # estimated or walking steps do not count
    assert judge.judge(4.5, counts=True)[1] and not judge.judge(3.5, counts=True)[1]
    assert judge.baseline_impact_g == 5.0                               # frozen after the first 5 steps


def test_soft_landings_clear_the_flag_after_the_moving_average_drops():
    judge = HardLandingJudge(HardLandingRule(baseline_impact_g=5.0))       # target 4.0 g
    flags = [judge.judge(g, counts=True)[1] for g in (5.0, 5.0, 5.0, 5.0, 5.0, 3.0, 3.0, 3.0, 3.0, 3.0)]
    # moving average of 5: 5, 4.6, 4.2, 3.8 (< 4: soft), 3.4
    assert flags == [False, False, False, False, True, True, True, False, False, False]


def test_one_hard_peak_among_soft_ones_does_not_trigger():
    judge = HardLandingJudge(HardLandingRule(baseline_impact_g=5.0))
    flags = [judge.judge(g, counts=True)[1] for g in (3.0, 3.0, 3.0, 3.0, 3.0, 7.0, 3.0)]
    assert not any(flags)                                               # (4 * 3 + 7) / 5 = 3.8 g < 4 g


def test_rules_outside_the_studied_range_are_refused():
    with pytest.raises(InputError, match="target fraction"):
        HardLandingRule(target_fraction=0.95)
    with pytest.raises(InputError, match="baseline impact"):
        HardLandingRule(baseline_impact_g=-1.0)


def test_event_json_is_one_strict_line(shank_run):
    event = run_events(shank_run)[10]
    line = event.to_json()
    assert "\n" not in line and json.loads(line)["time_s"] == event.time_s
