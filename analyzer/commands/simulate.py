"""`retrorun simulate`: a simulated run with its ground truth (the test oracle)."""
from __future__ import annotations

import argparse
from pathlib import Path

from sensors.recording import PLACEMENTS

EPILOG_SIMULATE = """\
examples:
  retrorun simulate --placement shank --direction backward -o back.csv
  retrorun simulate --placement phone_pocket --sampling-rate-hz 100 --session --minutes 15 -o session.csv
  retrorun simulate --placement shank --gait walk --direction backward --cadence-spm 110 -o backwalk.csv

Writes FILE.csv (the recording: placement, unit, range and `device: retrorun simulator`, as a real
sensor's file) and FILE.truth.csv (a first line `# simulator: {...}` with every setting, then one row
per foot contact: ic_s, foot, toe_off_s, impact_g, activity, direction). Commands read the direction
from the signal, never from the truth. The model and its sources are in docs/simulator.md.
"""



def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="simulate a run or a walk with ground truth (the test oracle)",
                       description="Simulate a backward or forward run (or walk) as a given sensor sees it.",
                       epilog=EPILOG_SIMULATE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--placement", choices=PLACEMENTS, required=True)
    p.add_argument("--direction", choices=("forward", "backward"), default="backward")
    p.add_argument("--gait", choices=("run", "walk"), default="run",
                   help="run (default) or walk: a steady walk (backward: toe first); not with --session")
    p.add_argument("--cadence-spm", type=float,
                   help="steps per minute: running 120-250 (default 180), walking 80-140 (default 115)")
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


def cmd_simulate(args: argparse.Namespace) -> None:
    from sensors.simulator import simulate

    run = simulate(args.placement, args.direction, cadence_spm=args.cadence_spm,
                   sampling_rate_hz=args.sampling_rate_hz, duration_s=args.minutes * 60.0, seed=args.seed,
                   session=args.session, gait=args.gait, strike=args.strike, rotation=None if args.aligned else "random",
                   range_g=args.range_g, noise_g=args.noise_g, jitter=args.jitter,
                   drop_fraction=args.drop_fraction)
    run.save(args.output)
    print(f"wrote {args.output} ({len(run.recording)} samples) and its truth ({len(run.truth)} contacts)")
