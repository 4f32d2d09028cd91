"""The gait gate: is a stretch of signal locomotion at all?

Step detection finds peaks; sitting down, bending or a phone shifting in a pocket make peaks too. Before a
peak may count as a step, the window around it must show two things that gait has and everyday
movements rarely do together (the periodicity and intensity features of activity recognition:
Preece et al. 2009, "A comparison of feature extraction methods for the classification of dynamic
activities from accelerometer data"; Bao & Intille 2004):

- regularity: successive steps or strides alike, i.e. a strong autocorrelation at the step or stride lag
  over the PERIOD_WINDOW_S window (Moe-Nilssen & Helbostad 2004 use the same unbiased autocorrelation as a
  measure of gait regularity; van Oeveren et al. 2018 find cadence from it);
- intensity: the acceleration magnitude varies by more than a posture change or a fidget makes it.

The thresholds were chosen with benchmarks/tuning/gate.py on the tuning half of the real everyday
recordings in ../shared/data (benchmarks/tuning/README.md says which) and are scored on the other half
(benchmarks/everyday.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensors.errors import ParameterError


@dataclass(frozen=True)
class GateParams:
    """min_regularity: autocorrelation at the step or stride lag a window needs to be gait (0-1).
    min_intensity_g: standard deviation of the acceleration magnitude a window needs to be gait (g).
    reach_s: a peak is judged by the windows centred within this distance of it (the nearest window where
    none is that close, at the ends of the data); one of them must be gait."""

    min_regularity: float = 0.35
    min_intensity_g: float = 0.06
    reach_s: float = 1.0

    def __post_init__(self) -> None:
        for name, value, lo, hi in (("min_regularity", self.min_regularity, 0.0, 1.0),
                                    ("min_intensity_g", self.min_intensity_g, 0.0, 5.0),
                                    ("reach_s", self.reach_s, 0.0, 3.0)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
                raise ParameterError(name, value, f"a number from {lo:g} to {hi:g}")


FLOOR_PERCENTILE = 2.0
"""A window's floor: the 2nd percentile of its vertical signal (the lowest ~0.1 s of a 6-s window), low
enough to catch a run's flights, high enough that one noisy sample does not set it."""
FLOOR_BLOCK = 256
"""Windows whose floors are computed together (bounds memory: 256 x 6 s x 1000 Hz floats)."""


@dataclass(frozen=True)
class GaitWindows:
    """Per window: `centre_s` (relative to the segment's start), `regularity`, `intensity_g`, `floor_g` and
    `peak_g` of the vertical signal (NaN where none was given) and `gait`."""

    centre_s: np.ndarray
    regularity: np.ndarray
    intensity_g: np.ndarray
    floor_g: np.ndarray
    peak_g: np.ndarray
    gait: np.ndarray
    reach_s: float

    def at(self, times_s: np.ndarray) -> np.ndarray:
        """Mask of `times_s` (relative to the segment's start) that lie in gait: a gait window is centred
        within `reach_s` of them, or is the nearest window."""
        return self._near(times_s, self.reach_s, self.gait)

    def shows_flight(self, times_s: np.ndarray, max_floor_g: float, shallow_floor_g: float | None = None,
                     min_range_g: float = 0.0) -> np.ndarray:
        """Mask of `times_s` near a window (as in `at`) that shows a run's flight: its vertical floor sinks to
        `max_floor_g`, or to `shallow_floor_g` where the vertical signal spans at least `min_range_g`. In
        flight the body falls freely (0 g at the trunk; a limb's swing takes it lower). The range, unlike a
        standard deviation, is not diluted where the run fills only part of the window (its first steps)."""
        flight = self.floor_g <= max_floor_g
        if shallow_floor_g is not None:
            flight |= (self.floor_g <= shallow_floor_g) & (self.peak_g - self.floor_g >= min_range_g)
        return self._near(times_s, self.reach_s, flight)

    def _near(self, times_s: np.ndarray, reach_s: float, flag: np.ndarray) -> np.ndarray:
        """Whether a flagged window is centred within `reach_s` of each time (or is among the nearest
        windows where none is that close): running counts over the sorted centres, linear in time."""
        times_s = np.asarray(times_s, dtype=float)
        centres = self.centre_s
        if not len(centres):
            return np.zeros(len(times_s), dtype=bool)
        right = np.clip(np.searchsorted(centres, times_s), 0, len(centres) - 1)
        left = np.clip(right - 1, 0, len(centres) - 1)
        nearest_s = np.minimum(np.abs(times_s - centres[left]), np.abs(times_s - centres[right]))
        reach = np.maximum(reach_s, nearest_s) + 1e-9
        counts = np.concatenate([[0], np.cumsum(flag.astype(int))])
        lo = np.searchsorted(centres, times_s - reach, side="left")
        hi = np.searchsorted(centres, times_s + reach, side="right")
        return counts[hi] > counts[lo]


def gait_windows(magnitude_g: np.ndarray, floor_signal_g: np.ndarray | None, centre_s: np.ndarray,
                 start: np.ndarray, length: int, regularity: np.ndarray,
                 params: GateParams = GateParams()) -> GaitWindows:
    """Judge each period window (analyzer/steps.py `period_windows`): gait when regular and intense
    enough; its floor read from `floor_signal_g` (the vertical signal) where given."""
    intensity_g = window_std(magnitude_g, start, length)
    gait = (regularity >= params.min_regularity) & (intensity_g >= params.min_intensity_g)
    floor_g, peak_g = window_extremes(floor_signal_g, start, length)
    return GaitWindows(centre_s, regularity, intensity_g, floor_g, peak_g, gait, params.reach_s)


def window_extremes(x: np.ndarray | None, start: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(FLOOR_PERCENTILE, 100 - FLOOR_PERCENTILE) of x over [start, start + length) for each start; NaN
    without x."""
    out = np.full((2, len(start)), np.nan)
    if x is None or not len(start) or length < 1 or len(x) < length:
        return out[0], out[1]
    views = np.lib.stride_tricks.sliding_window_view(x, length)
    for block in range(0, len(start), FLOOR_BLOCK):
        chunk = slice(block, block + FLOOR_BLOCK)
        out[:, chunk] = np.percentile(views[start[chunk]], [FLOOR_PERCENTILE, 100 - FLOOR_PERCENTILE], axis=1)
    return out[0], out[1]


def window_std(x: np.ndarray, start: np.ndarray, length: int) -> np.ndarray:
    """Standard deviation of x over [start, start + length) for each start, from running sums (one pass).
    The sums are taken about 1 g, the magnitude at rest, so that gravity's offset costs no precision."""
    if not len(start) or length < 2:
        return np.zeros(len(start))
    centred = x - 1.0
    s1 = np.concatenate([[0.0], np.cumsum(centred)])
    s2 = np.concatenate([[0.0], np.cumsum(centred ** 2)])
    end = np.minimum(start + length, len(x))
    n = np.maximum(end - start, 1)
    mean = (s1[end] - s1[start]) / n
    return np.sqrt(np.maximum((s2[end] - s2[start]) / n - mean ** 2, 0.0))


def carried_forward(evidence: np.ndarray, continuing: np.ndarray) -> np.ndarray:
    """`evidence` carried along each stretch of steps where `continuing` holds (a step continuing the one
    before it): a step has it when it or an earlier step of its stretch has it. Looking back only, so a
    streaming detector decides as the offline one does; the slowing steps into a turn or a stop, whose
    windows take in the pause, keep the evidence their run showed."""
    index = np.arange(len(evidence))
    stretch_start = np.maximum.accumulate(np.where(continuing, 0, index)) if len(index) else index
    last_evidence = np.maximum.accumulate(np.where(evidence, index, -1)) if len(index) else index
    return last_evidence >= stretch_start
