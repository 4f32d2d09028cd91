"""The `Recording`: every source of samples (BLE, importers, simulator) produces one.

Acceleration is specific force in g with gravity included (1 g at rest), in the sensor frame
`acc_x, acc_y, acc_z`; time is seconds from the first sample.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import InputError

PLACEMENTS = ("shank", "foot", "sacrum", "chest", "wrist", "phone_pocket", "phone_arm")
"""Where the sensor is worn. `auto` is accepted by the analyzer only, never stored."""

SENSOR_AXES = ("acc_x", "acc_y", "acc_z")

GAP_FACTOR = 3.0
"""A pause between samples longer than this many nominal periods is a gap (issue 2)."""


def check_placement(placement: str | None, *, allow_auto: bool = False) -> str | None:
    """Return `placement` if known, else raise an InputError listing the known ones."""
    if placement is None:
        return None
    known = PLACEMENTS + (("auto",) if allow_auto else ())
    if placement not in known:
        raise InputError("unknown placement", found=repr(placement), expected="one of " + ", ".join(known))
    return placement


def nominal_rate_hz(time_s: np.ndarray) -> float:
    """The nominal sampling rate: the inverse of the median sample interval (robust to jitter and gaps)."""
    if len(time_s) < 2:
        return float("nan")
    return float(1.0 / np.median(np.diff(time_s)))


def find_gaps(time_s: np.ndarray, sampling_rate_hz: float, factor: float = GAP_FACTOR) -> list[tuple[float, float]]:
    """(start_s, end_s) of every pause longer than `factor` nominal periods: the last sample before, the first after."""
    if len(time_s) < 2 or not np.isfinite(sampling_rate_hz):
        return []
    dt = np.diff(time_s)
    idx = np.flatnonzero(dt > factor / sampling_rate_hz)
    return [(float(time_s[i]), float(time_s[i + 1])) for i in idx]


@dataclass
class Recording:
    """Samples of one accelerometer: `time_s` (N,) float64 and `acc_g` (N, 3) float64, specific force in g.

    `sampling_rate_hz` (nominal) and `gaps` are derived from `time_s` when not given. `metadata` holds
    provenance: device, source file, units found and any conversion applied.
    """

    time_s: np.ndarray
    acc_g: np.ndarray
    placement: str | None = None
    sampling_rate_hz: float | None = None
    start_time: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    gaps: list[tuple[float, float]] | None = None

    def __post_init__(self) -> None:
        self.time_s = np.ascontiguousarray(self.time_s, dtype=np.float64).reshape(-1)
        acc = np.ascontiguousarray(self.acc_g, dtype=np.float64)
        if acc.ndim != 2 or acc.shape[1] != 3:
            raise InputError("acceleration must have three axes", found=f"shape {acc.shape}", expected="(N, 3)")
        if acc.shape[0] != self.time_s.shape[0]:
            raise InputError("time and acceleration differ in length",
                             found=f"{self.time_s.shape[0]} times, {acc.shape[0]} samples", expected="equal")
        self.acc_g = acc
        check_placement(self.placement)
        if len(self.time_s) > 1:
            steps = np.diff(self.time_s)
            bad = np.flatnonzero(steps <= 0)
            if bad.size:
                i = int(bad[0])
                kind = "duplicate timestamp" if steps[i] == 0 else "time goes backwards"
                raise InputError(kind, found=f"{self.time_s[i + 1]!r} after {self.time_s[i]!r} at sample {i + 1}",
                                 expected="strictly increasing time_s")
        if self.sampling_rate_hz is None:
            self.sampling_rate_hz = nominal_rate_hz(self.time_s)
        if self.gaps is None:
            self.gaps = find_gaps(self.time_s, self.sampling_rate_hz)

    def __len__(self) -> int:
        return len(self.time_s)

    @property
    def duration_s(self) -> float:
        return float(self.time_s[-1] - self.time_s[0]) if len(self.time_s) else 0.0

    def save(self, path) -> None:
        """Write the canonical CSV (`.csv`) or the binary format (`.npz`), chosen by the suffix."""
        from .fileformat import save
        save(self, path)
