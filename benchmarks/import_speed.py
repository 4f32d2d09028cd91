"""Import speed: one hour of a 200 Hz recording exported in each app layout, read back to a Recording.
Target (issue 4): under 2 s per format. Writes benchmarks/results/import_speed.md.
    python -m benchmarks.import_speed
"""
from __future__ import annotations

import platform
import sys
import tempfile
from pathlib import Path

import sensors
from benchmarks.timing import timed
from sensors.importers import exporters, read
from benchmarks.output import publish

REPEATS = 3
TARGET_S = 2.0

CASES = [
    ("sensor_logger", "hour.zip", {}, {}),
    ("polar_sensor_logger", "Polar_H10_hour_ACC.txt", {}, {}),
    ("phyphox", "hour.zip", {}, {}),
    ("phyphox", "hour_semicolon_decimal_comma.csv", {"container": "file", "delimiter": ";", "decimal": ","}, {}),
    ("phyphox", "hour.xlsx", {"container": "xlsx"}, {}),
    ("physics_toolbox", "2024-05-0408.30.15.csv", {}, {}),
    ("metabase", "hour.csv", {}, {}),
    ("generic_csv", "hour.csv", {}, {"columns": "t_ms,acc_lr,acc_ud,acc_fb"}),
]
"""(format, file name, export layout, read arguments). The .xlsx is read by sensors/importers/xlsx.py; writing
it (openpyxl) takes about 30 s, reading it is timed like the others."""


def main() -> int:
    hour = sensors.simulate("shank", "backward", sampling_rate_hz=200, duration_s=3600, seed=0).recording
    lines = ["# Import speed", "",
             f"One hour at 200 Hz ({len(hour)} samples, simulated shank run) exported in each layout by "
             "`sensors.importers.exporters`, then read with `sensors.importers.read` (detection, parsing, checks, "
             f"unit conversion). Machine: {platform.processor() or platform.machine()}, Python "
             f"{platform.python_version()}, {REPEATS} repeats (best / median). Target: < {TARGET_S:.0f} s.", "",
             "| format | file | size (MB) | best (s) | median (s) | under target |", "|---|---|---|---|---|---|"]
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, name, layout, read_args in CASES:
            path = Path(tmp) / fmt / name
            path.parent.mkdir(exist_ok=True)
            exporters.EXPORTERS[fmt](hour, path, **layout)
            rec = read(path, **read_args)
            assert len(rec) == len(hour) and rec.metadata["format"] == fmt
            best, med = timed(lambda: read(path, **read_args))
            worst = max(worst, med)
            lines.append(f"| {fmt} | {name} | {path.stat().st_size / 1e6:.1f} | {best:.2f} | {med:.2f} | "
                         f"{'yes' if med < TARGET_S else 'NO'} |")
            print(lines[-1], flush=True)
    lines += ["", f"Slowest median: {worst:.2f} s."]
    publish("import_speed", lines)
    return 0 if worst < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
