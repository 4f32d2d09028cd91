"""Rerun the choice of the gait gate's and the run evidence's thresholds (analyzer/gate.py,
analyzer/placement.py run_*), on tuning data only: the odd-numbered people of the real everyday recordings
(benchmarks/realdata.py `is_tuning_person`) and simulated sessions with seeds TUNING_SEEDS, none of which
benchmarks/everyday.py or benchmarks/direction.py score. Writes benchmarks/results/tuning_gate.md.

    python -m benchmarks.tuning.gate          (about 2 minutes on 2 cores)

For each 6-s window (the detector's period windows) it reads the features the gate uses, with the
placement's own detector: regularity, intensity (std of |a|), and the vertical signal's floor and range.
It prints their percentiles per kind of activity and, for the thresholds in force, the share of windows
that pass: gait windows should pass the gate and non-gait ones not; runs should show a flight and walks not.
"""
from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from analyzer.gate import gait_windows
from analyzer.placement import params_for
from analyzer.preprocess import segments
from analyzer.steps import event_signals, period_windows
from benchmarks.output import publish
from benchmarks.realdata import HAPT, MOTIONSENSE, NON_GAIT, hapt_sessions, motionsense_segments
from sensors import Recording, simulate

TUNING_SEEDS = (8001, 8002)
"""Simulated sessions used to choose thresholds (scored sessions use seeds 100+ and 7)."""
PLACEMENTS = ("sacrum", "phone_pocket", "phone_arm", "wrist")
PERCENTILES = (1, 5, 50, 95, 99)


def window_table(rec: Recording, placement: str) -> pd.DataFrame:
    """One row per window: its centre (recording time), the gate's features and its verdicts."""
    params = params_for(placement)
    frames = []
    for seg in segments(rec, 1.0):
        fs = seg.sampling_rate_hz
        signals = event_signals(seg, params)
        windows = period_windows(signals.periodic, fs, params, first_sample=int(round(seg.time_s[0] * fs)),
                                 regularity_of=signals.running if params.period_highpass_hz else None)
        gate = gait_windows(seg.magnitude_g, signals.floor, windows.centre_s, windows.start, windows.length,
                            windows.strength, params.gate)
        flight = gate.shows_flight(gate.centre_s, params.run_max_floor_g, params.run_shallow_floor_g,
                                   params.run_min_range_g) if params.run_max_floor_g is not None else np.nan
        frames.append(pd.DataFrame({"centre_s": gate.centre_s + seg.time_s[0], "regularity": gate.regularity,
                                    "intensity_g": gate.intensity_g, "floor_g": gate.floor_g,
                                    "range_g": gate.peak_g - gate.floor_g, "gait": gate.gait, "flight": flight}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def real_windows(placement: str) -> pd.DataFrame:
    frames = []
    for activity, _, rec in motionsense_segments(tuning=True):
        frames.append(window_table(rec, placement).assign(kind=f"pocket {activity}"))
    for _, _, rec, labels in hapt_sessions(tuning=True):
        table = window_table(rec, placement)
        table["kind"] = None
        for row in labels.itertuples():  # windows wholly inside one labelled segment
            inside = (table.centre_s - 3 >= row.start_s) & (table.centre_s + 3 <= row.end_s)
            name = "non-gait" if row.activity in NON_GAIT else row.activity
            table.loc[inside, "kind"] = f"waist {name}"
        frames.append(table.dropna(subset=["kind"]))
    return pd.concat(frames, ignore_index=True)


def simulated_windows(placement: str) -> pd.DataFrame:
    frames = []
    for seed in TUNING_SEEDS:
        for direction in ("forward", "backward"):
            for cadence in (140, 180, 220):
                for rate in (50, 100):
                    run = simulate(placement, direction, cadence_spm=cadence, sampling_rate_hz=rate,
                                   duration_s=300, seed=seed, session=True)
                    table = window_table(run.recording, placement)
                    table["kind"] = None
                    for part in run.settings["schedule"]:
                        if part["activity"] in ("run", "walk"):
                            inside = (table.centre_s >= part["start_s"]) & (table.centre_s <= part["end_s"])
                            table.loc[inside, "kind"] = f"simulated {part['activity']} {direction}"
                    frames.append(table.dropna(subset=["kind"]))
    return pd.concat(frames, ignore_index=True)


def main() -> int:
    if not (MOTIONSENSE.is_dir() and HAPT.is_dir()):
        print(f"skipped: real recordings not found under {MOTIONSENSE.parent}", file=sys.stderr)
        return 0
    lines = ["# Tuning the gait gate and the run evidence (tuning data only)", "",
             "Odd-numbered people of motionsense (pocket) and uci-hapt (waist), each analysed with the named "
             f"placement's detector, and simulated sessions with seeds {', '.join(map(str, TUNING_SEEDS))}. "
             "Percentiles of each window feature, and the share of windows the thresholds in force let through "
             "('gait': the gate; 'flight': a run's evidence).", ""]
    for placement in PLACEMENTS:
        table = pd.concat([real_windows(placement), simulated_windows(placement)], ignore_index=True)
        params = params_for(placement)
        lines += [f"## {placement}", "",
                  f"gate: regularity >= {params.gate.min_regularity}, intensity >= {params.gate.min_intensity_g} g; "
                  f"flight: floor <= {params.run_max_floor_g} g"
                  + (f", or <= {params.run_shallow_floor_g} g with a range >= {params.run_min_range_g} g"
                     if params.run_shallow_floor_g is not None else ""), "",
                  "| kind | windows | " + " | ".join(f"{f} p{', p'.join(map(str, PERCENTILES))}" for f in
                                                   ("regularity", "intensity g", "floor g", "range g"))
                  + " | gait | flight (of gait) |", "|---|---|---|---|---|---|---|---|"]
        for kind, group in table.groupby("kind"):
            cells = [" / ".join(f"{v:.2f}" for v in np.percentile(group[c], PERCENTILES))
                     for c in ("regularity", "intensity_g", "floor_g", "range_g")]
            gait = group[group.gait]
            lines.append(f"| {kind} | {len(group)} | " + " | ".join(cells) + f" | {group.gait.mean():.3f} | "
                         f"{gait.flight.astype(float).mean() if len(gait) else float('nan'):.3f} |")
        lines.append("")
    publish("tuning_gate", lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
