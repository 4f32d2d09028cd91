"""Session-level figures for guidance, reports, history and trends: the steps a summary value may use
(running, after the warm-up) and their medians, with the number of steps behind each value.

Why running steps after a warm-up only: retraining protocols start with a warm-up (5 minutes in Wood & Kipp
2014) and walk breaks are not running (SCIENCE.md section 5.2); `warmup_s` comes from
analyzer/guidance_rules.json unless given.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from sensors import Recording
from sensors.errors import InputError

from .analysis import Analysis

DIRECTIONS = ("forward", "backward")
UNKNOWN_DIRECTION = "unknown"


@dataclass(frozen=True)
class SessionStats:
    """What one session contributes to guidance and history. Medians are over running steps after the
    warm-up; `*_steps` is how many steps each median rests on."""

    placement: str
    direction: str
    direction_source: str
    sampling_rate_hz: float
    duration_s: float
    warmup_s: float
    step_count: int
    running_duration_s: float
    impact_steps: int
    impact_g_median: float
    impact_g_p90: float
    cadence_steps: int
    cadence_spm: float
    clipped_steps: int

    def to_dict(self) -> dict:
        return asdict(self)


def direction_of(recording: Recording | None = None, stated: str | None = None, analysis=None) -> tuple[str, str]:
    """The running direction and where it came from: `stated` (the command line's `--direction`), else the
    direction `analysis` detected from the signal (its summary's `direction`, what `retrorun analyze`
    shows), else unknown. Returns (direction, source).

    The recording's metadata is not read (a `# direction:` line or a simulator's settings included): it
    records provenance and does not steer the analysis (docs/recording-format.md), so every command
    calls the same direction for the same file. `recording` is accepted for the callers that pass it."""
    if stated:
        if stated not in DIRECTIONS:
            raise InputError("unknown direction", found=repr(stated), expected="forward or backward")
        return stated, "stated"
    if analysis is not None and analysis.summary.direction in DIRECTIONS:
        return analysis.summary.direction, f"detected, confidence {analysis.summary.direction_confidence:.2f}"
    return UNKNOWN_DIRECTION, "not stated (use --direction) and not detected"


def summary_mask(steps: pd.DataFrame, warmup_s: float) -> np.ndarray:
    """Steps a summary value may use: running, and at or after `warmup_s` from the recording start."""
    return (steps["running"].to_numpy(dtype=bool) & (steps["time_s"].to_numpy(dtype=float) >= warmup_s))


def session_stats(analysis: Analysis, direction: str, direction_source: str, warmup_s: float) -> SessionStats:
    """Summary values of one analysed recording, warm-up and walk breaks excluded."""
    steps = analysis.steps
    use = summary_mask(steps, warmup_s)
    impacts = steps.loc[use, "impact_g"].dropna().to_numpy(dtype=float)
    cadences = steps.loc[use, "cadence_spm"].dropna().to_numpy(dtype=float)
    s = analysis.summary
    return SessionStats(
        placement=s.placement, direction=direction, direction_source=direction_source,
        sampling_rate_hz=float(s.sampling_rate_hz), duration_s=float(s.duration_s), warmup_s=float(warmup_s),
        step_count=int(s.step_count),
        running_duration_s=float(steps.loc[use, "interval_s"].sum()),
        impact_steps=int(impacts.size),
        impact_g_median=_median(impacts), impact_g_p90=float(np.quantile(impacts, 0.9)) if impacts.size else float("nan"),
        cadence_steps=int(cadences.size), cadence_spm=_median(cadences),
        clipped_steps=int(steps.loc[use, "clipped"].sum()))


def _median(values: np.ndarray) -> float:
    return float(np.median(values)) if values.size else float("nan")
