"""Direction of travel per bout: forward or backward, with a confidence.

The cue is braking (SCIENCE.md section 3.4, cue 2): every contact slows the body in its direction of travel.
At the trunk the horizontal acceleration over the first part of stance points against the travel (Cavagna
2012 measured the brake in backward running too; Zijlstra & Hof 2003 show it in walking); a shank or foot
decelerates its swing just before contact, again against the travel. A runner going backward travels
toward their own back, so in the sensor's frame the cue flips.

Sensors are worn at any angle, so the body's forward axis in the sensor frame must come from somewhere:
1. a stated axis (`Recording.metadata['forward_axis']`, e.g. '+x': the sensor axis that points forward of
   the body; `--forward-axis` on the command line), or
2. the recording's first walking bout, taken as forward (a warm-up walk). The sensor must not move on the
   body between that walk and the run.
Each step gives a cue vector (sensor frame, gravity and the slow trend removed, horizontal part); a bout's
direction is the majority sign of its steps' cues along the forward axis, and its confidence the share of
steps that agree. For body-worn sensors each step's cue is averaged over a stride, which cancels an arm's or
thigh's swing (it alternates step to step). Wrist sensors are not classified: the forearm's swing is larger
than the braking it receives (the simulator reads backward runs there as forward).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sensors import Recording
from sensors.errors import InputError

from .placement import DetectorParams
from .preprocess import Segment, lowpass

UNKNOWN = "unknown"
GRAVITY_LOWPASS_HZ = 0.5
"""Below every stride frequency (>= 0.8 Hz when walking): what is left is gravity and posture."""
MIN_STEPS = 8
"""Fewer steps with a cue leave a bout's direction unknown (a sign test needs 8 of 8 for p < 0.01)."""
MIN_AGREEMENT = 0.75
"""A bout whose steps agree less than this is 'unknown': the cue is not consistent (assumption)."""
AXES = {"x": 0, "y": 1, "z": 2}


@dataclass(frozen=True)
class DirectionCall:
    """Direction of one bout, the share of its steps that agree (None when unknown) and why."""

    direction: str
    confidence: float | None
    basis: str


def parse_forward_axis(text: str | None) -> np.ndarray | None:
    """'+x', '-z', ... -> unit vector in the sensor frame; None for None or ''."""
    if not text:
        return None
    match = re.fullmatch(r"([+-]?)([xyz])", str(text).strip().lower())
    if match is None:
        raise InputError("unknown forward axis", found=repr(text), expected="+x, -x, +y, -y, +z or -z")
    vector = np.zeros(3)
    vector[AXES[match.group(2)]] = -1.0 if match.group(1) == "-" else 1.0
    return vector


def step_cues(segments: list[Segment], steps: pd.DataFrame, params: DetectorParams) -> np.ndarray:
    """(N, 3) cue vector per step (NaN where it has none): mean horizontal acceleration (g, sensor frame)
    over [IC + a*T, IC + b*T], T the step's interval (the local step period), (a, b) the placement's
    running or walking braking window."""
    cues = np.full((len(steps), 3), np.nan)
    time_s = steps["time_s"].to_numpy(dtype=float)
    period_s = steps["interval_s"].to_numpy(dtype=float)
    running = steps["running"].to_numpy(dtype=bool)
    start = np.where(running, params.braking_window_steps[0], params.walking_braking_window_steps[0])
    end = np.where(running, params.braking_window_steps[1], params.walking_braking_window_steps[1])
    usable = (~steps["estimated"].to_numpy(dtype=bool)) & (steps["foot"].to_numpy() != "other") & np.isfinite(period_s)
    for seg in segments:
        gravity = np.column_stack([lowpass(seg.acc_g[:, k], GRAVITY_LOWPASS_HZ, seg.sampling_rate_hz) for k in range(3)])
        up = gravity / np.maximum(np.linalg.norm(gravity, axis=1, keepdims=True), 1e-9)
        moving = seg.acc_g - gravity
        horizontal = moving - (moving * up).sum(axis=1, keepdims=True) * up
        mine = np.flatnonzero(usable & (time_s >= seg.time_s[0]) & (time_s <= seg.time_s[-1]))
        lo = np.searchsorted(seg.time_s, time_s[mine] + start[mine] * period_s[mine])
        hi = np.searchsorted(seg.time_s, time_s[mine] + end[mine] * period_s[mine])
        for i, a, b in zip(mine, lo, hi):
            if b > a:
                cues[i] = horizontal[a:b].mean(axis=0)
    return cues


def classify_bouts(recording: Recording, segments: list[Segment], steps: pd.DataFrame, bouts: pd.DataFrame,
                   params: DetectorParams) -> list[DirectionCall]:
    """One DirectionCall per row of `bouts`."""
    if params.braking_window_steps is None:
        return [DirectionCall(UNKNOWN, None, "not measured at this placement (the forearm's swing hides "
                                             "the braking)")] * len(bouts)
    cues = step_cues(segments, steps, params)
    if not params.single_leg:
        # a body-worn limb (upper arm) swings one way at one step and back at the next; the braking does not
        # alternate, so each step's cue is averaged with the previous step's (one stride)
        cues = (cues + np.vstack([np.full((1, 3), np.nan), cues[:-1]])) / 2
    time_s = steps["time_s"].to_numpy(dtype=float)
    members = [np.flatnonzero((time_s >= b.start_s) & (time_s <= b.end_s) & np.isfinite(cues[:, 0]))
               for b in bouts.itertuples()]
    stated = parse_forward_axis(recording.metadata.get("forward_axis"))
    if stated is not None:
        # the cue points against the travel: along the body's forward axis it is negative going forward
        forward, basis, calibration = -stated, "stated forward axis", None
    else:
        calibration = next((i for i, b in enumerate(bouts.itertuples())
                            if b.activity == "walk" and len(members[i]) >= MIN_STEPS), None)
        if calibration is None:
            return [DirectionCall(UNKNOWN, None, "no walk to calibrate the sensor's forward axis "
                                                 "(state it with --forward-axis)")] * len(bouts)
        mean = cues[members[calibration]].mean(axis=0)
        forward = mean / max(float(np.linalg.norm(mean)), 1e-12)
        basis = f"calibrated on the walk at {bouts.start_s.iloc[calibration]:.0f} s (taken as forward)"
    calls = []
    for i, idx in enumerate(members):
        if i == calibration:
            calls.append(DirectionCall("forward", None, "the calibration walk: taken as forward"))
            continue
        if len(idx) < MIN_STEPS:
            calls.append(DirectionCall(UNKNOWN, None, f"fewer than {MIN_STEPS} steps with a cue"))
            continue
        along = cues[idx] @ forward
        share_forward = float(np.mean(along > 0))
        direction = "forward" if share_forward >= 0.5 else "backward"
        agreement = max(share_forward, 1.0 - share_forward)
        if agreement < MIN_AGREEMENT:
            calls.append(DirectionCall(UNKNOWN, agreement, f"steps disagree ({agreement:.0%} one way)"))
        else:
            calls.append(DirectionCall(direction, agreement, basis))
    return calls


def running_direction(bouts: pd.DataFrame) -> DirectionCall:
    """The direction of the running bouts, its confidence (their agreement weighted by their steps) and why;
    unknown when none is known or they disagree."""
    run = bouts[bouts["activity"] == "run"]
    known = run[run["direction"] != UNKNOWN]
    if run.empty:
        return DirectionCall(UNKNOWN, None, "no running")
    if known.empty:
        return DirectionCall(UNKNOWN, None, str(run["direction_basis"].iloc[0]))
    if known["direction"].nunique() > 1:
        return DirectionCall(UNKNOWN, None, "running bouts differ: see each bout")
    weights = known["step_count"].to_numpy(dtype=float)
    return DirectionCall(str(known["direction"].iloc[0]),
                         float(np.average(known["direction_confidence"], weights=weights)),
                         f"{len(known)} of {len(run)} running bout(s), {known['direction_basis'].iloc[0]}")
