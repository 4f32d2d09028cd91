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
thigh's swing (it alternates step to step). A running wrist reads the push-off instead (late stance drives the
body along its travel; Cavagna 2012 measured the push in backward running too): at contact the forearm is at
an extreme of its swing and its own acceleration swamps the brake it receives.
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


@dataclass(frozen=True)
class _Frame:
    """One segment's running sums of the horizontal acceleration (g, sensor frame; gravity and the trend
    below GRAVITY_LOWPASS_HZ removed) and of the unit 'up': any window's mean is a difference of two rows."""

    time_s: np.ndarray
    horizontal_sum: np.ndarray
    up_sum: np.ndarray

    def mean(self, sums: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Mean over samples [lo, hi) of the series whose running sums are `sums` (hi > lo)."""
        before = np.where(lo[:, None] > 0, sums[np.maximum(lo - 1, 0)], 0.0)
        return (sums[hi - 1] - before) / (hi - lo)[:, None]


def _frames(segments: list[Segment]) -> list[_Frame]:
    out = []
    for seg in segments:
        # in place where possible: an hour at 200 Hz is 17 MB per three-axis array
        up = lowpass(seg.acc_g, GRAVITY_LOWPASS_HZ, seg.sampling_rate_hz, axis=0)
        moving = seg.acc_g - up
        up /= np.maximum(np.linalg.norm(up, axis=1, keepdims=True), 1e-9)
        moving -= np.einsum("ij,ij->i", moving, up)[:, None] * up
        out.append(_Frame(seg.time_s, np.cumsum(moving, axis=0, out=moving), np.cumsum(up, axis=0, out=up)))
    return out


def _window_means(frames: list[_Frame], steps: pd.DataFrame, start: np.ndarray, end: np.ndarray,
                  usable: np.ndarray, period_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per step, the mean horizontal acceleration and the mean unit 'up' over [IC + start*T, IC + end*T],
    T its `period_s`; NaN rows where a step is not `usable` or has no sample there."""
    horizontal_mean = np.full((len(steps), 3), np.nan)
    up_mean = np.full((len(steps), 3), np.nan)
    time_s = steps["time_s"].to_numpy(dtype=float)
    usable = usable & np.isfinite(period_s)
    for frame in frames:
        mine = np.flatnonzero(usable & (time_s >= frame.time_s[0]) & (time_s <= frame.time_s[-1]))
        lo = np.searchsorted(frame.time_s, time_s[mine] + start[mine] * period_s[mine])
        hi = np.searchsorted(frame.time_s, time_s[mine] + end[mine] * period_s[mine])
        ok = hi > lo
        mine, lo, hi = mine[ok], lo[ok], hi[ok]
        horizontal_mean[mine] = frame.mean(frame.horizontal_sum, lo, hi)
        up_mean[mine] = frame.mean(frame.up_sum, lo, hi)
    return horizontal_mean, up_mean


def _observed_intervals_s(steps: pd.DataFrame) -> np.ndarray:
    """Per step of a body-worn sensor, the time since the previous contact the signal showed (not an estimated
    one): the unit of its cue windows. Where every other step of a wrist walk is hidden (estimated), that is a
    stride, as it was when the windows were set."""
    time_s = steps["time_s"].to_numpy(dtype=float)
    observed = ~steps["estimated"].to_numpy(dtype=bool)
    previous_s = pd.Series(np.where(observed, time_s, np.nan)).shift(1).ffill().to_numpy()
    out = time_s - previous_s
    return np.where(np.isfinite(steps["interval_s"].to_numpy(dtype=float)), out, np.nan)


def step_cues(frames: list[_Frame], steps: pd.DataFrame, params: DetectorParams) -> np.ndarray:
    """(N, 3) cue per step, pointing against the travel (NaN where it has none): the mean horizontal
    acceleration over the placement's braking window, or turned around over its running propulsion window."""
    running = steps["running"].to_numpy(dtype=bool)
    pushing = params.propulsion_window_steps is not None
    run_window = params.propulsion_window_steps if pushing else params.braking_window_steps
    start = np.where(running, run_window[0], params.walking_braking_window_steps[0])
    end = np.where(running, run_window[1], params.walking_braking_window_steps[1])
    usable = (~steps["estimated"].to_numpy(dtype=bool)) & (steps["foot"].to_numpy() != "other")
    period_s = steps["interval_s"].to_numpy(dtype=float) if params.single_leg else _observed_intervals_s(steps)
    cues, _ = _window_means(frames, steps, start, end, usable, period_s)
    if pushing:
        # the push-off drives the body along its travel: turned around, it reads like a brake
        cues[running] *= -1.0
    if not params.single_leg:
        # a body-worn limb (upper arm) swings one way at one step and back at the next; the braking does not
        # alternate, so each step's cue is averaged with the previous step's (one stride), or, where that
        # step has none (an estimated step), with the one before it
        previous = pd.DataFrame(cues).shift(1).ffill(limit=1).to_numpy()
        cues = (cues + previous) / 2
    return cues


@dataclass
class Travel:
    """Per bout, its DirectionCall; per step, `foot` with 'left'/'right' where the side was attributed."""

    calls: list[DirectionCall]
    foot: np.ndarray


def travel(recording: Recording, segments: list[Segment], steps: pd.DataFrame, bouts: pd.DataFrame,
           params: DetectorParams) -> Travel:
    """Direction of each bout and, for body-worn sensors whose forward axis is known, the side of each step."""
    foot = steps["foot"].to_numpy(dtype=object).copy()
    if params.braking_window_steps is None and params.propulsion_window_steps is None:
        why = "not measured at this placement"
        return Travel([DirectionCall(UNKNOWN, None, why)] * len(bouts), foot)
    frames = _frames(segments)
    cues = step_cues(frames, steps, params)
    time_s = steps["time_s"].to_numpy(dtype=float)
    in_bout = [(time_s >= b.start_s) & (time_s <= b.end_s) for b in bouts.itertuples()]
    members = [np.flatnonzero(inside & np.isfinite(cues[:, 0])) for inside in in_bout]
    stated = parse_forward_axis(recording.metadata.get("forward_axis"))
    calibration = None
    if stated is not None:
        body_forward, basis = stated, "stated forward axis"
    else:
        calibration = next((i for i, b in enumerate(bouts.itertuples())
                            if b.activity == "walk" and len(members[i]) >= MIN_STEPS), None)
        if calibration is None:
            why = "no walk to calibrate the sensor's forward axis (state it with --forward-axis)"
            return Travel([DirectionCall(UNKNOWN, None, why)] * len(bouts), foot)
        mean = cues[members[calibration]].mean(axis=0)
        # the walk brakes against its (forward) travel: the body's forward axis is opposite its mean cue
        body_forward = -mean / max(float(np.linalg.norm(mean)), 1e-12)
        basis = f"calibrated on the walk at {bouts.start_s.iloc[calibration]:.0f} s (taken as forward)"
    calls = [DirectionCall("forward", None, "the calibration walk: taken as forward") if i == calibration
             else _call(cues[idx] @ -body_forward, basis) for i, idx in enumerate(members)]
    if not params.single_leg:
        sides = step_sides(frames, steps, body_forward)
        for inside in in_bout:
            if _alternation(sides[inside]) >= MIN_ALTERNATION:
                foot[inside & (sides != "")] = sides[inside & (sides != "")]
    return Travel(calls, foot)


def _call(along_forward_cue: np.ndarray, basis: str) -> DirectionCall:
    """A bout's call from its steps' cues along the braking cue of forward travel (> 0: braking forward)."""
    if len(along_forward_cue) < MIN_STEPS:
        return DirectionCall(UNKNOWN, None, f"fewer than {MIN_STEPS} steps with a cue")
    share_forward = float(np.mean(along_forward_cue > 0))
    agreement = max(share_forward, 1.0 - share_forward)
    if agreement < MIN_AGREEMENT:
        return DirectionCall(UNKNOWN, agreement, f"steps disagree ({agreement:.0%} one way)")
    return DirectionCall("forward" if share_forward >= 0.5 else "backward", agreement, basis)


SIDE_WINDOW_STEPS = (0.0, 0.5)
"""The medio-lateral push is read over the first half of the step after contact: inside stance whether
walking (stance 1.2 steps) or running (0.7)."""
MIN_ALTERNATION = 0.8
"""Sides are kept for a bout only when at least this share of consecutive steps alternate left/right."""


def step_sides(frames: list[_Frame], steps: pd.DataFrame, body_forward: np.ndarray) -> np.ndarray:
    """'left', 'right' or '' per step of a body-worn sensor. During stance the ground pushes the body
    medially, toward the other side (the medio-lateral ground reaction force: Winter, Biomechanics and
    Motor Control of Human Movement): a push to the body's right means the left foot is down. Left is
    up x forward, with up from gravity and forward the body's forward axis (stated or calibrated)."""
    n = len(steps)
    start, end = np.full(n, SIDE_WINDOW_STEPS[0]), np.full(n, SIDE_WINDOW_STEPS[1])
    horizontal, up = _window_means(frames, steps, start, end, ~steps["estimated"].to_numpy(dtype=bool),
                                   _observed_intervals_s(steps))
    up = up / np.maximum(np.linalg.norm(up, axis=1, keepdims=True), 1e-9)
    forward = body_forward - (up @ body_forward)[:, None] * up
    left = np.cross(up, forward)
    push_left = (horizontal * left).sum(axis=1)
    return np.where(np.isnan(push_left), "", np.where(push_left < 0, "left", "right")).astype(object)


def _alternation(sides: np.ndarray) -> float:
    """Share of consecutive attributed steps whose sides differ (0 with fewer than MIN_STEPS)."""
    known = sides[sides != ""]
    if len(known) < MIN_STEPS:
        return 0.0
    return float(np.mean(known[1:] != known[:-1]))


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
