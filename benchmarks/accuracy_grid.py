"""Issue 2 acceptance on the simulator grid; writes benchmarks/results/accuracy_grid.{csv,md}.

    python -m benchmarks.accuracy_grid            # full grid: 4 placements x 2 directions x 3 cadences x 4 rates x 3 seeds
"""
from __future__ import annotations

import multiprocessing
import os
import sys
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from benchmarks.grid import cases, run_case

RESULTS = Path(__file__).parent / "results"


def _run(case):
    return run_case(*case)


def main() -> int:
    all_cases = list(cases())
    rows = []
    with multiprocessing.Pool(os.cpu_count()) as pool:
        for i, result in enumerate(pool.imap(_run, all_cases), 1):
            rows.append(asdict(result))
            print(f"\r{i}/{len(all_cases)} runs", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    table = pd.DataFrame(rows)
    RESULTS.mkdir(exist_ok=True)
    table.to_csv(RESULTS / "accuracy_grid.csv", index=False, float_format="%.4f")
    fast = table.sampling_rate_hz >= 100
    lines = ["# Simulator grid (issue 2 acceptance)", "",
             f"{len(table)} runs of 60 s; contacts matched within +-40 ms; contacts within 0.1 s of the ends "
             "of a recording are not scored (their rise or peak lies outside the data).", "",
             "| rates | recall (min) | precision (min) | target |", "|---|---|---|---|"]
    for label, sel, target in (("<= 50 Hz", ~fast, 0.97), (">= 100 Hz", fast, 0.99)):
        lines.append(f"| {label} | {table.recall[sel].min():.4f} | {table.precision[sel].min():.4f} | >= {target} |")
    lines += ["", "| placement | direction | recall mean | precision mean | median bias (ms) | cadence error median (spm) |",
              "|---|---|---|---|---|---|"]
    for (pl, d), g in table.groupby(["placement", "direction"]):
        lines.append(f"| {pl} | {d} | {g.recall.mean():.4f} | {g.precision.mean():.4f} | "
                     f"{g.median_bias_ms.median():.1f} | {g.cadence_error_spm.median():.2f} |")
    lines += ["", f"- median cadence error over all runs: {table.cadence_error_spm.median():.3f} spm (target <= 1)",
              f"- rotation: largest step shift {table.rotation_max_shift_samples.max():.2f} samples (target <= 1); "
              f"largest median-impact change {table.rotation_impact_change_pct.max():.2f} % (target < 2)"]
    worst = table.assign(worst_of_both=table[["recall", "precision"]].min(axis=1)).sort_values("worst_of_both").head(5)
    lines += ["", "Worst five runs (lowest of recall and precision):", "", "```", worst.to_string(index=False), "```"]
    (RESULTS / "accuracy_grid.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:12]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
