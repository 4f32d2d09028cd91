"""Sessions from a foot pod's cadence file (sensors.cadence): the steps its readings imply, in the shape
`analyze` returns, so reports, history and trends take a cadence file like any recording.

Each reading holds from its time until the next reading (the last one for one nominal period); the steps
of that stretch are its cadence times its length, placed evenly, so a reading of 180 steps/min over 1 s
gives 3 steps at 180 steps/min. No steps are placed across a gap (a pause longer than three periods). A
reading's `running` flag is its steps' walk/run call (not stated: running). There is no acceleration,
so impact, contact and flight stay empty.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sensors.cadence import CadenceTrack, is_cadence_file, load_cadence

from .analysis import STEP_COLUMNS, Analysis, Summary
from .bouts import find_bouts
from .placement import params_for
from .steps import MAX_STEP_INTERVAL_S

NO_IMPACT = "no acceleration: impact not available"
"""What reports and summaries say where a session from a cadence file has no impact."""
NO_IMPACT_SENTENCE = "No acceleration: impact not available (a cadence file from a foot pod)."
"""The same, as the report's impact finding and note."""
CADENCE_NOTE = f"a cadence file (foot pod): steps placed from the reported cadence; {NO_IMPACT}"


def analyze_cadence(track: CadenceTrack) -> Analysis:
    """The steps, bouts and summary a cadence track implies (impact, contact and flight empty)."""
    steps = cadence_steps(track)
    bouts = find_bouts(steps)
    running = steps["running"].to_numpy(dtype=bool)
    basis = steps[running] if running.any() else steps
    gaps = track.gaps or []
    summary = Summary(
        step_count=len(steps), duration_s=track.duration_s,
        running_duration_s=float(steps.loc[running, "interval_s"].sum()),
        cadence_spm=float(basis["cadence_spm"].median()) if len(basis) else float("nan"),
        impact_g_median=float("nan"), impact_g_p90=float("nan"), contact_ms_median=float("nan"),
        flight_ms_median=float("nan"), clipped_step_count=0, running_step_count=int(running.sum()),
        running_interval_count=int((bouts["activity"] == "run").sum()), turn_count=int(bouts["turns"].sum()),
        estimated_step_count=0, placement=track.placement, sampling_rate_hz=float(track.sampling_rate_hz),
        gap_count=len(gaps), gap_duration_s=float(sum(b - a for a, b in gaps)), notes=[CADENCE_NOTE])
    return Analysis(steps=steps, summary=summary, params=params_for(track.placement), bouts=bouts)


def cadence_steps(track: CadenceTrack) -> pd.DataFrame:
    """One row per implied step, columns STEP_COLUMNS (foot 'either'; impact, contact and flight empty)."""
    period_s = 1.0 / track.sampling_rate_hz if np.isfinite(track.sampling_rate_hz) else 1.0
    ends = np.append(track.time_s[1:], track.time_s[-1] + period_s)
    ends = np.where(ends - track.time_s > 3.0 * period_s, track.time_s + period_s, ends)   # not across a gap
    segment = np.concatenate([[0], np.cumsum(track.time_s[1:] > ends[:-1] + 1e-9)])
    rate_hz = track.cadence_spm / 60.0
    parts = []
    for seg in np.unique(segment):
        i = np.flatnonzero(segment == seg)
        cum = np.concatenate([[0.0], np.cumsum(rate_hz[i] * (ends[i] - track.time_s[i]))])
        k = np.arange(1, int(np.floor(cum[-1] + 1e-9)) + 1)
        which = np.searchsorted(cum, k - 1e-9, side="left") - 1         # the reading each step falls in
        time_s = track.time_s[i][which] + (k - cum[which]) / rate_hz[i][which]
        interval = np.diff(time_s, prepend=np.nan)
        interval[interval > MAX_STEP_INTERVAL_S] = np.nan
        parts.append(pd.DataFrame({"time_s": time_s, "interval_s": interval,
                                   "cadence_spm": track.cadence_spm[i][which],
                                   "running": np.nan_to_num(track.running[i][which], nan=1.0) > 0.5}))
    steps = pd.concat(parts, ignore_index=True)
    n = len(steps)
    steps["foot"], steps["estimated"], steps["clipped"] = "either", np.zeros(n, bool), np.zeros(n, bool)
    for column in ("impact_g", "contact_ms", "flight_ms"):
        steps[column] = np.full(n, np.nan)
    return steps[list(STEP_COLUMNS)].astype({"estimated": bool, "clipped": bool, "running": bool,
                                             "time_s": float, "interval_s": float, "cadence_spm": float})


def load_session(path: Path, load_recording) -> tuple:
    """(track, analysis) of a cadence file, else (recording, analysis) of `load_recording(path)` analysed."""
    if is_cadence_file(path):
        track = load_cadence(path)
        return track, analyze_cadence(track)
    from .analysis import analyze

    recording = load_recording(path)
    return recording, analyze(recording)
