"""Speed: binary load of one hour at 200 Hz, `retrorun analyze` on each sample, analysis throughput.
Writes benchmarks/results/speed.md.   python -m benchmarks.speed
"""
from __future__ import annotations

import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sensors
from analyzer import analyze

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
REPEATS = 5


def best_and_median(fn, repeats: int = REPEATS) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def main() -> int:
    lines = ["# Speed", "", f"Machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
             f"{REPEATS} repeats (best / median).", ""]
    hour = sensors.simulate("shank", "backward", sampling_rate_hz=200, duration_s=3600, seed=0).recording
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hour.npz"
        hour.save(path)
        best, med = best_and_median(lambda: sensors.load(path))
        lines += ["| what | best (s) | median (s) | target |", "|---|---|---|---|",
                  f"| load 1 h at 200 Hz ({len(hour)} samples) from .npz | {best:.4f} | {med:.4f} | well under 0.1 |"]
        best, med = best_and_median(lambda: analyze(hour), repeats=3)
        lines.append(f"| analyze() 1 h at 200 Hz, shank | {best:.3f} | {med:.3f} | - |")
    for sample in sorted((ROOT / "sample_data").glob("*hz.csv")):
        cmd = [sys.executable, "-m", "analyzer.cli", "analyze", str(sample)]
        best, med = best_and_median(lambda: subprocess.run(cmd, check=True, capture_output=True), repeats=3)
        lines.append(f"| `retrorun analyze sample_data/{sample.name}` (whole process) | {best:.2f} | {med:.2f} | < 2 |")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
