"""`retrorun analyze` on each bundled sample, the whole process (issue 2: under 2 s each).
Writes benchmarks/results/cli_samples.md.   python -m benchmarks.cli_samples
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.timing import timed

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 3


def main() -> int:
    lines = ["# `retrorun analyze` on the bundled samples", "",
             f"Whole process (interpreter start, imports, CSV parse, analysis, printing), {REPEATS} runs.", "",
             "| sample | best (s) | median (s) | target |", "|---|---|---|---|"]
    for sample in sorted((ROOT / "sample_data").glob("*hz.csv")):
        cmd = [sys.executable, "-m", "analyzer.cli", "analyze", str(sample)]
        best, med = timed(lambda: subprocess.run(cmd, check=True, capture_output=True), REPEATS)
        lines.append(f"| {sample.name} | {best:.2f} | {med:.2f} | < 2 |")
    out = ROOT / "benchmarks" / "results" / "cli_samples.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
