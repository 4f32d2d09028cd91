"""`retrorun recover`: rebuild a recording from the journal a crashed or killed `retrorun record` left."""
from __future__ import annotations

import argparse
from pathlib import Path

from .output import check_recording_output


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("recover", help="rebuild a recording from a journal after a crash or kill",
                       description="Read a recording journal (even a truncated one) and write the recording.",
                       epilog="example:\n  retrorun recover run.csv.journal -o run.csv\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("journal", type=Path, help="the journal written by retrorun record")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.csv|FILE.npz")
    p.set_defaults(func=cmd_recover)


def cmd_recover(args: argparse.Namespace) -> None:
    from sensors.journal import finalise

    check_recording_output(args.output)
    recovered = finalise(args.journal, args.output)
    rec = recovered.track
    state = "closed cleanly" if recovered.clean_end else "not closed (crash or kill): recovered up to its last record"
    what = "cadence readings" if recovered.cadence is not None else "samples"
    print(f"wrote {args.output}: {len(rec)} {what} over {rec.duration_s:.1f} s, gaps {len(rec.gaps)}; journal {state}"
          + (f", {recovered.discarded_bytes} damaged bytes skipped" if recovered.discarded_bytes else ""))
