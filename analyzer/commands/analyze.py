"""`retrorun analyze`: steps, cadence and landing impact of one recording."""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from sensors.recording import PLACEMENTS

from .common import add_db_argument, add_forward_axis_argument, with_forward_axis
from .output import check_html_output, write_outputs

EPILOG_ANALYZE = """\
examples:
  retrorun analyze sample_data/backward_shank_200hz.csv
  retrorun analyze sample_data/backward_phone_pocket_session_100hz.csv --report report.html
  retrorun analyze run.csv --placement sacrum --json run.json --steps-csv run.steps.csv
  retrorun analyze phone.csv --placement phone_pocket --unit m/s^2
  retrorun analyze 2023-11-24_07-25-54.zip --placement phone_pocket      # a Sensor Logger export
  retrorun analyze log.txt --placement wrist --format generic_csv --columns t,ax,ay,az --units g

The input is the canonical CSV (header time_s,acc_x,acc_y,acc_z, optional '# key: value' lines
before it), the binary .npz format, a foot pod's cadence file (cadence only, no impact), or an app export (Sensor Logger, Polar Sensor Logger, phyphox,
Physics Toolbox, MetaBase, generic CSV; detected from the content, see docs/formats.md); see
docs/recording-format.md. The unit of the acceleration is
detected from gravity (g, m/s^2 or mg) and any conversion is printed; data with gravity removed is
refused unless --unit is given. Output fields are documented in docs/output-schema.md.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="steps, cadence and landing impact of one recording",
                       description="Detect every foot contact in a recording and report cadence and landing "
                                   "impact.", epilog=EPILOG_ANALYZE,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", type=Path, help="recording: canonical .csv, binary .npz, or an app export")
    p.add_argument("--placement", choices=PLACEMENTS + ("auto",),
                   help="where the sensor was worn; auto reads it from the signal (default: the file's "
                        "'# placement:' line, else auto)")
    p.add_argument("--unit", "--units", dest="unit", metavar="UNIT", help="acceleration unit of the file: g, m/s^2 or mg "
                                                  "(default: detected from gravity)")
    add_forward_axis_argument(p)
    p.add_argument("--format", help="app export layout (default: detected); see `retrorun import --help`")
    p.add_argument("--columns", metavar="T,X,Y,Z", help="generic CSV: the time column and the x, y, z columns")
    p.add_argument("--json", type=Path, metavar="OUT", help="write summary and steps as JSON ('-' for stdout)")
    p.add_argument("--steps-csv", type=Path, metavar="OUT", help="write one row per step as CSV")
    p.add_argument("--report", type=Path, metavar="OUT.html",
                   help="also write the HTML report of this session (as `retrorun report` does; baseline from "
                        "the history database when it exists)")
    add_db_argument(p)
    p.set_defaults(func=cmd_analyze)


def cmd_analyze(args: argparse.Namespace) -> None:
    from sensors import load

    from ..cadence import load_session
    from ..report_text import summary_text

    if args.report:
        check_html_output(args.report)
    recording, result = load_session(args.file, lambda path: with_forward_axis(
        load(path, unit=args.unit, placement=args.placement, format=args.format, columns=args.columns),
        args.forward_axis))
    # everything is computed before anything is written: an error never leaves half the outputs
    outputs = {}
    if args.json:
        outputs[args.json] = result.to_json(indent=2) + "\n"
    if args.steps_csv:
        buf = io.StringIO()
        result.steps.to_csv(buf, index=False, float_format="%.4f")
        outputs[args.steps_csv] = buf.getvalue()
    if args.report:
        from .common import loaded_session
        from .report import report_page

        page, sessions = report_page([loaded_session(args.file, recording, result, args)], args)
        outputs[args.report] = page
    # with --json -, stdout is the JSON alone (pipe it into jq); the summary goes to stderr
    screen = sys.stderr if args.json is not None and str(args.json) == "-" else sys.stdout
    print(summary_text(args.file, recording, result), file=screen)
    if args.report:
        print(f"  verdict     {sessions[0].verdict.headline}", file=screen)
    write_outputs(outputs)
