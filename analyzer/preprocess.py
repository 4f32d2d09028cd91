"""Preprocessing: continuous segments on a uniform time grid, the orientation-invariant magnitude, filters.

Phones deliver jittery timestamps; detectors want a uniform grid. Each stretch of samples between two gaps
(`Recording.gaps`) is linearly interpolated onto a grid at the nominal rate; nothing is interpolated across
a gap, so no step can be invented inside one.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import signal

from sensors import Recording


@dataclass(frozen=True)
class Segment:
    """A gap-free stretch resampled to `sampling_rate_hz`: `time_s` (M,), `acc_g` (M, 3)."""

    time_s: np.ndarray
    acc_g: np.ndarray
    sampling_rate_hz: float

    @property
    def magnitude_g(self) -> np.ndarray:
        return np.linalg.norm(self.acc_g, axis=1)


def segments(rec: Recording, min_duration_s: float) -> list[Segment]:
    """Gap-free stretches of at least `min_duration_s`, each on a uniform grid at the nominal rate."""
    fs = float(rec.sampling_rate_hz)
    bounds = [0]
    for _, end_s in rec.gaps or []:
        bounds.append(int(np.searchsorted(rec.time_s, end_s)))
    bounds.append(len(rec.time_s))
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        t = rec.time_s[lo:hi]
        if len(t) < 2 or t[-1] - t[0] < min_duration_s:
            continue
        # the grid is k / fs in the recording's time base, wherever the stretch starts, so that any part of a
        # recording (a streaming window) is resampled at the same instants as the whole
        first = int(np.ceil(t[0] * fs - 1e-6))
        grid = np.arange(first, int(np.floor(t[-1] * fs + 1e-6)) + 1) / fs
        acc = np.column_stack([np.interp(grid, t, rec.acc_g[lo:hi, k]) for k in range(3)])
        out.append(Segment(grid, acc, fs))
    return out


@lru_cache(maxsize=64)
def _butter(order: int, cutoff: float, kind: str) -> np.ndarray:
    """Second-order sections of a Butterworth filter (designed once per setting: detection runs many)."""
    return signal.butter(order, cutoff, btype=kind, output="sos")


def lowpass(x: np.ndarray, cutoff_hz: float, sampling_rate_hz: float, order: int = 2, axis: int = -1) -> np.ndarray:
    """Zero-phase Butterworth low-pass along `axis`; a cutoff at or above Nyquist leaves the signal as it is."""
    nyquist = sampling_rate_hz / 2
    if cutoff_hz >= 0.95 * nyquist:
        return np.asarray(x, dtype=float)
    sos = _butter(order, cutoff_hz / nyquist, "low")
    return signal.sosfiltfilt(sos, x, axis=axis, padlen=min(x.shape[axis] - 1, 3 * (2 * len(sos) + 1)))


def highpass(x: np.ndarray, cutoff_hz: float, sampling_rate_hz: float, order: int = 2) -> np.ndarray:
    sos = _butter(order, cutoff_hz / (sampling_rate_hz / 2), "high")
    return signal.sosfiltfilt(sos, x, padlen=min(len(x) - 1, 3 * (2 * len(sos) + 1)))
