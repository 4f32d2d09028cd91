"""The simulator grid of issue 2: placement x direction x cadence x sampling rate x seed, scored against truth."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from analyzer import analyze
from analyzer.validate import match_events
from sensors.simulator import simulate

PLACEMENTS = ("shank", "sacrum", "phone_pocket", "wrist")
DIRECTIONS = ("forward", "backward")
CADENCES_SPM = (150.0, 180.0, 210.0)
RATES_HZ = (50.0, 100.0, 200.0, 500.0)
SEEDS = (0, 1, 2)
TOLERANCE_S = 0.04
EDGE_MARGIN_S = 0.1
"""Contacts within 0.1 s of either end of the recording are not scored, detected or true: their rise or
peak lies partly outside the data (the simulator starts a run mid-stride)."""


def inside(times_s, start_s: float, end_s: float) -> np.ndarray:
    times_s = np.asarray(times_s)
    return times_s[(times_s >= start_s + EDGE_MARGIN_S) & (times_s <= end_s - EDGE_MARGIN_S)]


@dataclass(frozen=True)
class GridResult:
    placement: str
    direction: str
    cadence_spm: float
    sampling_rate_hz: float
    seed: int
    recall: float
    precision: float
    median_bias_ms: float
    cadence_error_spm: float
    rotation_max_shift_samples: float
    rotation_impact_change_pct: float


def run_case(placement: str, direction: str, cadence_spm: float, rate_hz: float, seed: int,
             duration_s: float = 60.0) -> GridResult:
    sim = simulate(placement, direction, cadence_spm=cadence_spm, sampling_rate_hz=rate_hz,
                   duration_s=duration_s, seed=seed, rotation="random")
    aligned = simulate(placement, direction, cadence_spm=cadence_spm, sampling_rate_hz=rate_hz,
                       duration_s=duration_s, seed=seed, rotation=None)
    result = analyze(sim.recording)
    straight = analyze(aligned.recording)
    start_s, end_s = sim.recording.time_s[0], sim.recording.time_s[-1]
    match = match_events(inside(result.steps["time_s"], start_s, end_s), inside(sim.truth["ic_s"], start_s, end_s),
                         TOLERANCE_S)
    true_cadence = 60.0 / np.median(np.diff(sim.truth["ic_s"]))
    a, b = result.steps["time_s"].to_numpy(), straight.steps["time_s"].to_numpy()
    shift = np.abs(a - b).max() * rate_hz if len(a) == len(b) and len(a) else float("inf")
    ia, ib = result.summary.impact_g_median, straight.summary.impact_g_median
    return GridResult(placement, direction, cadence_spm, rate_hz, seed, match.recall, match.precision,
                      1000 * match.median_bias_s, abs(result.summary.cadence_spm - true_cadence), shift,
                      100 * abs(ia - ib) / ib)


def cases(placements=PLACEMENTS, directions=DIRECTIONS, cadences=CADENCES_SPM, rates=RATES_HZ, seeds=SEEDS):
    return itertools.product(placements, directions, cadences, rates, seeds)
