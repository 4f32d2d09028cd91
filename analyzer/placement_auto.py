"""Where was the sensor worn? The placement read from the signal, for `--placement auto` and to check a
stated placement.

Four rotation-invariant features, each measured on windows of WINDOW_S where the wearer moves, with the
step period that the body-worn detector's period search finds (it finds the step at every placement):
- swing_ratio: log10 of the power of the sensor's orientation (the unit vector of its acceleration below
  6 Hz) at the stride frequency over its power at the step frequency. A limb swings once per stride; the
  trunk tilts alike at each step. Trunk sensors read about -1 to -2.6 (simulator; real sacral trials),
  limbs about -0.2 to +0.7 (simulator; real arm-band and pocket phones).
- step_symmetry: autocorrelation of the acceleration magnitude (5 Hz) at one step (Moe-Nilssen & Helbostad
  2004, step regularity): near 1 when both feet's contacts look alike (trunk, upper arm), low or negative
  for a sensor on one limb.
- peak_g: 99th percentile of the acceleration magnitude: a shank or foot takes the tibial shock
  (5-15 g running, SCIENCE.md section 6), a phone in a pocket 2-5 g, a wrist or arm 1.5-3 g.
- swing_deg: 90th percentile of the angle between the acceleration below 1 Hz and the posture (below
  0.3 Hz): how far the segment's orientation swings within a stride, turns and posture shifts left out.
Each window votes for a placement by the rules in `_vote` (running windows alone when there are any); the
recording's placement is the majority and its confidence the share of windows that agree. Sacrum and chest read alike (the detector treats them alike);
so do foot and shank at 50 Hz. The thresholds were set on simulated recordings of other seeds than the ones
scored (benchmarks/placement.py) with the real recordings' values in view (docs/validation.md).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sensors import Recording

from .placement import params_for
from .preprocess import Segment, lowpass, segments
from .steps import event_signals, local_period_s

WINDOW_S = 20.0
MIN_WINDOW_S = 4.0
"""Windows of 20 s, or the whole recording when shorter (at least 4 s: a dozen steps)."""
MOVING_STD_G = 0.1
"""A window whose acceleration magnitude varies less than this is standing still and does not vote."""
ORIENTATION_LOWPASS_HZ = 6.0
SWING_LOWPASS_HZ = 1.0
POSTURE_LOWPASS_HZ = 0.3
"""Posture: below the slowest stride (0.8 Hz walking); swing: up to a running stride's frequency."""
BAND_FRACTION = 0.15
"""The stride and step frequency bands are +-15 % around each (step-to-step variability is a few %)."""
MIN_CONFIDENCE = 0.6
"""Below this share of agreeing windows the placement is not claimed."""
RUNNING_MAX_STEP_S = 0.42
"""Steps faster than 143 a minute are running (walking rarely exceeds 135: Tudor-Locke et al. 2018)."""
MAX_WINDOWS = 12
"""Windows read from a long recording, spread evenly over it (bounds the time an hour-long run takes)."""
_STEP_FINDER = replace(params_for("sacrum"), min_sampling_rate_hz=0.0, toe_off_fraction=None)
"""The body-worn detector's period search finds the step at every placement."""


@dataclass(frozen=True)
class PlacementFeatures:
    swing_ratio: float
    step_symmetry: float
    peak_g: float
    swing_deg: float
    step_s: float


@dataclass(frozen=True)
class PlacementGuess:
    """The placement read from the signal (None when not claimed), the share of windows that agree, the
    votes per placement and the median features."""

    placement: str | None
    confidence: float
    votes: dict[str, int]
    features: PlacementFeatures | None

    def describe(self) -> str:
        if self.features is None:
            return "no moving stretch long enough to read the placement"
        f = self.features
        return (f"{self.confidence:.0%} of {sum(self.votes.values())} windows; swing ratio {f.swing_ratio:+.1f}, "
                f"step symmetry {f.step_symmetry:.2f}, peak {f.peak_g:.1f} g, swing {f.swing_deg:.0f} deg")


FAMILIES = {"shank": "leg", "foot": "leg", "sacrum": "trunk", "chest": "trunk", "wrist": "wrist",
            "phone_pocket": "phone", "phone_arm": "phone"}
"""Placements the signal cannot tell apart share a family; a stated placement is contradicted only by
another family."""


def guess_placement(recording: Recording, parts: list[Segment] | None = None) -> PlacementGuess:
    """Read the placement from the signal (see the module docstring). `parts`: the recording's gap-free
    segments when already made (preprocess.segments)."""
    windows = _windows(recording if parts is None else parts)
    return decide([window_features(w) for w in windows], float(recording.sampling_rate_hz))


def decide(features: list[PlacementFeatures | None], sampling_rate_hz: float) -> PlacementGuess:
    """The majority of the windows' votes. Running windows (steps faster than RUNNING_MAX_STEP_S) vote alone
    when there are any: the rules were set for running, and a walking trunk tilts at its stride too."""
    features = [f for f in features if f is not None]
    running = [f for f in features if f.step_s < RUNNING_MAX_STEP_S]
    features = running or features
    if not features:
        return PlacementGuess(None, 0.0, {}, None)
    votes: dict[str, int] = {}
    for f in features:
        choice = _vote(f, sampling_rate_hz)
        votes[choice] = votes.get(choice, 0) + 1
    winner = max(votes, key=votes.get)
    confidence = votes[winner] / len(features)
    median = PlacementFeatures(*np.median(np.array([[*vars(f).values()] for f in features]), axis=0))
    return PlacementGuess(winner if confidence >= MIN_CONFIDENCE else None, confidence, votes, median)


def contradiction(stated: str, guess: PlacementGuess) -> str | None:
    """A note when the signal confidently reads another family of placement than the stated one."""
    if guess.placement is None or FAMILIES[guess.placement] == FAMILIES[stated]:
        return None
    return (f"the signal looks like a {guess.placement} sensor, not {stated} as stated ({guess.describe()}): "
            "check --placement")


def _windows(source: Recording | list[Segment]) -> list[Segment]:
    parts = segments(source, MIN_WINDOW_S) if isinstance(source, Recording) else source
    out = []
    for seg in (p for p in parts if p.time_s[-1] - p.time_s[0] >= MIN_WINDOW_S):
        n = max(int(WINDOW_S * seg.sampling_rate_hz), 1)
        starts = range(0, max(len(seg.time_s) - n, 0) + 1, n) if len(seg.time_s) >= n else [0]
        out += [Segment(seg.time_s[a:a + n], seg.acc_g[a:a + n], seg.sampling_rate_hz) for a in starts]
    if len(out) > MAX_WINDOWS:
        out = [out[i] for i in np.linspace(0, len(out) - 1, MAX_WINDOWS).round().astype(int)]
    return out


def window_features(window: Segment) -> PlacementFeatures | None:
    """The features of one window, or None when it is still or shows no steady steps."""

    fs = window.sampling_rate_hz
    magnitude = window.magnitude_g
    if magnitude.std() < MOVING_STD_G:
        return None
    periodic = event_signals(window, _STEP_FINDER).periodic
    _, periods_s = local_period_s(periodic, fs, _STEP_FINDER)
    if not len(periods_s) or not np.isfinite(periods_s).any():
        return None
    step_s = float(np.nanmedian(periods_s))
    lag = int(round(step_s * fs))
    if not 0 < 2 * lag < len(magnitude):
        return None
    return PlacementFeatures(swing_ratio=_swing_ratio(window, step_s),
                             step_symmetry=_autocorrelation(lowpass(magnitude, 5.0, fs), lag),
                             peak_g=float(np.percentile(magnitude, 99)),
                             swing_deg=_swing_deg(window), step_s=step_s)


def _swing_ratio(window: Segment, step_s: float) -> float:
    fs = window.sampling_rate_hz
    acc = np.column_stack([lowpass(window.acc_g[:, k], ORIENTATION_LOWPASS_HZ, fs) for k in range(3)])
    unit = acc / np.maximum(np.linalg.norm(acc, axis=1, keepdims=True), 1e-9)
    unit -= unit.mean(axis=0)
    power = (np.abs(np.fft.rfft(unit * np.hanning(len(unit))[:, None], axis=0)) ** 2).sum(axis=1)
    freq_hz = np.fft.rfftfreq(len(unit), 1 / fs)

    def band(centre_hz: float) -> float:
        return float(power[np.abs(freq_hz - centre_hz) <= BAND_FRACTION * centre_hz].sum())

    return float(np.log10((band(0.5 / step_s) + 1e-12) / (band(1.0 / step_s) + 1e-12)))


def _autocorrelation(x: np.ndarray, lag: int) -> float:
    x = x - x.mean()
    return float(np.dot(x[:-lag], x[lag:]) / max(float(np.dot(x, x)), 1e-12))


def _swing_deg(window: Segment) -> float:
    fs = window.sampling_rate_hz
    slow = lowpass(window.acc_g, SWING_LOWPASS_HZ, fs, axis=0)
    # posture (a turn, a phone shifting) changes more slowly than a stride: measured against it, not the window
    posture = lowpass(window.acc_g, POSTURE_LOWPASS_HZ, fs, axis=0)
    unit = slow / np.maximum(np.linalg.norm(slow, axis=1, keepdims=True), 1e-9)
    base = posture / np.maximum(np.linalg.norm(posture, axis=1, keepdims=True), 1e-9)
    return float(np.percentile(np.degrees(np.arccos(np.clip((unit * base).sum(axis=1), -1, 1))), 90))


def _vote(f: PlacementFeatures, sampling_rate_hz: float) -> str:
    """One window's placement (thresholds set on the simulator, benchmarks/placement.py)."""
    if f.swing_ratio < TRUNK_MAX_SWING_RATIO:
        return "sacrum"
    # a leg both swings far and takes the ground's shock: the product separates it from arms and pockets
    shock_swing = f.peak_g * f.swing_deg
    if shock_swing >= LEG_MIN_SHOCK_SWING:
        return "foot" if shock_swing >= FOOT_MIN_SHOCK_SWING and sampling_rate_hz >= 100 else "shank"
    if f.swing_ratio >= WRIST_MIN_SWING_RATIO and f.step_symmetry < ARM_MIN_SYMMETRY:
        return "wrist"
    # an arm band sees both feet's contacts alike and little of their shock; a thigh does not
    if f.peak_g >= POCKET_MIN_PEAK_G or f.step_symmetry < ARM_MIN_SYMMETRY:
        return "phone_pocket"
    return "phone_arm"


TRUNK_MAX_SWING_RATIO = -0.6
LEG_MIN_SHOCK_SWING = 40.0
"""g x degrees; simulator: shank and foot windows 47-250, pockets and wrists up to about 30."""
FOOT_MIN_SHOCK_SWING = 85.0
"""g x degrees; simulator: foot 115-250, shank 47-60 (the foot swings more and takes 2-4 x the shock)."""
WRIST_MIN_SWING_RATIO = 0.45
ARM_MIN_SYMMETRY = 0.7
POCKET_MIN_PEAK_G = 2.55
