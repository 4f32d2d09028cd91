"""`retrorun history add|list|show`: the session history the baselines and trends come from."""
from __future__ import annotations

import argparse
import math
from pathlib import Path

from sensors.errors import InputError

from .common import add_db_argument, add_recording_arguments, history_path, load_and_analyse, session_date, warmup_s

EPILOG_HISTORY = """\
examples:
  retrorun history add mon.csv wed.csv --direction backward --tag surface=track --tag shoe=racer
  retrorun history list --direction backward
  retrorun history show 3
  retrorun history add run.csv --date 2025-03-01T07:30 --db ~/runs.sqlite

The database is SQLite (default: history.sqlite in your user data directory; --db to choose another).
Adding a recording already there (same content, any file name) is reported and skipped. Summary values
exclude the warm-up (first 5 min by default) and walk breaks; see docs/reports.md.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("history", help="add sessions to the history, list them, show one",
                       description="The session history (SQLite) that baselines, compare and trends use.",
                       epilog=EPILOG_HISTORY, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="analyse recordings and store them",
                             epilog=EPILOG_HISTORY, formatter_class=argparse.RawDescriptionHelpFormatter)
    add.add_argument("files", type=Path, nargs="+", metavar="FILE")
    add.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                     help="label the sessions (surface, shoe, gradient ...); repeatable")
    add.add_argument("--date", metavar="YYYY-MM-DD[THH:MM]",
                     help="session date (default: the file's start time, else its modification time)")
    add_recording_arguments(add)
    add_db_argument(add)
    add.set_defaults(func=cmd_add)
    lst = actions.add_parser("list", help="list stored sessions, oldest first")
    lst.add_argument("--direction", choices=("forward", "backward", "unknown"))
    lst.add_argument("--placement")
    add_db_argument(lst)
    lst.set_defaults(func=cmd_list)
    show = actions.add_parser("show", help="everything stored about one session")
    show.add_argument("id", metavar="ID", help="session id from `history list`")
    add_db_argument(show)
    show.set_defaults(func=cmd_show)


def parse_tags(items: list[str]) -> dict[str, str]:
    tags = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError("a tag must be KEY=VALUE", found=repr(item), expected="e.g. surface=track")
        tags[key.strip()] = value.strip()
    return tags


def parse_id(text: str) -> int:
    try:
        return int(str(text).lstrip("#"))
    except ValueError:
        raise InputError("not a session id", found=repr(text), expected="a number from `retrorun history list`") from None


def cmd_add(args: argparse.Namespace) -> None:
    from ..guidance import load_rules
    from ..history import History, NewSession
    from ..session import session_stats

    tags = parse_tags(args.tag)
    rules = load_rules()
    warm = warmup_s(args)
    warm = rules.value("warmup_s") if warm is None else warm
    with History(history_path(args)) as history:
        for path in args.files:
            from sensors.fileformat import content_hash
            existing = history.find(content_hash(path)) if path.is_file() else None
            if existing is not None:
                print(f"{path}: already in the history as #{existing}")
                continue
            loaded = load_and_analyse(path, args)
            stats = session_stats(loaded.analysis, loaded.direction, loaded.direction_source, warm)
            result = history.add(NewSession(
                content_hash=loaded.digest, path=str(path.resolve()),
                session_date=session_date(loaded.recording, path, args.date), stats=stats,
                steps=loaded.analysis.steps, rules_version=rules.version, tags=tags))
            if result.added:
                print(f"{path}: added as #{result.id} ({stats.direction} {stats.placement}, "
                      f"{_num(stats.impact_g_median, '.2f')} g, {_num(stats.cadence_spm, '.1f')} steps/min)")
            else:
                print(f"{path}: already in the history as #{result.id}")


def _num(value: float, fmt: str) -> str:
    return "-" if value is None or not math.isfinite(value) else format(value, fmt)


def cmd_list(args: argparse.Namespace) -> None:
    from ..history import History

    with History(history_path(args), create=False) as history:
        records = history.sessions(args.direction, args.placement)
    if not records:
        print("no sessions")
        return
    print(f"{'id':>4}  {'date':19}  {'direction':9}  {'placement':12}  {'impact g':>8}  {'steps':>5}  "
          f"{'cadence':>7}  tags")
    for r in records:
        s = r.stats
        tags = " ".join(f"{k}={v}" for k, v in r.tags.items())
        print(f"{r.id:>4}  {r.session_date:19}  {s.direction:9}  {s.placement:12}  {_num(s.impact_g_median, '.2f'):>8}  "
              f"{s.impact_steps:>5}  {_num(s.cadence_spm, '.1f'):>7}  {tags}")


def cmd_show(args: argparse.Namespace) -> None:
    from ..history import History

    with History(history_path(args), create=False) as history:
        r = history.get(parse_id(args.id))
        steps = history.steps(r.id)
    s = r.stats
    lines = [f"session #{r.id}", f"  file         {r.path}", f"  date         {r.session_date} (added {r.added_at})",
             f"  content      sha256 {r.content_hash}",
             f"  direction    {s.direction} ({s.direction_source})", f"  placement    {s.placement}",
             f"  rate         {_num(s.sampling_rate_hz, '.0f')} Hz",
             f"  duration     {s.duration_s / 60:.1f} min ({_num(s.running_duration_s / 60, '.1f')} min running after "
             f"a {s.warmup_s / 60:g}-min warm-up)",
             f"  impact       {_num(s.impact_g_median, '.2f')} g median, {_num(s.impact_g_p90, '.2f')} g p90 "
             f"({s.impact_steps} steps)",
             f"  cadence      {_num(s.cadence_spm, '.1f')} steps/min ({s.cadence_steps} steps)",
             f"  clipped      {s.clipped_steps} steps",
             f"  steps stored {'no (added by an older retrorun)' if steps is None else len(steps)}",
             f"  rules        version {r.rules_version if r.rules_version is not None else '-'}"]
    lines += [f"  tag          {k}={v}" for k, v in r.tags.items()]
    print("\n".join(lines))
