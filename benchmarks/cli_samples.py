"""`retrorun analyze` on each bundled sample, the whole process (issue 2: under 2 s each).
Writes benchmarks/results/cli_samples.md.   python -m benchmarks.cli_samples
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 3


def wall_times_s(cmd: list[str]) -> list[float]:
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return times


def main() -> int:
    lines = ["# `retrorun analyze` on the bundled samples", "",
             f"Whole process (interpreter start, imports, CSV parse, analysis, printing), {REPEATS} runs.", "",
             "| sample | best (s) | median (s) | target |", "|---|---|---|---|"]
    for sample in sorted((ROOT / "sample_data").glob("*hz.csv")):
        times = wall_times_s([sys.executable, "-m", "analyzer.cli", "analyze", str(sample)])
        lines.append(f"| {sample.name} | {min(times):.2f} | {statistics.median(times):.2f} | < 2 |")
    out = ROOT / "benchmarks" / "results" / "cli_samples.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
