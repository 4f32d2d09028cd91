"""Bouts (analyzer/bouts.py) from synthetic step sequences: turnarounds, build-ups and run-outs."""
import numpy as np
import pandas as pd

from analyzer.bouts import find_bouts
from analyzer.steps import MAX_STEP_INTERVAL_S


def steps_of(*pieces: tuple[str, float, float]) -> pd.DataFrame:
    """Steps from (activity, duration_s, step_s) pieces back to back; 'rest' is a pause with no steps."""
    times, running, t = [], [], 0.0
    for activity, duration_s, step_s in pieces:
        if activity != "rest":
            n = int(round(duration_s / step_s))
            times += list(t + step_s * np.arange(n))
            running += [activity == "run"] * n
        t += duration_s
    time_s = np.array(times)
    interval_s = np.diff(time_s, prepend=np.nan)
    interval_s[interval_s > MAX_STEP_INTERVAL_S] = np.nan
    return pd.DataFrame({"time_s": time_s, "running": running, "interval_s": interval_s,
                         "cadence_spm": 60 / interval_s, "impact_g": 2.0})


def test_a_run_out_before_a_rest_belongs_to_the_run():
    bouts = find_bouts(steps_of(("walk", 60, 0.55), ("rest", 10, 0), ("run", 60, 0.35), ("walk", 2.5, 0.5),
                                ("rest", 10, 0), ("walk", 30, 0.55)))
    assert list(bouts.activity) == ["walk", "run", "walk"]
    assert abs(bouts.end_s.iloc[1] - 132.5) < 0.6


def test_a_build_up_after_a_rest_belongs_to_the_run_but_a_warm_up_walk_does_not():
    built_up = find_bouts(steps_of(("rest", 5, 0), ("walk", 3, 0.5), ("run", 60, 0.35)))
    assert list(built_up.activity) == ["run"] and built_up.start_s.iloc[0] < 5.1
    warm_up = find_bouts(steps_of(("walk", 20, 0.55), ("run", 60, 0.35)))
    assert list(warm_up.activity) == ["walk", "run"]


def test_a_slow_turnaround_stays_inside_the_interval_but_a_walk_break_does_not():
    turn = find_bouts(steps_of(("run", 60, 0.43), ("walk", 6, 0.5), ("run", 60, 0.43)))
    assert list(turn.activity) == ["run"] and turn.turns.iloc[0] == 1
    walk_break = find_bouts(steps_of(("run", 60, 0.43), ("walk", 12, 0.5), ("run", 60, 0.43)))
    assert list(walk_break.activity) == ["run", "walk", "run"]
