"""Speed of `retrorun report` on a one-hour session (target: under 5 s for the whole command).
Writes benchmarks/results/report_speed.md.   python -m benchmarks.report_speed
"""
from __future__ import annotations

import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import sensors
from benchmarks.timing import timed
from analyzer import analyze
from analyzer.report import prepare_session, report_html
from analyzer.session import direction_of
from benchmarks.output import publish

REPEATS = 3
TARGET_S = 5.0


def main() -> int:
    run = sensors.simulate("shank", "backward", sampling_rate_hz=200, duration_s=3600, seed=0, session=True)
    rec = run.recording
    lines = ["# Report speed", "",
             f"Machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
             f"{REPEATS} repeats (best / median). Session: simulated 1 h backward shank session at 200 Hz "
             f"({len(rec)} samples, {len(run.truth)} contacts), `python -m benchmarks.report_speed`.", "",
             "| what | best (s) | median (s) | target |", "|---|---|---|---|"]
    result = analyze(rec)
    direction, source = direction_of(rec)
    best, med = timed(lambda: report_html([prepare_session("hour", rec, result, direction, source)]))
    lines.append(f"| figures + verdict + HTML (library, analysis done) | {best:.2f} | {med:.2f} | - |")
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in (".npz", ".csv"):
            path = Path(tmp) / f"hour{suffix}"
            rec.save(path)
            out = Path(tmp) / "report.html"
            cmd = [sys.executable, "-m", "analyzer.cli", "report", str(path), "-o", str(out), "--figures",
                   str(Path(tmp) / "figs"), "--no-history"]
            best, med = timed(lambda: subprocess.run(cmd, check=True, capture_output=True))
            size_kb = out.stat().st_size / 1024
            lines.append(f"| `retrorun report hour{suffix} -o report.html --figures DIR` (whole process; "
                         f"page {size_kb:.0f} kB) | {best:.2f} | {med:.2f} | < {TARGET_S:g} |")
    publish("report_speed", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
