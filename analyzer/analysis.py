"""`analyze(recording)`: every step, cadence and landing impact of a run."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from sensors import Recording
from sensors.errors import InputError
from sensors.recording import PLACEMENTS, check_placement

from .placement import DetectorParams, params_for
from .placement_auto import contradiction, guess_placement
from .preprocess import segments
from .bouts import BOUT_COLUMNS, find_bouts
from .direction import running_direction, travel
from .steps import MAX_STEP_INTERVAL_S, Contacts, detect

MIN_ANALYSIS_S = 2.0
"""Shorter recordings cannot show a period (a few steps at the slowest walk)."""
RATE_TOLERANCE = 0.98
"""Sensors' real rates differ from their nominal ones by a percent or so."""
MIN_SEGMENT_S = 1.0
"""Gap-free stretches shorter than this are skipped: too short to see a step's rise and peak."""
IMPACT_WINDOW_S = 0.1
"""Impact = peak resultant in the first 100 ms after contact (docs/metrics.md; the impact transient and
the peak tibial acceleration occur within it: Sheerin et al. 2020)."""
CADENCE_SMOOTH_STEPS = 5

STEP_COLUMNS = ("time_s", "foot", "estimated", "interval_s", "cadence_spm", "impact_g", "clipped", "contact_ms",
                "flight_ms", "running")
CLIP_PLATEAU_SAMPLES = 3
"""Samples sharing the extreme value of an axis that mark a saturated sensor (when its range is not given)."""


@dataclass
class Summary:
    """Whole-recording figures. Cadence and impact are taken over running steps (all steps if none ran).
    direction: of the running bouts, detected from the signal (analyzer/direction.py); its confidence is the
    share of steps that agree, direction_basis says what the sensor's forward axis was taken from."""

    step_count: int
    duration_s: float
    running_duration_s: float
    cadence_spm: float
    impact_g_median: float
    impact_g_p90: float
    contact_ms_median: float
    flight_ms_median: float
    clipped_step_count: int
    running_step_count: int
    running_interval_count: int
    turn_count: int
    estimated_step_count: int
    placement: str
    sampling_rate_hz: float
    gap_count: int
    gap_duration_s: float
    direction: str = "unknown"
    direction_confidence: float | None = None
    direction_basis: str = ""
    placement_source: str = "stated"
    notes: list[str] = field(default_factory=list)


@dataclass
class Analysis:
    """The result of `analyze`: `.steps` (one row per foot contact, columns in STEP_COLUMNS), `.bouts` (one
    row per running interval or walk, analyzer/bouts.py) and `.summary`.

    steps columns: time_s (initial contact, s from recording start), foot ('sensor' = the instrumented leg,
    'other' for a shank/foot sensor's other leg; for body-worn sensors 'left' or 'right' where the step's side
    was attributed (analyzer/direction.py), else 'either'), estimated (bool: placed at
    mid-stride, no visible event), interval_s (since the previous contact; empty after a gap or pause),
    cadence_spm (120 / the time since the contact before the previous one: steps per minute over the last
    stride, which cancels left/right asymmetry), impact_g (peak resultant in g over 100 ms after contact, gravity included;
    empty for the other leg of a shank/foot sensor), clipped (bool: the sensor saturated within the impact
    window, so impact_g is a lower bound), contact_ms and flight_ms (running contact time and the flight
    that follows it, where the placement shows them: sacrum, chest; empty elsewhere), running (bool).
    """

    steps: pd.DataFrame
    summary: Summary
    params: DetectorParams
    bouts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({c: [] for c in BOUT_COLUMNS}))

    def to_dict(self) -> dict:
        return {"summary": _finite(asdict(self.summary)), "bouts": _records(self.bouts),
                "steps": _records(self.steps), "detector": asdict(self.params)}

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)


def _records(frame: pd.DataFrame) -> list[dict]:
    return [_finite(r) for r in frame.astype(object).where(frame.notna(), None).to_dict(orient="records")]


def _finite(d: dict) -> dict:
    """JSON has no NaN: missing values become null."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else
                (v.item() if isinstance(v, np.generic) else v)) for k, v in d.items()}


def analyze(recording: Recording, placement: str | None = None, **detector_overrides) -> Analysis:
    """Detect every foot contact of `recording` and measure cadence and landing impact.

    `placement` defaults to the recording's; 'auto', or none anywhere, reads it from the signal
    (analyzer/placement_auto.py), and a stated one the signal contradicts gets a note. `detector_overrides`
    replace fields of the placement's `DetectorParams` (e.g. `event_lowpass_hz=12`).
    """
    source = recording.metadata.get("source_file")
    if len(recording) < 2 or recording.duration_s < MIN_ANALYSIS_S:
        raise InputError("recording too short to analyse", path=source,
                         found=f"{recording.duration_s:.2f} s", expected=f"at least {MIN_ANALYSIS_S:g} s")
    parts = segments(recording, MIN_SEGMENT_S)
    placement, placement_source, notes = _placement(recording, placement, source, parts)
    params = params_for(placement, **detector_overrides)
    fs = float(recording.sampling_rate_hz)
    if fs < RATE_TOLERANCE * params.min_sampling_rate_hz:  # a nominal 25 Hz sensor may read 24.9 Hz
        raise InputError(f"sampling rate too low for a {placement} sensor", path=source,
                         found=f"{fs:.2f} Hz", expected=f"at least {params.min_sampling_rate_hz:g} Hz")
    found = [detect(seg, params) for seg in parts]
    steps = _step_table(recording, found)
    if not len(steps):
        notes.append("no steps found: the sensor looks still (standing or not worn)")
    gaps = recording.gaps or []
    gap_duration_s = float(sum(b - a for a, b in gaps))
    if steps["clipped"].any():
        notes.append(f"{int(steps['clipped'].sum())} step(s) hit the sensor's range: their impact is a lower bound")
    if gaps:
        notes.append(f"{len(gaps)} gap(s) in the data, {gap_duration_s:.1f} s in all: no steps counted across them")
    bouts = find_bouts(steps)
    moves = travel(recording, parts, steps, bouts, params)
    steps["foot"] = moves.foot
    calls = moves.calls
    bouts["direction"] = [c.direction for c in calls]
    bouts["direction_confidence"] = [np.nan if c.confidence is None else c.confidence for c in calls]
    bouts["direction_basis"] = [c.basis for c in calls]
    overall = running_direction(bouts)
    running = steps["running"].to_numpy(dtype=bool)
    basis = steps[running] if running.any() else steps
    impacts = basis["impact_g"].dropna()
    summary = Summary(
        step_count=int(len(steps)),
        duration_s=recording.duration_s,
        running_duration_s=float(steps.loc[running, "interval_s"].sum()),
        cadence_spm=float(basis["cadence_spm"].median()) if len(basis) else float("nan"),
        impact_g_median=float(impacts.median()) if len(impacts) else float("nan"),
        impact_g_p90=float(impacts.quantile(0.9)) if len(impacts) else float("nan"),
        contact_ms_median=float(basis["contact_ms"].median()) if len(basis) else float("nan"),
        flight_ms_median=float(basis["flight_ms"].median()) if len(basis) else float("nan"),
        clipped_step_count=int(steps["clipped"].sum()),
        running_step_count=int(running.sum()),
        running_interval_count=int((bouts["activity"] == "run").sum()),
        turn_count=int(bouts["turns"].sum()),
        estimated_step_count=int(steps["estimated"].sum()),
        placement=placement,
        placement_source=placement_source,
        sampling_rate_hz=fs,
        gap_count=len(gaps),
        gap_duration_s=gap_duration_s,
        direction=overall.direction,
        direction_confidence=overall.confidence,
        direction_basis=overall.basis,
        notes=notes,
    )
    return Analysis(steps=steps, summary=summary, params=params, bouts=bouts)


def _placement(recording: Recording, placement: str | None, source, parts) -> tuple[str, str, list[str]]:
    """The placement to analyse with, where it came from and any note: the stated one (the argument, else
    the recording's), checked against the signal; else ('auto' or none stated) the one the signal reads."""
    stated = None if placement == "auto" else placement or recording.placement
    guess = guess_placement(recording, parts)
    if stated is not None:
        check_placement(stated)
        note = contradiction(stated, guess)
        return stated, "stated", [note] if note else []
    if guess.placement is None:
        raise InputError("the sensor placement is not known and the signal does not tell it", path=source,
                         found=guess.describe(), expected="--placement " + "|".join(PLACEMENTS))
    return guess.placement, f"detected from the signal: {guess.describe()}", []


def _step_table(rec: Recording, found: list[Contacts]) -> pd.DataFrame:
    rows = []
    for contacts in found:
        interval = np.diff(contacts.ic_s, prepend=np.nan)
        interval[interval > MAX_STEP_INTERVAL_S] = np.nan
        # cadence over the last two steps (one stride): left/right asymmetry of step times cancels out
        stride = np.full(len(contacts.ic_s), np.nan)
        stride[2:] = contacts.ic_s[2:] - contacts.ic_s[:-2]
        stride[np.isnan(interval) | np.isnan(np.roll(interval, 1))] = np.nan
        toe_off = contacts.toe_off_s if contacts.toe_off_s is not None else np.full(len(contacts.ic_s), np.nan)
        next_interval = np.append(interval[1:], np.nan)
        rows.append(pd.DataFrame({
            "contact_ms": 1000.0 * (toe_off - contacts.ic_s),
            "flight_ms": 1000.0 * (contacts.ic_s + next_interval - toe_off),
            "time_s": contacts.ic_s,
            "own_leg": contacts.own_leg,
            "estimated": contacts.estimated,
            "walking": contacts.walking,
            "interval_s": interval,
            "cadence_spm": 120.0 / stride,
        }))
    frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        {"time_s": [], "own_leg": np.array([], bool), "estimated": np.array([], bool),
         "walking": np.array([], bool), "interval_s": [],
         "cadence_spm": [], "contact_ms": [], "flight_ms": []})
    single_leg = (~frame["own_leg"]).any()
    frame["foot"] = np.where(frame["own_leg"], "sensor" if single_leg else "either", "other")
    frame["impact_g"], frame["clipped"] = _impacts(rec, frame["time_s"].to_numpy(),
                                                   frame["own_leg"].to_numpy(dtype=bool))
    # the detector's walk/run call per step, by majority over 5 steps so one odd step does not split a bout
    votes = (~frame["walking"].astype(bool)).astype(float)
    frame["running"] = (votes.rolling(CADENCE_SMOOTH_STEPS, center=True, min_periods=1).mean() > 0.5).to_numpy(dtype=bool)
    return frame[list(STEP_COLUMNS)].astype({"estimated": bool, "clipped": bool, "running": bool})


def sensor_range_g(rec: Recording) -> float:
    """The sensor's range: `metadata['range_g']` when known, else an axis extreme that several samples sit at
    (a saturated plateau); infinity when nothing shows saturation."""
    if rec.metadata.get("range_g"):
        return float(rec.metadata["range_g"])
    if not len(rec):
        return float("inf")
    extreme = float(np.abs(rec.acc_g).max())
    at_extreme = int((np.abs(rec.acc_g) >= extreme - 1e-9).sum())
    return extreme if at_extreme >= CLIP_PLATEAU_SAMPLES else float("inf")


def _impacts(rec: Recording, ic_s: np.ndarray, own_leg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Peak resultant (g) of the recorded samples within IMPACT_WINDOW_S after each own-leg contact, and
    whether any axis sat at the sensor's range in that window."""
    magnitude = np.linalg.norm(rec.acc_g, axis=1)
    saturated = (np.abs(rec.acc_g) >= 0.999 * sensor_range_g(rec)).any(axis=1)
    lo = np.searchsorted(rec.time_s, ic_s, side="left")
    hi = np.searchsorted(rec.time_s, ic_s + IMPACT_WINDOW_S, side="right")
    impact = np.full(len(ic_s), np.nan)
    clipped = np.zeros(len(ic_s), dtype=bool)
    for i in np.flatnonzero(own_leg & (hi > lo)):
        impact[i] = magnitude[lo[i]:hi[i]].max()
        clipped[i] = saturated[lo[i]:hi[i]].any()
    return impact, clipped
