"""Scoring detected contacts against ground truth (force plates, foot switches, the simulator)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Match:
    """One-to-one matching of detected to true events within a tolerance."""

    true_positives: int
    detected: int
    truth: int
    errors_s: np.ndarray  # detected minus true time, per matched pair

    @property
    def precision(self) -> float:
        return self.true_positives / self.detected if self.detected else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.truth if self.truth else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def median_bias_s(self) -> float:
        return float(np.median(self.errors_s)) if len(self.errors_s) else float("nan")

    def __add__(self, other: "Match") -> "Match":
        return Match(self.true_positives + other.true_positives, self.detected + other.detected,
                     self.truth + other.truth, np.concatenate([self.errors_s, other.errors_s]))


def match_events(detected_s, truth_s, tolerance_s: float) -> Match:
    """Pair each true event with the nearest unused detection within `tolerance_s` (in time order)."""
    det = np.sort(np.asarray(detected_s, dtype=float))
    used = np.zeros(len(det), dtype=bool)
    errors = []
    for t in np.sort(np.asarray(truth_s, dtype=float)):
        lo = np.searchsorted(det, t - tolerance_s, side="left")
        hi = np.searchsorted(det, t + tolerance_s, side="right")
        free = [i for i in range(lo, hi) if not used[i]]
        if free:
            i = min(free, key=lambda j: abs(det[j] - t))
            used[i] = True
            errors.append(det[i] - t)
    return Match(len(errors), len(det), len(np.asarray(truth_s)), np.asarray(errors))
