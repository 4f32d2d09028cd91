"""Detecting and converting the unit of acceleration samples.

Averaged over a few seconds of any activity with a steadily worn sensor, an accelerometer reads gravity:
1 g = 9.80665 m/s^2 = 1000 mg. How far that reading is from 1 g depends on more than the unit: clipping at
+-2 g while jumping cuts the landings and the average drops to about 0.6 g; a swinging foot or shank adds
its centripetal acceleration and reads 1.4-2.3 g. The three units are a factor ~10 and ~1000 apart, so
the unit is the nearest of the three on a logarithmic scale (`UNIT_GRAVITY_BANDS`).

What cannot be told is data with gravity removed (linear acceleration): its level is arbitrary, so it is
recognised by its shape, not its level (`GravityReading.removed`): with gravity, the mean vector of a
2-s window is about as large as the samples themselves; without it, the windows' mean vectors are small
next to the samples, or cancel out over the recording.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import UnitError

STANDARD_GRAVITY_MPS2 = 9.80665

G_PER_UNIT = {"g": 1.0, "m/s^2": 1.0 / STANDARD_GRAVITY_MPS2, "mg": 1e-3}
UNIT_ALIASES = {"g": "g", "m/s^2": "m/s^2", "m/s2": "m/s^2", "ms2": "m/s^2", "mps2": "m/s^2", "m/s²": "m/s^2",
                "mg": "mg", "milli-g": "mg"}

BAND_FACTOR = float(np.sqrt(STANDARD_GRAVITY_MPS2))
"""A unit's band reaches half-way, on a log scale, to the next unit's gravity; g and mg reach as far
outwards (a factor sqrt(9.81) = 3.13) as g reaches towards m/s^2."""


def _bands() -> dict[str, tuple[float, float]]:
    gravity = sorted((1.0 / g_per_unit, unit) for unit, g_per_unit in G_PER_UNIT.items())
    levels = [level for level, _ in gravity]
    edges = ([levels[0] / BAND_FACTOR] + [float(np.sqrt(a * b)) for a, b in zip(levels, levels[1:])]
             + [levels[-1] * BAND_FACTOR])
    return {unit: (edges[i], edges[i + 1]) for i, (_, unit) in enumerate(gravity)}


UNIT_GRAVITY_BANDS = _bands()
"""Gravity reading, in the data's own numbers, that each unit accepts: g [0.319, 3.13], m/s^2 (3.13, 99.0],
mg (99.0, 3131]. Each reading has exactly one nearest unit; outside all three, nothing is guessed."""

WINDOW_S = 2.0
"""Window over which the mean vector approximates gravity (longer than a stride at any cadence)."""

MIN_WINDOW_SAMPLES = 50
"""Fewest samples in a window, whatever the clock says: bounds the number of windows by n/50 (one bad
timestamp cannot multiply them) and keeps the windows' mean of pure noise near 1/sqrt(50) = 0.14 of the
samples' magnitude, half of MIN_MEAN_TO_SAMPLE_RATIO."""

MIN_MEAN_TO_SAMPLE_RATIO = 0.3
"""Gravity is there when the windows' mean vector reads at least 0.3 of the samples' median magnitude.
Chosen on the real recordings in ../shared/data (278: MotionSense, UCI HAPT, Oxford, Alcantara, Polar;
tests/test_units.py checks them): with gravity they read 0.71-1.45, and 0.503 at the lowest when clipped at
+-2 g (a MotionSense jog); with gravity removed (a per-axis 0.5 Hz low-pass subtracted) 0.010-0.194. 0.3 is
near the geometric middle (0.31) of 0.194 and 0.503; the simulator's foot sensor clipped at +-2 g reads
0.40, pure noise about 1/sqrt(samples per window) <= 0.14."""

MIN_RECORDING_TO_WINDOW_RATIO = 0.2
"""Gravity is there when the whole recording's mean vector reads at least 0.2 of a window's. Subtracting
the recording's mean makes it 0 (under 1e-11 on all 278 real recordings), even where the windows still read
orientation changes (a phone that sat, stood and lay) and the first test passes (up to 1.03). With gravity,
real recordings read 0.62-1.04 (the lowest a UCI session with lying down in it): 0.2 is a factor 3 below."""


@dataclass(frozen=True)
class GravityReading:
    """What the samples say about gravity, in the data's own unit.

    `magnitude`: median over ~2-s windows of the magnitude of the window's mean vector (gravity, when it is
    there). `mean_to_sample`: `magnitude` over the median per-sample magnitude (about 1 at rest, well above
    0.5 while running, small for linear acceleration). `recording_to_window`: the magnitude of the whole
    recording's mean vector over `magnitude` (about 1, 0 when the mean was subtracted).
    """

    magnitude: float
    mean_to_sample: float
    recording_to_window: float
    windows: int

    @property
    def removed(self) -> bool:
        """True when the samples look like acceleration with gravity removed (or hold no signal at all)."""
        return bool(self.mean_to_sample < MIN_MEAN_TO_SAMPLE_RATIO
                    or self.recording_to_window < MIN_RECORDING_TO_WINDOW_RATIO)

    def evidence(self, unit: str | None = None) -> str:
        """What was found, for an error message: the two ratios and the level (in `unit`, when known)."""
        level = f"{self.magnitude:.3g}" + (f" {unit}" if unit else "")
        return (f"the 2-s windows' mean vector reads {self.mean_to_sample:.2f} of the samples' magnitude "
                f"(gravity reads {level}) and the recording's mean vector {self.recording_to_window:.2f} of a "
                "window's")


def read_gravity(acc: np.ndarray, time_s: np.ndarray) -> GravityReading:
    """Gravity as the samples read it (see GravityReading), over windows of WINDOW_S by the median sample
    interval, at least MIN_WINDOW_SAMPLES samples each; linear in the number of samples."""
    acc = np.asarray(acc, dtype=np.float64)
    n = len(acc)
    if n == 0:
        return GravityReading(float("nan"), float("nan"), float("nan"), 0)
    interval_s = float(np.median(np.diff(time_s))) if n > 1 else float("nan")
    per_window = round(WINDOW_S / interval_s) if np.isfinite(interval_s) and interval_s > 0 else MIN_WINDOW_SAMPLES
    per_window = int(min(n, max(MIN_WINDOW_SAMPLES, per_window)))
    windows = n // per_window
    per_window = n // windows  # spread the remainder: windows of 2-4 s cover all but < `windows` samples
    blocks = acc[: windows * per_window].reshape(windows, per_window, 3)
    window_means = np.linalg.norm(blocks.mean(axis=1), axis=1)
    sample_magnitude = float(np.median(np.median(np.linalg.norm(blocks, axis=2), axis=1)))
    magnitude = float(np.median(window_means))
    # all-zero samples hold no gravity: their ratios are 0, not undefined (non-finite samples stay NaN)
    mean_to_sample = magnitude / sample_magnitude if sample_magnitude != 0 else 0.0
    recording_to_window = float(np.linalg.norm(acc.mean(axis=0))) / magnitude if magnitude != 0 else 0.0
    return GravityReading(magnitude, mean_to_sample, recording_to_window, windows)


def gravity_magnitude(acc: np.ndarray, time_s: np.ndarray) -> float:
    """Gravity in the data's unit: median over ~2-s windows of the magnitude of the window's mean vector."""
    return read_gravity(acc, time_s).magnitude


def unit_for_gravity(gravity_in_unit: float) -> str | None:
    """The unit whose band holds this gravity reading (the nearest on a log scale), or None outside all."""
    for unit, (low, high) in UNIT_GRAVITY_BANDS.items():
        if low <= gravity_in_unit <= high:
            return unit
    return None


@dataclass(frozen=True)
class UnitDecision:
    unit: str
    gravity_in_unit: float
    detected: bool
    gravity_removed: bool = False

    def describe(self) -> str:
        gravity = _figure(self.gravity_in_unit)
        if self.detected and self.unit != "g":
            return f"converted from {self.unit} to g (gravity read {gravity} {self.unit})"
        if self.detected:
            return f"g (detected: gravity read {gravity} g)"
        return f"{self.unit} (as stated)" + doubt_about_stated_unit(self.gravity_in_unit, self.unit,
                                                                    gravity_removed=self.gravity_removed)


def _figure(value: float) -> str:
    """Three significant figures, without an exponent for readings up to a few thousand (1428, not 1.43e+03)."""
    return f"{value:.0f}" if 1000 <= abs(value) < 1e5 else f"{value:.3g}"


def doubt_about_stated_unit(gravity_in_unit: float, unit: str, *, gravity_removed: bool = False) -> str:
    """A warning, for the units line, when the stated unit is not the one gravity reads in (a recording in
    m/s^2 stated as g reads 9.8 g), or the data looks like it has gravity removed; empty when the reading
    falls in the stated unit's band (a swinging foot at 1.42 g) or cannot be read."""
    unit = normalise_unit(unit)
    if gravity_removed:
        return "; but the data looks like it has gravity removed: impact then reads about 1 g low"
    if not np.isfinite(gravity_in_unit) or unit_for_gravity(gravity_in_unit) == unit:
        return ""
    nearest = unit_for_gravity(gravity_in_unit)
    return (f"; but gravity then reads {_figure(gravity_in_unit * G_PER_UNIT[unit])} g, not about 1 g: check the unit"
            + (f" (the reading fits {nearest})" if nearest else " (or the data has gravity removed)"))


def normalise_unit(unit: str) -> str:
    key = unit.strip().lower().replace(" ", "")
    if key not in UNIT_ALIASES:
        raise UnitError("unknown unit", found=repr(unit), expected="one of g, m/s^2, mg")
    return UNIT_ALIASES[key]


def decide_unit(acc: np.ndarray, time_s: np.ndarray, stated: str | None = None, *, path=None) -> UnitDecision:
    """Which unit `acc` is in: the stated one, or the nearest to its gravity reading on a log scale (g,
    m/s^2, mg); UnitError when gravity looks removed or reads outside all three bands."""
    reading = read_gravity(acc, time_s)
    if stated is not None:
        return UnitDecision(normalise_unit(stated), reading.magnitude, detected=False,
                            gravity_removed=reading.removed)
    if reading.removed:
        raise UnitError(
            "gravity is missing from the data (removed, as in linear acceleration?): its unit cannot be told, and "
            "contacts and landing impact need gravity", path=path,
            found=reading.evidence(),
            expected=f"acceleration with gravity (windows' mean at least {MIN_MEAN_TO_SAMPLE_RATIO} of the samples' "
                     f"magnitude, recording's at least {MIN_RECORDING_TO_WINDOW_RATIO} of a window's), or state "
                     "the unit with --unit g|m/s^2|mg to analyse it anyway")
    unit = unit_for_gravity(reading.magnitude)
    if unit is None:
        bands = ", ".join(f"{unit} {_figure(low)}-{_figure(high)}" for unit, (low, high) in UNIT_GRAVITY_BANDS.items())
        raise UnitError(
            "cannot tell the acceleration unit: the mean vector should read gravity (1 g, 9.81 m/s^2 or 1000 mg)",
            path=path, found=f"gravity magnitude {_figure(reading.magnitude)}",
            expected=f"a reading within one unit's band ({bands}), or state the unit with --unit g|m/s^2|mg "
                     "(or a '# unit: ...' header line)")
    return UnitDecision(unit, reading.magnitude, detected=True)


def to_g(acc: np.ndarray, unit: str) -> np.ndarray:
    return acc * G_PER_UNIT[normalise_unit(unit)]
