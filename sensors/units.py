"""Detecting and converting the unit of acceleration samples.

At rest, or averaged over a few seconds of any activity with a steadily worn sensor, the
accelerometer reads gravity: 1 g = 9.80665 m/s^2 = 1000 mg. That magnitude tells the unit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import UnitError

STANDARD_GRAVITY_MPS2 = 9.80665

G_PER_UNIT = {"g": 1.0, "m/s^2": 1.0 / STANDARD_GRAVITY_MPS2, "mg": 1e-3}
UNIT_ALIASES = {"g": "g", "m/s^2": "m/s^2", "m/s2": "m/s^2", "ms2": "m/s^2", "mps2": "m/s^2", "m/s²": "m/s^2",
                "mg": "mg", "milli-g": "mg"}

GRAVITY_TOLERANCE = 0.35
"""Accept a gravity estimate within +-35 % of 1 g in some unit (sensor offsets, tilting phones)."""

WINDOW_S = 2.0
"""Window over which the mean vector approximates gravity (longer than a stride at any cadence)."""


@dataclass(frozen=True)
class UnitDecision:
    unit: str
    gravity_in_unit: float
    detected: bool

    def describe(self) -> str:
        if self.detected and self.unit != "g":
            return f"converted from {self.unit} to g (gravity read {self.gravity_in_unit:.3g} {self.unit})"
        if self.detected:
            return f"g (detected: gravity read {self.gravity_in_unit:.3g} g)"
        return f"{self.unit} (as stated)" + doubt_about_stated_unit(self.gravity_in_unit, self.unit)


def doubt_about_stated_unit(gravity_in_unit: float, unit: str) -> str:
    """A warning, for the units line, when a stated unit makes gravity read far from 1 g (a recording in
    m/s^2 stated as g reads 9.8 g); empty when gravity reads about 1 g or cannot be read."""
    gravity_g = gravity_in_unit * G_PER_UNIT[normalise_unit(unit)]
    if not np.isfinite(gravity_g) or abs(gravity_g - 1.0) <= GRAVITY_TOLERANCE:
        return ""
    return (f"; but gravity then reads {gravity_g:.3g} g, not about 1 g: check the unit "
            "(or the data has gravity removed)")


def normalise_unit(unit: str) -> str:
    key = unit.strip().lower().replace(" ", "")
    if key not in UNIT_ALIASES:
        raise UnitError("unknown unit", found=repr(unit), expected="one of g, m/s^2, mg")
    return UNIT_ALIASES[key]


def gravity_magnitude(acc: np.ndarray, time_s: np.ndarray) -> float:
    """Median over WINDOW_S windows of the magnitude of the window's mean vector: gravity, in the data's unit."""
    n = len(acc)
    if n == 0:
        return float("nan")
    duration_s = float(time_s[-1] - time_s[0]) if n > 1 else 0.0
    windows = max(1, int(duration_s // WINDOW_S))
    edges = np.linspace(0, n, windows + 1).astype(int)
    means = np.array([acc[a:b].mean(axis=0) for a, b in zip(edges[:-1], edges[1:]) if b > a])
    return float(np.median(np.linalg.norm(means, axis=1)))


def decide_unit(acc: np.ndarray, time_s: np.ndarray, stated: str | None = None, *, path=None) -> UnitDecision:
    """Which unit `acc` is in: the stated one, or the one whose gravity reads about 1 g; else UnitError."""
    gravity = gravity_magnitude(acc, time_s)
    if stated is not None:
        return UnitDecision(normalise_unit(stated), gravity, detected=False)
    for unit, g_per_unit in G_PER_UNIT.items():
        if abs(gravity * g_per_unit - 1.0) <= GRAVITY_TOLERANCE:
            return UnitDecision(unit, gravity, detected=True)
    raise UnitError(
        "cannot tell the acceleration unit: the mean vector should read gravity (1 g, 9.81 m/s^2 or 1000 mg)",
        path=path, found=f"gravity magnitude {gravity:.3g} (gravity removed, or an unusual unit?)",
        expected="state the unit with --unit g|m/s^2|mg (or a '# unit: ...' header line)")


def to_g(acc: np.ndarray, unit: str) -> np.ndarray:
    return acc * G_PER_UNIT[normalise_unit(unit)]
