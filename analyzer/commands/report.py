"""`retrorun report`: one self-contained HTML report of one or more sessions against the guidance."""
from __future__ import annotations

import argparse
from pathlib import Path

from typing import Iterable

from .common import (LoadedSession, add_db_argument, add_recording_arguments, history_path, load_and_analyse,
                     session_date, warmup_s)
from .output import check_html_output, write_outputs

EPILOG_REPORT = """\
examples:
  retrorun report sample_data/backward_phone_pocket_session_100hz.csv -o report.html
  retrorun report run.csv --direction backward --warmup-min 0 -o report.html --figures figs/
  retrorun report mon.csv wed.csv --db ~/runs.sqlite -o week.html

The baseline is your own earlier sessions of the same direction and placement in the history database
(`retrorun history add`); with none, the report says so and uses the conservative defaults of the
guidance rules. What the report shows and where every threshold comes from: docs/reports.md.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="HTML report of sessions against soft-landing and cadence guidance",
                       description="Write one self-contained HTML report (figures embedded, no network, "
                                   "readable on a phone).", epilog=EPILOG_REPORT,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", type=Path, nargs="+", metavar="FILE", help="recordings (.csv or .npz)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="report.html")
    p.add_argument("--figures", type=Path, metavar="DIR", help="also save every figure as PNG in DIR")
    add_recording_arguments(p)
    add_db_argument(p)
    p.add_argument("--no-history", action="store_true", help="ignore the history: no baseline")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> None:
    from .common import write_binary

    check_html_output(args.output)
    page, sessions = report_page((load_and_analyse(path, args) for path in args.files), args)
    pngs = {}
    if args.figures:
        for report, path in zip(sessions, args.files):
            for name in report.figures:
                pngs[args.figures / f"{path.stem}_{name}.png"] = report.png(name)
    for report in sessions:
        print(f"{report.name}: {report.verdict.headline}")
    write_outputs({args.output: page})
    write_binary(pngs)


def report_page(loaded: Iterable[LoadedSession], args: argparse.Namespace) -> tuple[str, list]:
    """The HTML report of analysed sessions, each judged against its earlier sessions in the history (if any)."""
    from ..guidance import load_rules
    from ..report import prepare_session, report_html

    rules = load_rules()
    history = None if getattr(args, "no_history", False) else _open_history(args)
    sessions = []
    try:
        for session in loaded:
            earlier = []
            if history is not None:
                stored = history.find(session.digest)
                date = (history.get(stored).session_date if stored is not None
                        else session_date(session.recording, session.path))
                earlier = history.earlier(date, exclude_hash=session.digest)
            sessions.append(prepare_session(str(session.path), session.recording, session.analysis,
                                            session.direction, session.direction_source, earlier, rules,
                                            warmup_s(args)))
    finally:
        if history is not None:
            history.close()
    return report_html(sessions, rules), sessions


def _open_history(args: argparse.Namespace):
    """The history to take baselines from: --db (must exist), else the default database when it exists."""
    from ..history import History
    path = history_path(args)
    if args.db is None and not path.exists():
        return None
    return History(path, create=False)
