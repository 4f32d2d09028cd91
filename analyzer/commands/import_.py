"""`retrorun import`: turn a phone or wearable app export into the canonical recording (.csv or .npz)."""
from __future__ import annotations

import argparse
from pathlib import Path

from sensors.errors import RetrorunError
from sensors.recording import PLACEMENTS

from .output import check_recording_output

EPILOG_IMPORT = """\
examples:
  retrorun import 2023-11-24_07-25-54.zip -o run.csv                  # Sensor Logger zip (or its folder)
  retrorun import Polar_Sense_A40F6F28_20220425_113903_ACC.txt --placement shank -o run.npz
  retrorun import "Acceleration with g 2024-03-17 19-49-39.zip" -o run.csv   # phyphox CSV or .xlsx
  retrorun import 2023-03-0108.32.38.csv -o run.csv                   # Physics Toolbox (decimal commas fine)
  retrorun import MetaWear_Accelerometer.csv -o run.csv                 # MetaBase
  retrorun import log.txt --format generic_csv --columns t,ax,ay,az --units m/s^2 -o run.csv

Formats (detected from the content; --format to insist): sensor_logger, polar_sensor_logger, phyphox,
physics_toolbox, metabase, generic_csv, canonical. What each reads, and how units and clocks are
converted, is in docs/formats.md. Data with gravity removed (phyphox 'Acceleration without g', a
linear accelerometer) is refused unless --units is given. Nothing is written unless the import succeeded.
"""


def register(sub: argparse._SubParsersAction) -> None:
    from sensors.importers import FORMAT_NAMES

    p = sub.add_parser("import", help="convert an app export (Sensor Logger, Polar, phyphox, ...) to a recording",
                       description="Read a phone or wearable app export and write the canonical recording.",
                       epilog=EPILOG_IMPORT, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", type=Path, help="the export: a file, a zip or an unzipped folder")
    p.add_argument("--format", choices=FORMAT_NAMES, help="the app layout (default: detected from the content)")
    p.add_argument("--placement", choices=PLACEMENTS, help="where the sensor was worn (stored in the output)")
    p.add_argument("--columns", metavar="T,X,Y,Z", help="generic CSV: the time column and the x, y, z columns")
    p.add_argument("--units", "--unit", dest="units", metavar="UNIT",
                   help="acceleration unit, g, m/s^2 or mg (default: from the file, else detected from gravity)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.csv|OUT.npz",
                   help="the recording to write: canonical CSV, or .npz (fast, exact)")
    p.set_defaults(func=cmd_import)


def cmd_import(args: argparse.Namespace) -> None:
    from sensors import load

    check_recording_output(args.output)
    recording = load(args.file, format=args.format, columns=args.columns, units=args.units,
                     placement=args.placement)
    print(describe(args.file, recording))
    try:
        recording.save(args.output)  # atomic: a failed write leaves no half file
    except OSError as exc:
        raise RetrorunError(f"{args.output}: cannot write: {exc.strerror}") from None
    print(f"wrote {args.output}")


def describe(path: Path, recording) -> str:
    """What was read and how: the lines a user checks before trusting the conversion."""
    meta = recording.metadata
    lines = [f"{path}",
             f"  format      {meta.get('format', 'canonical')}" + (f" ({meta['detected']})" if meta.get("detected") else ""),
             f"  read        {meta.get('read', 'time_s, acc_x, acc_y, acc_z')}",
             f"  samples     {len(recording)} at {recording.sampling_rate_hz:.1f} Hz over {recording.duration_s:.1f} s"
             f" (gaps: {len(recording.gaps) or 'none'})",
             f"  clock       {meta.get('clock', 'time_s')}",
             f"  units       {meta.get('unit_conversion', 'g')}"]
    if recording.start_time:
        lines.append(f"  start       {recording.start_time}")
    if meta.get("notes"):
        lines.append(f"  note        {meta['notes']}")
    return "\n".join(lines)
