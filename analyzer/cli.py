"""The `retrorun` command line: the only place that wires sensors and analyzer to files, printing and exit codes."""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from sensors.errors import RetrorunError
from sensors.recording import PLACEMENTS

from . import __version__

EXIT_INPUT_ERROR = 2

EPILOG_ANALYZE = """\
examples:
  retrorun analyze sample_data/backward_shank_200hz.csv
  retrorun analyze run.csv --placement sacrum --json run.json --steps-csv run.steps.csv
  retrorun analyze phone.csv --placement phone_pocket --unit m/s^2

The input is the canonical CSV (header time_s,acc_x,acc_y,acc_z, optional '# key: value' lines
before it) or the binary .npz format; see docs/recording-format.md. The unit of the acceleration is
detected from gravity (g, m/s^2 or mg) and any conversion is printed; data with gravity removed is
refused unless --unit is given. Output fields are documented in docs/output-schema.md.
"""

EPILOG_SIMULATE = """\
examples:
  retrorun simulate --placement shank --direction backward -o back.csv
  retrorun simulate --placement phone_pocket --sampling-rate-hz 100 --session --minutes 15 -o session.csv

Writes FILE.csv (the recording) and FILE.truth.csv (one row per foot contact: ic_s, foot, toe_off_s,
impact_g, activity, direction). The model and its sources are in docs/simulator.md.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="retrorun",
        description="Running-form analysis from wearable accelerometers, for backward and forward running.")
    parser.add_argument("--version", action="version", version=f"retrorun {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("analyze", help="steps, cadence and landing impact of one recording",
                       description="Detect every foot contact in a recording and report cadence and landing "
                                   "impact.", epilog=EPILOG_ANALYZE,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", type=Path, help="recording: canonical .csv or binary .npz")
    p.add_argument("--placement", choices=PLACEMENTS,
                   help="where the sensor was worn (default: the file's '# placement:' line)")
    p.add_argument("--unit", metavar="UNIT", help="acceleration unit of the file: g, m/s^2 or mg "
                                                  "(default: detected from gravity)")
    p.add_argument("--json", type=Path, metavar="OUT", help="write summary and steps as JSON ('-' for stdout)")
    p.add_argument("--steps-csv", type=Path, metavar="OUT", help="write one row per step as CSV")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("simulate", help="simulate a run with ground truth (the test oracle)",
                       description="Simulate a backward or forward run as a given sensor sees it.",
                       epilog=EPILOG_SIMULATE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--placement", choices=PLACEMENTS, required=True)
    p.add_argument("--direction", choices=("forward", "backward"), default="backward")
    p.add_argument("--cadence-spm", type=float, default=180.0, help="steps per minute (default 180)")
    p.add_argument("--sampling-rate-hz", type=float, default=200.0, help="25-1000 (default 200)")
    p.add_argument("--minutes", type=float, default=1.0, help="duration (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--session", action="store_true",
                   help="a whole session: walking warm-up, running bouts with turnarounds and rests, cool-down")
    p.add_argument("--strike", choices=("heel", "forefoot"), help="forward runs only (default heel)")
    p.add_argument("--range-g", type=float, default=16.0, help="sensor range, clipped beyond (default 16)")
    p.add_argument("--noise-g", type=float, default=0.01, help="white noise per axis (default 0.01 g)")
    p.add_argument("--jitter", type=float, default=0.0, help="timestamp jitter, fraction of a period (phones 0.1-0.3)")
    p.add_argument("--drop-fraction", type=float, default=0.0, help="fraction of samples dropped")
    p.add_argument("--aligned", action="store_true", help="sensor axes = body axes (default: a random orientation)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.csv",
                   help="recording to write (.csv or .npz); the truth goes to FILE.truth.csv")
    p.set_defaults(func=cmd_simulate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_INPUT_ERROR
    try:
        args.func(args)
    except RetrorunError as exc:
        print(f"retrorun: error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except KeyboardInterrupt:
        print("retrorun: interrupted", file=sys.stderr)
        return 130
    return 0


def cmd_analyze(args: argparse.Namespace) -> None:
    from sensors import load

    from .analysis import analyze
    from .report_text import summary_text

    recording = load(args.file, unit=args.unit, placement=args.placement)
    result = analyze(recording)
    # everything is computed before anything is written: an error never leaves half the outputs
    outputs = {}
    if args.json:
        outputs[args.json] = result.to_json(indent=2) + "\n"
    if args.steps_csv:
        buf = io.StringIO()
        result.steps.to_csv(buf, index=False, float_format="%.4f")
        outputs[args.steps_csv] = buf.getvalue()
    print(summary_text(args.file, recording, result))
    for path, text in outputs.items():
        if str(path) == "-":
            sys.stdout.write(text)
        else:
            _write_text(path, text)
            print(f"wrote {path}")


def cmd_simulate(args: argparse.Namespace) -> None:
    from sensors.simulator import simulate

    run = simulate(args.placement, args.direction, cadence_spm=args.cadence_spm,
                   sampling_rate_hz=args.sampling_rate_hz, duration_s=args.minutes * 60.0, seed=args.seed,
                   session=args.session, strike=args.strike, rotation=None if args.aligned else "random",
                   range_g=args.range_g, noise_g=args.noise_g, jitter=args.jitter,
                   drop_fraction=args.drop_fraction)
    run.save(args.output)
    print(f"wrote {args.output} ({len(run.recording)} samples) and its truth ({len(run.truth)} contacts)")


def _write_text(path: Path, text: str) -> None:
    from sensors.fileformat import atomic_write
    try:
        atomic_write(path, text.encode())
    except OSError as exc:
        raise RetrorunError(f"{path}: cannot write: {exc.strerror}") from None


if __name__ == "__main__":
    sys.exit(main())
