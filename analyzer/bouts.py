"""Bouts: the session cut into running intervals, walks and stops, so that warm-ups and rests between
intervals stay out of running metrics and each interval can be reported on its own.

A bout is a run of consecutive steps of one activity (running or walking, from the step's `running`
flag) with no pause longer than MAX_STEP_INTERVAL_S between them. Running bouts separated by a short
break (a turnaround at the end of a track straight or a shuttle: a few slow steps or a pivot) are one
interval, and the breaks are counted as turns. Warm-up exclusion follows SCIENCE.md section 5.2.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .steps import MAX_STEP_INTERVAL_S

ACTIVITY_COLUMNS = ("activity", "start_s", "end_s", "duration_s", "step_count", "cadence_spm", "impact_g_median",
                    "turns")
DIRECTION_COLUMNS = ("direction", "direction_confidence", "direction_basis")
"""Filled by analyzer/direction.py."""
BOUT_COLUMNS = ACTIVITY_COLUMNS + DIRECTION_COLUMNS
TURN_MAX_S = 8.0
"""A break in running shorter than this is a turnaround, not the end of an interval (assumption: a
shuttle turn takes 1-3 s of pivoting, and a slow jogger's few slowing and accelerating steps on either
side fall to a walk's cadence: four steps down and three up at 140 steps/min add about 4 s)."""
MIN_BOUT_STEPS = 4
"""Fewer consecutive steps of one kind are absorbed into the bout around them (a stumble, a missed step)."""


def find_bouts(steps: pd.DataFrame) -> pd.DataFrame:
    """One row per bout with the columns of ACTIVITY_COLUMNS; `activity` is 'run' or 'walk'."""
    if steps.empty:
        return pd.DataFrame({c: [] for c in ACTIVITY_COLUMNS})
    time_s = steps["time_s"].to_numpy()
    running = _smoothed(steps["running"].to_numpy(dtype=bool))
    # a new bout starts after a pause or a gap (interval left empty) or where the activity changes
    new = np.isnan(steps["interval_s"].to_numpy()) | np.append(True, running[1:] != running[:-1])
    ids = np.cumsum(new)
    raw = [(bool(running[ids == b][0]), np.flatnonzero(ids == b)) for b in np.unique(ids)]
    merged = _join_run_edges(_merge_turns(_absorb_short(raw, time_s), time_s), time_s)
    rows = []
    for is_run, idx, turns in merged:
        part = steps.iloc[idx]
        end_s = float(time_s[idx[-1]] + np.nan_to_num(np.nanmedian(part["interval_s"]) if part["interval_s"].notna().any() else 0.0))
        rows.append({"activity": "run" if is_run else "walk", "start_s": float(time_s[idx[0]]), "end_s": end_s,
                     "duration_s": end_s - float(time_s[idx[0]]), "step_count": len(idx),
                     "cadence_spm": float(part["cadence_spm"].median()),
                     "impact_g_median": float(part["impact_g"].median()), "turns": turns})
    return pd.DataFrame(rows, columns=list(ACTIVITY_COLUMNS))


def _smoothed(running: np.ndarray) -> np.ndarray:
    """Flip runs of fewer than MIN_BOUT_STEPS steps to the activity around them."""
    out = running.copy()
    change = np.flatnonzero(np.diff(out.astype(int))) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(out)]])
    for a, b in zip(starts, ends):
        if b - a < MIN_BOUT_STEPS and a > 0 and b < len(out):
            out[a:b] = out[a - 1]
    return out


def _absorb_short(raw: list[tuple[bool, np.ndarray]], time_s: np.ndarray) -> list[tuple[bool, np.ndarray]]:
    """A bout of fewer than MIN_BOUT_STEPS steps joins the bout it touches (the first step after a rest,
    the last before one); one touching neither stays on its own."""
    out = list(raw)
    i = 0
    while i < len(out):
        is_run, idx = out[i]
        if len(idx) >= MIN_BOUT_STEPS or len(out) == 1:
            i += 1
            continue
        touches_next = i + 1 < len(out) and time_s[out[i + 1][1][0]] - time_s[idx[-1]] <= MAX_STEP_INTERVAL_S
        touches_prev = i > 0 and time_s[idx[0]] - time_s[out[i - 1][1][-1]] <= MAX_STEP_INTERVAL_S
        if touches_next:
            out[i + 1] = (out[i + 1][0], np.concatenate([idx, out[i + 1][1]]))
            del out[i]
        elif touches_prev:
            out[i - 1] = (out[i - 1][0], np.concatenate([out[i - 1][1], idx]))
            del out[i]
        else:
            i += 1
    return out


def _join_run_edges(bouts: list[tuple[bool, np.ndarray, int]],
                    time_s: np.ndarray) -> list[tuple[bool, np.ndarray, int]]:
    """A walk shorter than TURN_MAX_S that runs straight into a run (or out of one) with nothing on its
    other side (a rest or the recording's edge) is that run's build-up (or run-out): a runner's first and
    last steps fall to a walk's cadence."""
    out = list(bouts)

    def touching(first: int, second: int) -> bool:
        return time_s[out[second][1][0]] - time_s[out[first][1][-1]] <= MAX_STEP_INTERVAL_S

    i = 0
    while i < len(out):
        is_run, idx, _ = out[i]
        short_walk = not is_run and time_s[idx[-1]] - time_s[idx[0]] < TURN_MAX_S
        before = i > 0 and touching(i - 1, i)
        after = i + 1 < len(out) and touching(i, i + 1)
        if short_walk and after and not before and out[i + 1][0]:
            out[i + 1] = (True, np.concatenate([idx, out[i + 1][1]]), out[i + 1][2])
            del out[i]
        elif short_walk and before and not after and out[i - 1][0]:
            out[i - 1] = (True, np.concatenate([out[i - 1][1], idx]), out[i - 1][2])
            del out[i]
        else:
            i += 1
    return out


def _merge_turns(raw: list[tuple[bool, np.ndarray]], time_s: np.ndarray) -> list[tuple[bool, np.ndarray, int]]:
    """Join bouts of one activity whose break is shorter than TURN_MAX_S: for running, a turnaround
    (counted; short walking bits inside it belong to the turn); for walking, a missed step or a stop."""
    merged: list[tuple[bool, np.ndarray, int]] = []
    for is_run, idx in raw:
        j = len(merged) - 1
        if is_run:
            while j >= 0 and not merged[j][0] and time_s[idx[0]] - time_s[merged[j][1][0]] < TURN_MAX_S:
                j -= 1
        if j >= 0 and merged[j][0] == is_run and time_s[idx[0]] - time_s[merged[j][1][-1]] < TURN_MAX_S:
            joined = np.concatenate([merged[j][1]] + [m[1] for m in merged[j + 1:]] + [idx])
            merged[j:] = [(is_run, joined, merged[j][2] + int(is_run))]
            continue
        merged.append((is_run, idx, 0))
    return merged
