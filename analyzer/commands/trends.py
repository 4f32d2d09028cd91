"""`retrorun trends`: cadence or impact across the sessions of the history, per direction."""
from __future__ import annotations

import argparse
from pathlib import Path

from sensors.errors import InputError

from .common import add_db_argument, history_path
from .output import write_outputs

EPILOG_TRENDS = """\
examples:
  retrorun trends --metric impact -o impact.png
  retrorun trends --metric cadence --direction backward -o cadence.html
  retrorun trends --metric impact --placement sacrum --db ~/runs.sqlite -o trend.png

Each point is one session of the history (warm-up and walk breaks excluded); hollow points rest on fewer
than 25 steps. The dashed line is the baseline (your earliest sessions), the orange band the +-MDC
'no real change' band around it, the green band the target. Sources in docs/reports.md.
"""


TREND_METRICS = ("impact", "impact_p90", "cadence")
"""The metrics of analyzer.trends.METRICS, listed here so building the parser imports no matplotlib."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("trends", help="cadence or impact across sessions over time (PNG or HTML)",
                       description="Plot a metric across the sessions of the history, per direction.",
                       epilog=EPILOG_TRENDS, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--metric", choices=TREND_METRICS, default="impact")
    p.add_argument("--direction", choices=("forward", "backward", "unknown"))
    p.add_argument("--placement", help="sensor placement to plot (default: the most common in the history)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="trends.png|.html")
    add_db_argument(p)
    p.set_defaults(func=cmd_trends)


def cmd_trends(args: argparse.Namespace) -> None:
    from ..figures import png_bytes
    from ..history import History
    from ..trends import build_trend, trend_html, trend_plot
    from .common import write_binary

    suffix = args.output.suffix.lower()
    if suffix not in (".png", ".html"):
        raise InputError("unknown output type", path=args.output, found=suffix or "no suffix", expected=".png or .html")
    with History(history_path(args), create=False) as history:
        trend = build_trend(history.sessions(), args.metric, args.direction, args.placement)
    directions = sorted({p.direction for p in trend.points})
    print(f"{len(trend.points)} sessions, {trend.placement} sensor, {', '.join(directions)}; baseline "
          + ", ".join(f"{d} {v:.2f}" for d, v in trend.baselines.items()))
    if suffix == ".png":
        write_binary({args.output: png_bytes(trend_plot(trend))})
    else:
        write_outputs({args.output: trend_html(trend)})
