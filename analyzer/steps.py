"""Step (initial contact) detection on one gap-free segment.

1. The acceleration magnitude is orientation invariant: the sensor may be worn at any angle.
2. Its dominant period is estimated in sliding windows by autocorrelation (van Oeveren et al. 2018,
   "Accurate cadence from body-worn accelerometers using autocorrelation"): a step for body-centred
   sensors, a stride for shank and foot sensors.
3. Contacts are the prominent peaks of the low-passed magnitude, at least a fraction of the local
   period apart (variable-distance non-maximum suppression).
4. Initial contact is placed on the rising edge before each peak (a threshold between the flight or
   swing minimum and the peak: Patoz et al. 2022; Auvinet et al. 2002), or at the peak minus a lag.
5. Single-leg sensors: the other foot's contact is the transmitted bump between two own contacts
   (Kiernan et al. 2023 discuss contralateral events); when none is visible it is estimated at
   mid-stride and flagged as estimated.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from .placement import DetectorParams
from .preprocess import Segment, highpass, lowpass

PERIOD_WINDOW_S = 6.0
PERIOD_HOP_S = 1.0
HALF_LAG_ACCEPT = 0.6
FLOOR_TOLERANCE = 0.35
"""A contact rises from within this fraction of the rise above the following flight/swing floor."""
"""Autocorrelation at half the best lag above this fraction of the best means the half lag is the step
(left/right asymmetry makes the stride lag win; van Oeveren 2018's step/stride check)."""


@dataclass(frozen=True)
class Contacts:
    """Contacts found in a segment, sorted by time. `own_leg` is False for the other foot of a single-leg
    sensor (always True for body-centred sensors); `estimated` marks contacts placed without a visible event."""

    ic_s: np.ndarray
    own_leg: np.ndarray
    estimated: np.ndarray


def local_period_s(x: np.ndarray, fs: float, params: DetectorParams) -> tuple[np.ndarray, np.ndarray]:
    """(centre_s, period_s) of the dominant period in sliding windows; NaN where no periodicity shows."""
    win = int(PERIOD_WINDOW_S * fs)
    hop = max(1, int(PERIOD_HOP_S * fs))
    lag_min = max(1, int(params.period_min_s * fs))
    lag_max = int(params.period_max_s * fs)
    if len(x) < win:
        win = len(x)
    starts = np.arange(0, max(1, len(x) - win + 1), hop)
    centres, periods = [], []
    for s in starts:
        seg = x[s:s + win] - x[s:s + win].mean()
        energy = float(seg @ seg)
        period = np.nan
        if energy > 0 and lag_max < len(seg):
            ac = signal.correlate(seg, seg, mode="full", method="fft")[len(seg) - 1:] / energy
            best = lag_min + int(np.argmax(ac[lag_min:lag_max + 1]))
            if ac[best] > 0.2:
                half = best // 2
                if not params.single_leg and half >= lag_min:
                    lo, hi = max(lag_min, int(half * 0.85)), int(half * 1.15) + 1
                    cand = lo + int(np.argmax(ac[lo:hi]))
                    if ac[cand] > HALF_LAG_ACCEPT * ac[best]:
                        best = cand
                period = best / fs
        centres.append((s + win / 2) / fs)
        periods.append(period)
    return np.asarray(centres), np.asarray(periods)


def period_at(times_s: np.ndarray, centres_s: np.ndarray, periods_s: np.ndarray, fallback_s: float) -> np.ndarray:
    ok = np.isfinite(periods_s)
    if not ok.any():
        return np.full(len(times_s), fallback_s)
    return np.interp(times_s, centres_s[ok], periods_s[ok])


def suppress(peaks: np.ndarray, heights: np.ndarray, spacing: np.ndarray) -> np.ndarray:
    """Keep the highest peaks so that no two kept peaks are closer than the spacing of the higher one."""
    keep = np.zeros(len(peaks), dtype=bool)
    alive = np.ones(len(peaks), dtype=bool)
    for i in np.argsort(-heights, kind="stable"):
        if not alive[i]:
            continue
        keep[i] = True
        lo = np.searchsorted(peaks, peaks[i] - spacing[i], side="left")
        hi = np.searchsorted(peaks, peaks[i] + spacing[i], side="right")
        alive[lo:hi] = False
    return peaks[keep]


def onset_index(x: np.ndarray, peak: int, search: int, fraction: float, tangent: bool = False) -> float | None:
    """Fractional index where `x`, rising from its minimum in the `search` samples before `peak`, crosses
    `fraction` of the rise (linear interpolation between samples).

    None when the rise is not a contact's: it began before the data did, or it starts from a level well
    above the floor that the signal reaches in the following `search` samples (a dip inside a stance that
    was already under way, such as between the impact and active peaks).
    """
    lo = max(0, peak - search)
    m = lo + int(np.argmin(x[lo:peak + 1]))
    rise = x[peak] - x[m]
    level = x[m] + fraction * rise
    if m == 0 and x[0] >= level:
        return None
    after = x[peak:peak + search + 1]
    floor = after.min() if len(after) > 1 else x[m]
    if x[m] - floor > FLOOR_TOLERANCE * (x[peak] - floor):
        return None
    k = m + int(np.flatnonzero(x[m:peak + 1] >= level)[0])
    if tangent:
        # steepest point of the rise, extrapolated back to the floor: the onset itself, not a threshold
        # crossing that lags it by a fraction of the rise time (tangent method; Auvinet 2002's rising edge)
        slope = np.diff(x[m:peak + 1])
        j = int(np.argmax(slope))
        if slope[j] > 0:
            return max(float(m), m + j + 0.5 - (0.5 * (x[m + j] + x[m + j + 1]) - x[m]) / slope[j])
    if k == m or x[k] == x[k - 1]:
        return float(k)
    return k - 1 + (level - x[k - 1]) / (x[k] - x[k - 1])


def detect(seg: Segment, params: DetectorParams) -> Contacts:
    fs = seg.sampling_rate_hz
    event = lowpass(seg.magnitude_g, params.event_lowpass_hz, fs)
    centres, periods = local_period_s(event, fs, params)
    fallback = 0.5 * (params.period_min_s + params.period_max_s)
    candidates, props = signal.find_peaks(event, prominence=params.min_prominence_g,
                                          distance=max(1, int(params.min_spacing_fraction * params.period_min_s * fs)))
    candidates = _with_rising_end(event, candidates, params.min_prominence_g)
    if len(candidates) == 0:
        return Contacts(np.empty(0), np.empty(0, bool), np.empty(0, bool))
    spacing = params.min_spacing_fraction * period_at(candidates / fs, centres, periods, fallback) * fs
    peaks = suppress(candidates, event[candidates], spacing)
    ic_idx = _initial_contacts(event, peaks, fs, params, period_at(peaks / fs, centres, periods, fallback))
    ic_s = seg.time_s[0] + ic_idx / fs
    own = np.ones(len(ic_s), dtype=bool)
    if params.single_leg and len(ic_s) > 1:
        return _with_other_foot(ic_s, seg, params, period_at(ic_s - seg.time_s[0], centres, periods, fallback))
    return Contacts(ic_s, own, np.zeros(len(ic_s), dtype=bool))


def _with_rising_end(x: np.ndarray, peaks: np.ndarray, min_rise: float) -> np.ndarray:
    """find_peaks never reports the last sample; a contact cut off by the end of data still has its onset
    in the data, so the last sample counts as a peak when the signal is still rising steeply there."""
    if len(x) < 3 or x[-1] < x[-2]:
        return peaks
    start = int(peaks[-1]) if len(peaks) else 0
    if x[-1] - x[start:].min() >= min_rise:
        return np.append(peaks, len(x) - 1)
    return peaks


def _initial_contacts(event: np.ndarray, peaks: np.ndarray, fs: float, params: DetectorParams,
                      period_s: np.ndarray) -> np.ndarray:
    """Fractional sample index of initial contact for each peak (peaks whose rise is not seen are dropped)."""
    if params.ic_method == "peak":
        return peaks - params.peak_lag_s * fs
    search_fraction = 0.5 if params.single_leg else 0.6
    out = [onset_index(event, int(p), max(int(search_fraction * period * fs), 2), params.onset_fraction,
                       params.ic_method == "tangent")
           for p, period in zip(peaks, period_s)]
    return np.asarray([k for k in out if k is not None], dtype=float)


def _with_other_foot(own_ic_s: np.ndarray, seg: Segment, params: DetectorParams, stride_s: np.ndarray) -> Contacts:
    """Add the other foot's contacts between consecutive own-leg contacts."""
    fs = seg.sampling_rate_hz
    bump = highpass(lowpass(seg.magnitude_g, params.event_lowpass_hz, fs), 3.0, fs)
    times, own, estimated = list(own_ic_s), [True] * len(own_ic_s), [False] * len(own_ic_s)
    for a, b, stride in zip(own_ic_s[:-1], own_ic_s[1:], stride_s[:-1]):
        if b - a > 1.5 * stride:
            continue  # a pause: nothing to infer
        lo = int((a - seg.time_s[0] + 0.35 * (b - a)) * fs)
        hi = int((a - seg.time_s[0] + 0.65 * (b - a)) * fs)
        window = bump[lo:hi]
        found = False
        if len(window) > 2:
            pk, pr = signal.find_peaks(window, prominence=params.other_foot_min_prominence_g)
            if len(pk):
                j = int(pk[np.argmax(pr["prominences"])])
                t = seg.time_s[0] + (lo + j) / fs - params.peak_lag_s
                found = True
        if not found:
            t = 0.5 * (a + b)
        times.append(t)
        own.append(False)
        estimated.append(not found)
    order = np.argsort(times, kind="stable")
    return Contacts(np.asarray(times)[order], np.asarray(own)[order], np.asarray(estimated)[order])
