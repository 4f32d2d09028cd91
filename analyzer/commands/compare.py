"""`retrorun compare A B`: two sessions (files or history ids) side by side."""
from __future__ import annotations

import argparse
from pathlib import Path

from sensors.errors import InputError

from .common import add_db_argument, add_recording_arguments, history_path, load_and_analyse, warmup_s
from .output import write_outputs

EPILOG_COMPARE = """\
examples:
  retrorun compare last_week.csv today.csv
  retrorun compare 3 7                      # history ids (retrorun history list)
  retrorun compare 3 today.csv --html compare.html

Each difference is judged against its minimum detectable change (1.5 g for impact, 2 steps/min for
cadence) and needs at least 25 steps on both sides; sources in docs/reports.md.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="two sessions side by side, differences judged against measurement error",
                       description="Compare two sessions: recordings or history ids.", epilog=EPILOG_COMPARE,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a", metavar="A", help="recording file or history id")
    p.add_argument("b", metavar="B", help="recording file or history id")
    p.add_argument("--html", type=Path, metavar="OUT", help="also write the comparison as HTML")
    add_recording_arguments(p)
    add_db_argument(p)
    p.set_defaults(func=cmd_compare)


def resolve(ref: str, args: argparse.Namespace, rules):
    """A ComparedSession from a file path or a history id."""
    from ..compare import compared_session
    from ..history import History
    from ..session import session_stats

    path = Path(ref)
    if path.exists():
        loaded = load_and_analyse(path, args)
        warm = warmup_s(args)
        stats = session_stats(loaded.analysis, loaded.direction, loaded.direction_source,
                              rules.value("warmup_s") if warm is None else warm)
        return compared_session(str(path), stats, loaded.analysis.steps)
    text = ref.lstrip("#")
    if not text.isdigit():
        raise InputError("no such file or history id", found=repr(ref), expected="a recording file or a session id")
    with History(history_path(args), create=False) as history:
        record = history.get(int(text))
        return compared_session(f"#{record.id} {Path(record.path).name} ({record.session_date[:10]})",
                                record.stats, history.steps(record.id))


def cmd_compare(args: argparse.Namespace) -> None:
    from ..compare import compare, comparison_html, comparison_text
    from ..guidance import load_rules

    rules = load_rules()
    result = compare(resolve(args.a, args, rules), resolve(args.b, args, rules), rules)
    outputs = {args.html: comparison_html(result, rules)} if args.html else {}
    print(comparison_text(result))
    write_outputs(outputs)
