"""Step (initial contact) detection on one gap-free segment.

1. Rotation-invariant signals, so the sensor may be worn at any angle: for body-worn sensors the
   acceleration along gravity (projection on the mean vector), for shank and foot sensors the magnitude,
   high-passed so that only the impact spikes remain.
2. The dominant period is estimated in sliding windows by autocorrelation (van Oeveren et al. 2018,
   "Accurate cadence from body-worn accelerometers using autocorrelation"): a step for body-worn
   sensors, a stride for shank and foot sensors.
3. Contacts are the prominent peaks of the event signal, at least a fraction of the local period apart
   (variable-distance non-maximum suppression) and comparable in height to their neighbours.
4. Running initial contact is the onset of each contact's rise, found by extrapolating its steepest
   slope back to the flight minimum (body-worn: Auvinet et al. 2002; Patoz et al. 2022), or the impact
   peak minus a short lag (shank/foot: Purcell et al. 2006; Kiernan et al. 2023). Walking contacts of
   body-worn sensors sit a fixed lag before the loading-response peak (Zijlstra & Hof 2003).
5. Single-leg sensors: the other foot's contact is placed at mid-stride and flagged as estimated.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import signal

from .gate import carried_forward, gait_windows
from .placement import DetectorParams
from .preprocess import Segment, highpass, lowpass

PERIOD_WINDOW_S = 6.0
PERIOD_HOP_S = 1.0
AUTOCORRELATION_BLOCK = 256
"""Windows whose autocorrelations are computed together (bounds memory: 256 x 2 x 6 s x 500 Hz floats)."""
HALF_LAG_MARGIN = 0.3
"""The best lag is a stride, not a step, when the autocorrelation at half of it stands this far above the
troughs either side (between an eighth and seven eighths of it): a step peak between two anti-phase troughs.
Left/right asymmetry (a phone in one pocket, a swinging arm) makes the stride lag win the plain maximum (van
Oeveren et al. 2018 check step against stride for the same reason)."""
FLOOR_TOLERANCE = 0.35
"""A contact rises from within this fraction of the rise above the following flight/swing floor."""
WALK_MAX_CADENCE_SPM = 125.0
RUN_MIN_CADENCE_SPM = 150.0
"""Below 125 steps/min a step is a walk's, above 150 a run's; in between (brisk walking reaches 130-135,
slow jogging 140: Tudor-Locke et al. 2018; SCIENCE.md 3.3) a flight phase decides."""
FLOOR_STEPS = 7
"""Steps over which the flight floor is taken as a median."""

MAX_STEP_INTERVAL_S = 1.5
"""A longer pause between contacts (a rest, a turn) is not a step interval: cadence is left empty."""
NEIGHBOURHOOD_S = 5.0
"""Peaks are compared with those of the surrounding +-5 s (a dozen steps or more at any cadence)."""
LAG_NEIGHBOURS = 8
"""Contacts whose peak-to-onset lag stands in for one whose rise began before the data did."""
GRAVITY_LOWPASS_HZ = 0.5
"""The mean acceleration vector over about two seconds points along gravity whatever the sensor's angle."""


@dataclass(frozen=True)
class Contacts:
    """Contacts found in a segment, sorted by time. `own_leg` is False for the other foot of a single-leg
    sensor (always True for body-centred sensors); `estimated` marks contacts placed without a visible event;
    `walking` marks a walk's steps (no flight); `toe_off_s` is the end of each contact where the placement shows it (NaN elsewhere), None when it never does."""

    ic_s: np.ndarray
    own_leg: np.ndarray
    estimated: np.ndarray
    walking: np.ndarray
    toe_off_s: np.ndarray | None = None


@dataclass(frozen=True)
class PeriodWindows:
    """The dominant period in sliding windows: `centre_s` (relative to x[0]), `period_s` (NaN where no
    periodicity shows), `strength` (the normalised autocorrelation at that lag: how alike successive steps
    or strides are, 0 where none shows), `start` (first sample of each window) and `length` (samples)."""

    centre_s: np.ndarray
    period_s: np.ndarray
    strength: np.ndarray
    start: np.ndarray
    length: int


def period_windows(x: np.ndarray, fs: float, params: DetectorParams, first_sample: int = 0,
                   regularity_of: np.ndarray | None = None) -> PeriodWindows:
    """The dominant period of x in sliding windows (PERIOD_WINDOW_S long, PERIOD_HOP_S apart), and the
    regularity of `regularity_of` (default x) in the same windows.

    Windows start on multiples of the hop counted from sample 0 of the recording (`first_sample` is the
    index of x[0] on the recording's grid): any stretch of a recording, such as a streaming window, sees
    the windows the whole recording sees.
    """
    win = min(int(PERIOD_WINDOW_S * fs), len(x))
    hop = max(1, int(PERIOD_HOP_S * fs))
    lag_min = max(1, int(params.period_min_s * fs))
    lag_max = int(params.period_max_s * fs)
    # regularity is read up to a stride of the slowest step (a pocket's or an arm's own leg repeats once a
    # stride); the period itself is sought within [lag_min, lag_max]
    regularity_lag_max = min(win - 1, lag_max if params.single_leg else 2 * lag_max)
    offset = (-first_sample) % hop
    starts = np.arange(offset if offset <= len(x) - win else 0, max(1, len(x) - win + 1), hop)
    periods = np.full(len(starts), np.nan)
    strength = np.zeros(len(starts))
    if lag_max < win:
        for block in range(0, len(starts), AUTOCORRELATION_BLOCK):
            chunk = slice(block, block + AUTOCORRELATION_BLOCK)
            ac = _autocorrelations(x, starts[chunk], win, regularity_lag_max)
            periods[chunk], strength[chunk] = _periods_from(ac, lag_min, lag_max, fs, params.single_leg)
            if regularity_of is not None:
                other = _autocorrelations(regularity_of, starts[chunk], win, regularity_lag_max)
                strength[chunk] = np.maximum(other[:, lag_min:].max(axis=1), 0.0)
    return PeriodWindows((starts + win / 2) / fs, periods, strength, starts, win)


def local_period_s(x: np.ndarray, fs: float, params: DetectorParams,
                   first_sample: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(centre_s, period_s) of `period_windows`."""
    windows = period_windows(x, fs, params, first_sample)
    return windows.centre_s, windows.period_s


def _autocorrelations(x: np.ndarray, starts: np.ndarray, win: int, lag_max: int) -> np.ndarray:
    """Normalised autocorrelation (lags 0..lag_max) of the demeaned window at each start, all at once by
    FFT (zero-padded to twice the window: no circular wrap)."""
    windows = np.lib.stride_tricks.sliding_window_view(x, win)[starts]
    windows = windows - windows.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(windows, n=2 * win, axis=1)
    ac = np.fft.irfft(spectrum.real ** 2 + spectrum.imag ** 2, n=2 * win, axis=1)[:, :lag_max + 1]
    energy = ac[:, :1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(energy > 0, ac / np.where(energy > 0, energy, 1.0), 0.0)


def _periods_from(ac: np.ndarray, lag_min: int, lag_max: int, fs: float,
                  single_leg: bool) -> tuple[np.ndarray, np.ndarray]:
    """(period_s, strength) per row: the best lag (NaN where its autocorrelation is below 0.2), halved where
    a step peak stands between two stride troughs, and the highest autocorrelation at any lag from lag_min
    on (ac may reach beyond lag_max, to the stride: a pocket's or an arm's own leg repeats once a stride)."""
    rows = np.arange(len(ac))
    best = lag_min + np.argmax(ac[:, lag_min:lag_max + 1], axis=1)
    strong = ac[rows, best] > 0.2
    peak = ac[:, lag_min:].max(axis=1)
    if not single_leg:
        half = best // 2
        lo = np.maximum(lag_min, (half * 0.85).astype(int))
        hi = (half * 1.15).astype(int) + 1
        for i in np.flatnonzero(strong & (half >= lag_min)):
            cand = lo[i] + int(np.argmax(ac[i, lo[i]:hi[i]]))
            # the troughs either side: where they fall depends on the shape of the stride's swing
            troughs = max(ac[i, best[i] // 8:lo[i]].min(initial=np.inf),
                          ac[i, hi[i]:(7 * best[i]) // 8 + 1].min(initial=np.inf))
            if ac[i, cand] - troughs >= HALF_LAG_MARGIN:
                best[i] = cand
    return np.where(strong, best / fs, np.nan), np.maximum(peak, 0.0)


def period_at(times_s: np.ndarray, centres_s: np.ndarray, periods_s: np.ndarray, fallback_s: float) -> np.ndarray:
    ok = np.isfinite(periods_s)
    if not ok.any():
        return np.full(len(times_s), fallback_s)
    return np.interp(times_s, centres_s[ok], periods_s[ok])


def suppress(peaks: np.ndarray, heights: np.ndarray, spacing: np.ndarray) -> np.ndarray:
    """Keep the highest peaks so that no two kept peaks are closer than the spacing of the higher one."""
    keep = np.zeros(len(peaks), dtype=bool)
    alive = np.ones(len(peaks), dtype=bool)
    # the window bounds of every peak at once (one sorted search each way, not a conversion of the whole
    # integer array per peak)
    positions = peaks.astype(float)
    lows = np.searchsorted(positions, positions - spacing, side="left")
    highs = np.searchsorted(positions, positions + spacing, side="right")
    for i in np.argsort(-heights, kind="stable"):
        if not alive[i]:
            continue
        keep[i] = True
        alive[lows[i]:highs[i]] = False
    return peaks[keep]


def onset_index(x: np.ndarray, peak: int, search: int, fraction: float, tangent: bool = False) -> float | None:
    """Fractional index where `x`, rising from its minimum in the `search` samples before `peak`, crosses
    `fraction` of the rise (linear interpolation between samples).

    None when the rise is not a contact's: it began before the data did, or, at the start of the data, it
    starts from a level well above the floor that the signal reaches in the following `search` samples
    (a dip inside a stance already under way, such as between the impact and active peaks).
    """
    lo = max(0, peak - search)
    m = lo + int(np.argmin(x[lo:peak + 1]))
    level = x[m] + fraction * (x[peak] - x[m])
    if m == 0 and x[0] >= level:
        return None
    if lo == 0:
        after = x[peak:peak + search + 1]
        floor = after.min() if len(after) > 1 else x[m]
        if x[m] - floor > FLOOR_TOLERANCE * (x[peak] - floor):
            return None
    if tangent:
        # steepest point of the rise, extrapolated back to the floor: the onset itself, not a threshold
        # crossing that lags it by a fraction of the rise time (tangent method; Auvinet 2002's rising edge)
        slope = np.diff(x[m:peak + 1])
        j = int(np.argmax(slope))
        if slope[j] > 0:
            return max(float(m), m + j + 0.5 - (0.5 * (x[m + j] + x[m + j + 1]) - x[m]) / slope[j])
    k = m + int(np.flatnonzero(x[m:peak + 1] >= level)[0])
    if k == m or x[k] == x[k - 1]:
        return float(k)
    return k - 1 + (level - x[k - 1]) / (x[k] - x[k - 1])


def consistent_heights(times_s: np.ndarray, heights: np.ndarray, min_fraction: float,
                       window_s: float = NEIGHBOURHOOD_S) -> np.ndarray:
    """Mask of peaks at least `min_fraction` of the median height of the peaks within +-window_s: a
    running step looks like its neighbours, while the swing features and filter edges that slip through
    at the ends of the data are much smaller."""
    if len(times_s) == 0:
        return np.zeros(0, dtype=bool)
    series = pd.Series(heights, index=pd.to_datetime(times_s, unit="s"))
    local = series.rolling(pd.Timedelta(seconds=2 * window_s), center=True, closed="both").median()
    return heights >= min_fraction * local.to_numpy()


def vertical_g(acc_g: np.ndarray, fs: float) -> np.ndarray:
    """Acceleration along gravity: each sample projected on the local mean vector (rotation invariant).

    Unlike the magnitude it leaves out most of a swinging arm's or thigh's own acceleration, which is
    largely perpendicular to gravity, and keeps the body's vertical bounce that marks each step.
    """
    mean = np.column_stack([lowpass(acc_g[:, k], GRAVITY_LOWPASS_HZ, fs) for k in range(3)])
    norm = np.linalg.norm(mean, axis=1)
    norm[norm == 0] = 1.0
    return np.einsum("ij,ij->i", acc_g, mean) / norm


class EventSignals(NamedTuple):
    """periodic: the signal whose period is estimated; running, walking: the signals whose peaks are
    running and walking contacts; floor: the vertical signal whose lows show a run's flight (None where
    the placement reads no flight from it)."""

    periodic: np.ndarray
    running: np.ndarray
    walking: np.ndarray
    floor: np.ndarray | None = None


FLOOR_LOWPASS_HZ = 10.0
"""The flight's low is read on the vertical signal low-passed at 10 Hz, the event filter of the trunk."""


def event_signals(seg: Segment, params: DetectorParams) -> EventSignals:
    """The placement's signals (EventSignals)."""
    fs = seg.sampling_rate_hz
    base = vertical_g(seg.acc_g, fs) if params.event_signal == "vertical" else seg.magnitude_g
    smooth = lowpass(base, params.event_lowpass_hz, fs)
    gentle = lowpass(base, params.walking_lowpass_hz, fs) if params.walking_lowpass_hz else smooth
    periodic = lowpass(base, params.period_lowpass_hz, fs) if params.period_lowpass_hz else smooth
    if params.period_highpass_hz:
        periodic = highpass(periodic, params.period_highpass_hz, fs)
    if params.event_signal != "impulse":
        floor = None
        if params.run_max_floor_g is not None and params.event_signal == "vertical":
            floor = smooth if params.event_lowpass_hz == FLOOR_LOWPASS_HZ else lowpass(base, FLOOR_LOWPASS_HZ, fs)
        return EventSignals(periodic, smooth, gentle, floor)
    # an impact is a spike a few samples wide on top of the limb's swing (a few Hz): above
    # `impulse_highpass_hz` only the spike is left
    impulse = highpass(seg.magnitude_g, params.impulse_highpass_hz, fs)
    return EventSignals(smooth, impulse, impulse)


def detect(seg: Segment, params: DetectorParams) -> Contacts:
    fs = seg.sampling_rate_hz
    periodic, running_event, walking_event, floor = event_signals(seg, params)
    # a high-passed period signal (the wrist's) keeps a walk's harmonics but not its regularity
    windows = period_windows(periodic, fs, params, first_sample=int(round(seg.time_s[0] * fs)),
                             regularity_of=running_event if params.period_highpass_hz else None)
    centres, periods = windows.centre_s, windows.period_s
    gate = gait_windows(seg.magnitude_g, floor, centres, windows.start, windows.length, windows.strength, params.gate)
    fallback = 0.5 * (params.period_min_s + params.period_max_s)
    # walking steps are slow and, seen from a pocket or an arm, ring with several small peaks each:
    # where the local cadence is a walk's, peaks are taken from the more strongly smoothed signal
    slow = cadence_spm(period_at(np.arange(len(periodic)) / fs, centres, periods, fallback), params) \
        < params.walk_max_cadence_spm
    event = np.where(slow, walking_event, running_event)
    walking_prominence_g = params.walking_min_prominence_g or params.min_prominence_g
    candidates, found = signal.find_peaks(event, prominence=min(params.min_prominence_g, walking_prominence_g),
                                          distance=max(1, int(params.min_spacing_fraction * params.period_min_s * fs)))
    candidates = candidates[found["prominences"] >= np.where(slow[candidates], walking_prominence_g,
                                                             params.min_prominence_g)]
    candidates = _with_rising_end(event, candidates, params.min_prominence_g)
    candidates = candidates[gate.at(candidates / fs)]  # no steps where the signal shows no gait
    if len(candidates) == 0:
        return Contacts(np.empty(0), np.empty(0, bool), np.empty(0, bool), np.empty(0, bool))
    spacing = params.min_spacing_fraction * period_at(candidates / fs, centres, periods, fallback) * fs
    peaks = suppress(candidates, event[candidates], spacing)
    peaks = peaks[consistent_heights(peaks / fs, event[peaks], params.min_relative_height)]
    period_s = period_at(peaks / fs, centres, periods, fallback)
    walking = walking_steps(cadence_spm(period_s, params), flight_floors(periodic, peaks, period_s * fs, params),
                            params)
    if params.run_max_floor_g is not None:
        # no run without a run's evidence: a walk misread at twice its cadence, a fast stair descent or a
        # seated leg bounce keep the body supported, while a run's flight lets the vertical signal sink
        flight = gate.shows_flight(peaks / fs, params.run_max_floor_g, params.run_shallow_floor_g,
                                   params.run_min_range_g)
        continuing = ~walking & np.concatenate([[False], ~walking[:-1]]) & \
            (np.diff(peaks, prepend=-np.inf) <= MAX_STEP_INTERVAL_S * fs)
        walking |= ~carried_forward(flight, continuing)
    keep, ic_idx = _initial_contacts(event, peaks, fs, params, period_s, walking)
    period_s, walking = period_s[keep], walking[keep]
    ic_s = seg.time_s[0] + ic_idx / fs
    if params.single_leg and len(ic_s) > 1:
        contacts = _with_other_foot(ic_s, period_s, walking, seg.time_s[0], seg.time_s[-1])
        if not params.swing_onset_toe_off:
            return contacts
        own_toe_off_s = seg.time_s[0] + swing_onsets(periodic, ic_idx, period_s * fs) / fs
        own_toe_off_s[walking] = np.nan  # running only, as at the trunk
        toe_off_s = np.full(len(contacts.ic_s), np.nan)
        toe_off_s[contacts.own_leg] = own_toe_off_s
        return replace(contacts, toe_off_s=toe_off_s)
    if params.fill_hidden_walking_steps:
        return _with_hidden_walking_steps(ic_s, period_s, walking)
    toe_off_s = None
    if params.toe_off_fraction is not None:
        toe_off_s = seg.time_s[0] + toe_offs(running_event, ic_idx, period_s * fs, params.toe_off_fraction) / fs
        toe_off_s[walking] = np.nan  # no flight in walking: no clear end of contact at the trunk
    return Contacts(ic_s, np.ones(len(ic_s), dtype=bool), np.zeros(len(ic_s), dtype=bool), walking, toe_off_s)


def cadence_spm(period_s, params: DetectorParams):
    """Steps per minute from the detector's period: a step for body-worn sensors, a stride (two steps) for
    single-leg ones."""
    return (120.0 if params.single_leg else 60.0) / period_s


def flight_floors(x: np.ndarray, peaks: np.ndarray, step_samples: np.ndarray, params: DetectorParams) -> np.ndarray:
    """The lowest vertical signal within one step after each contact peak, as a median over FLOOR_STEPS
    neighbouring steps: near 0 g in a running flight, where the whole body falls freely (a limb's own swing
    adds to it). NaN where the placement uses no floor."""
    if params.flight_floor_g is None:
        return np.full(len(peaks), np.nan)
    floors = np.array([x[p:p + max(int(n), 2)].min() for p, n in zip(peaks, step_samples)])
    half = FLOOR_STEPS // 2
    padded = np.pad(floors, half, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, FLOOR_STEPS), axis=1)


def walking_steps(cadence_spm: np.ndarray, floor_g: np.ndarray, params: DetectorParams) -> np.ndarray:
    """True for a walk's steps by cadence. With a flight floor (trunk sensors): slow, or in the
    brisk-walk/slow-jog overlap without a flight. Without one: the overlap following the steps before.
    (`detect` then also makes a walk of every step without a run's evidence: analyzer/gate.py.)"""
    if params.flight_floor_g is None:
        return _band_follows_steps_before(cadence_spm, WALK_MAX_CADENCE_SPM, params.walk_max_cadence_spm)
    between = (cadence_spm >= WALK_MAX_CADENCE_SPM) & (cadence_spm < RUN_MIN_CADENCE_SPM)
    return (cadence_spm < WALK_MAX_CADENCE_SPM) | (between & (floor_g > params.flight_floor_g))


BAND_LOOKBACK_STEPS = 16
BAND_RUN_STEPS_MIN = 5
BAND_WALK_STEPS_MAX = 3
"""A step whose cadence is in the brisk-walk/slow-jog band says nothing by itself; it continues a run when,
of the BAND_LOOKBACK_STEPS steps before it (about 8 s at the band's cadence), at least BAND_RUN_STEPS_MIN
were at a run's cadence and at most BAND_WALK_STEPS_MAX at a walk's. A slow jog slowing into a turnaround
wavers through the band for several steps and keeps its run; a walk's odd fast step, or a short burst of
them, does not make the steps after it a run. Near the start of the data, where fewer steps stand before,
the same shares of them decide. Counts chosen on simulated sessions with seeds 7000+ (not the
scored ones), with the oxford walks' calls no worse. Looking back only, and within the live detector's
window: it decides a step before the data after it are final (analyzer/stream.py)."""


def _band_follows_steps_before(cadence_spm: np.ndarray, run_from_spm: float, walk_below_spm: float) -> np.ndarray:
    """True for a walk's steps when cadence alone decides: below `run_from_spm` a walk, from `walk_below_spm`
    a run, in between as the steps before decide (BAND_LOOKBACK_STEPS). A run's steps timed as a walk's are
    100 ms off."""
    fast = cadence_spm >= walk_below_spm
    slow = cadence_spm < run_from_spm
    index = np.arange(len(fast))
    first = np.maximum(index - BAND_LOOKBACK_STEPS, 0)

    def count_before(flags: np.ndarray) -> np.ndarray:
        cumulative = np.concatenate([[0], np.cumsum(flags)])
        return cumulative[index] - cumulative[first]

    counted = np.maximum(index - first, 1)
    band = ~fast & ~slow
    continues_run = ((count_before(fast) * BAND_LOOKBACK_STEPS >= BAND_RUN_STEPS_MIN * counted)
                     & (count_before(slow) * BAND_LOOKBACK_STEPS <= BAND_WALK_STEPS_MAX * counted))
    return ~fast & ~(band & continues_run)


def toe_offs(x: np.ndarray, ic_idx: np.ndarray, step_samples: np.ndarray, fraction: float) -> np.ndarray:
    """Fractional index of each contact's end: after the contact's peak (within one step of its start), where
    `x` falls to `fraction` of the way from that peak down to the flight floor that follows (the mirror of
    the onset; vertical-acceleration threshold for sacral toe-off, Patoz et al. 2022). NaN where the fall
    is not in the data."""
    out = np.full(len(ic_idx), np.nan)
    for i, (k, step) in enumerate(zip(np.round(ic_idx).astype(int), step_samples.astype(int))):
        peak = k + int(np.argmax(x[k:k + step])) if k + 2 < len(x) else None
        if peak is None or peak + 2 >= len(x):
            continue
        end = min(len(x), peak + step)
        floor = peak + int(np.argmin(x[peak:end]))
        if floor == peak or floor == end - 1:
            continue  # the signal is still falling at the end of the data or the step
        level = x[floor] + fraction * (x[peak] - x[floor])
        j = peak + int(np.flatnonzero(x[peak:floor + 1] <= level)[0])
        out[i] = j - 1 + (x[j - 1] - level) / (x[j - 1] - x[j]) if x[j - 1] != x[j] else float(j)
    return out


SWING_SEARCH_STRIDES = (0.1, 0.6)
"""The swing's first acceleration peak is sought this far into the stride after a running contact: past the
impact and its rebound (< 0.1 stride), before mid-swing (contact lasts 0.2-0.4 of a running stride)."""


def swing_onsets(x: np.ndarray, ic_idx: np.ndarray, stride_samples: np.ndarray) -> np.ndarray:
    """Fractional index of each contact's end for a shank or foot sensor: where the limb's swing begins.

    Planted, the limb reads little but gravity (the stance phase of zero-velocity foot tracking: Bailey &
    Harle 2015; Zrenner et al. 2018); the ground's release lets it accelerate hard into swing. Toe-off is
    where the steepest rise of the acceleration magnitude `x` into the swing's first peak, extrapolated back,
    meets the stance level (the median before that rise): the tangent construction of the trunk's initial
    contact (Auvinet et al. 2002) applied to the swing's onset. NaN where the rise is not in the data."""
    out = np.full(len(ic_idx), np.nan)
    slope = np.diff(x, append=x[-1])
    for i, (k, stride) in enumerate(zip(np.round(ic_idx).astype(int), stride_samples)):
        lo, hi = k + int(SWING_SEARCH_STRIDES[0] * stride), k + int(SWING_SEARCH_STRIDES[1] * stride)
        if hi >= len(x) or hi - lo < 3:
            continue
        peak = lo + int(np.argmax(x[lo:hi]))
        if peak - lo < 2:
            continue  # still falling from the impact: no swing onset in the window
        steep = lo + int(np.argmax(slope[lo:peak]))
        level = float(np.median(x[lo:steep + 1]))
        if slope[steep] <= 0:
            continue
        out[i] = min(max(steep - max(x[steep] - level, 0.0) / slope[steep], float(k)), float(peak))
    return out


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
                      period_s: np.ndarray, walking: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mask of peaks kept, fractional sample index of initial contact for each kept peak).

    A contact whose rise began before the data did is placed at its peak minus the median peak-to-contact
    lag of the segment's other contacts, and dropped if that falls before the data.
    """
    if params.ic_method == "peak":
        onsets = peaks - params.peak_lag_s * fs
    else:
        search_fraction = 0.5 if params.single_leg else 0.6
        onsets = np.array([np.nan if k is None else k for k in (
            onset_index(event, int(p), max(int(search_fraction * period * fs), 2), params.onset_fraction,
                        params.ic_method == "tangent") for p, period in zip(peaks, period_s))], dtype=float)
        seen = np.isfinite(onsets)
        if seen.any() and not seen.all():
            onsets[~seen] = peaks[~seen] - _nearby_median_lag(peaks, onsets, seen)
    if params.walking_peak_lag_s is not None:
        # walking has no flight: the trunk's vertical acceleration starts rising well before heel contact,
        # and contact is better placed a fixed lag before the loading-response peak
        onsets[walking] = peaks[walking] - params.walking_peak_lag_s * fs
    keep = np.isfinite(onsets) & (onsets >= 0)
    return keep, onsets[keep]


def _nearby_median_lag(peaks: np.ndarray, onsets: np.ndarray, seen: np.ndarray, k: int = LAG_NEIGHBOURS) -> np.ndarray:
    """For each contact whose onset was not seen, the median peak-to-onset lag of the `k` nearest contacts
    whose onset was: local, so that a stretch of a recording (a streaming window) places them as the whole
    recording does."""
    seen_idx = np.flatnonzero(seen)
    lags = peaks[seen_idx] - onsets[seen_idx]
    out = []
    for i in np.flatnonzero(~seen):
        nearest = np.argsort(np.abs(seen_idx - i), kind="stable")[:k]
        out.append(np.median(lags[nearest]))
    return np.array(out)


HIDDEN_STEPS_MAX = 2
HIDDEN_STEP_TOLERANCE = 0.4
"""Two walking contacts k + 1 local step periods apart (k up to HIDDEN_STEPS_MAX, within +-0.4 of a
period) have k steps between them that the signal hid; further apart, the walker paused."""


def _with_hidden_walking_steps(ic_s: np.ndarray, step_s: np.ndarray, walking: np.ndarray) -> Contacts:
    """Add the steps hidden between two walking contacts whole step periods apart, evenly between them,
    flagged estimated. At the wrist the arm swings once a stride, adding to one step's bounce and taking
    from the next: the period still reads a step, but a step can stay under the prominence. The feet's
    alternation spaces the hidden contacts evenly, as for the other foot of a shank sensor."""
    periods = np.diff(ic_s) / step_s[:-1]
    hidden = np.rint(periods).astype(int) - 1
    hidden[~(walking[:-1] & walking[1:]) | (np.abs(periods - np.rint(periods)) > HIDDEN_STEP_TOLERANCE)] = 0
    hidden = np.clip(hidden, 0, None)
    hidden[hidden > HIDDEN_STEPS_MAX] = 0
    gap = np.repeat(np.arange(len(hidden)), hidden)
    order_in_gap = np.concatenate([np.arange(1, k + 1) for k in hidden]) if hidden.any() else np.empty(0)
    added = ic_s[gap] + (ic_s[gap + 1] - ic_s[gap]) * order_in_gap / (hidden[gap] + 1)
    times = np.concatenate([ic_s, added])
    estimated = np.concatenate([np.zeros(len(ic_s), bool), np.ones(len(added), bool)])
    order = np.argsort(times, kind="stable")
    return Contacts(times[order], np.ones(len(times), dtype=bool), estimated[order],
                    np.concatenate([walking, np.ones(len(added), bool)])[order])


def _with_other_foot(own_ic_s: np.ndarray, stride_s: np.ndarray, walking: np.ndarray, start_s: float,
                     end_s: float) -> Contacts:
    """Add the other foot's contact at mid-stride between consecutive own-leg contacts, flagged estimated.

    The other leg lands while the sensor's leg swings, so its contact is buried in the swing's own
    accelerations (several g at the shank); the mid-point is within a few percent of a stride of it for
    any runner whose left-right step times are symmetric within that. Half a stride before the first and
    after the last own contact count too, where the data reach.
    """
    a, b = own_ic_s[:-1], own_ic_s[1:]
    between = (b - a) <= 1.5 * stride_s[:-1]  # not across a pause
    ends = np.array([own_ic_s[0] - stride_s[0] / 2, own_ic_s[-1] + stride_s[-1] / 2])
    ends_walking = walking[[0, -1]]
    inside_data = (ends >= start_s) & (ends <= end_s)
    other = np.concatenate([0.5 * (a + b)[between], ends[inside_data]])
    other_walking = np.concatenate([walking[:-1][between], ends_walking[inside_data]])
    times = np.concatenate([own_ic_s, other])
    own = np.concatenate([np.ones(len(own_ic_s), bool), np.zeros(len(other), bool)])
    order = np.argsort(times, kind="stable")
    return Contacts(times[order], own[order], ~own[order], np.concatenate([walking, other_walking])[order])
