"""The session report: one self-contained HTML page (figures embedded as PNG, no network, readable on a
phone) with the header, the plain-language verdict against the guidance rules, figures, per-interval table,
left/right balance and the sources of every threshold.

`prepare_session` computes everything for one recording; `report_html` renders one or more of them. A
foot pod's cadence file (sensors.cadence) is reported the same way, without the impact parts.
"""
from __future__ import annotations

import base64
import html
import json
import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sensors import Recording
from sensors.cadence import CadenceTrack

from . import __version__
from .analysis import Analysis, sensor_range_g
from .cadence import NO_IMPACT_SENTENCE
from .figures import (Balance, balance_figure, cadence_over_time, impact_distribution, impact_over_time,
                      leg_balance, png_bytes)
from .guidance import Finding, Rules, Verdict, build_baseline, evaluate, load_rules
from .session import SessionStats, session_stats

INTERVAL_BLOCK_S = 300.0
"""Running bouts longer than this are split into blocks of this length in the interval table (a convention)."""
MIN_INTERVAL_STEPS = 10
"""Shorter running stretches (a few steps around a turn) are not listed as intervals."""
LEVEL_WORDS = {"good": "Good", "same": "No real change", "attention": "Attention", "baseline": "Baseline",
               "unknown": "Not enough data", "info": "Note"}


@dataclass
class SessionReport:
    """Everything the report shows about one recording."""

    name: str
    recording_info: dict[str, str]
    stats: SessionStats
    verdict: Verdict
    intervals: pd.DataFrame
    balance: Balance | None
    figures: dict[str, Figure] = field(default_factory=dict)
    _png: dict[str, bytes] = field(default_factory=dict, repr=False)

    def png(self, name: str) -> bytes:
        """The figure as PNG, rendered once (the page and --figures share it)."""
        if name not in self._png:
            self._png[name] = png_bytes(self.figures[name])
        return self._png[name]


def recording_info(recording: Recording | CadenceTrack, analysis: Analysis) -> dict[str, str]:
    """Header facts: date, sampling rate and range, gaps, clipping."""
    meta = recording.metadata or {}
    if isinstance(recording, CadenceTrack):
        seen_range = float("nan")
        meta = {**meta, "range_g": None}
    else:
        seen_range = sensor_range_g(recording)
    stated_range = meta.get("range_g")
    if isinstance(recording, CadenceTrack):
        range_text = "no acceleration (cadence file)"
    elif stated_range:
        range_text = f"±{float(stated_range):g} g (stated)"
    elif math.isfinite(seen_range):
        range_text = f"±{seen_range:.1f} g (saturation seen)"
    else:
        range_text = "not stated; no saturation seen"
    s = analysis.summary
    return {"date": recording.start_time or "not stated", "device": str(meta.get("device", "not stated")),
            "sampling_rate": f"{s.sampling_rate_hz:.0f} Hz", "range": range_text,
            "gaps": "none" if not s.gap_count else f"{s.gap_count}, {s.gap_duration_s:.1f} s in all",
            "clipped": str(s.clipped_step_count)}


def interval_table(steps: pd.DataFrame, warmup_s: float, block_s: float = INTERVAL_BLOCK_S,
                   min_steps: int = MIN_INTERVAL_STEPS, bouts: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per running interval (a stretch of running steps between pauses, gaps or walking; long ones
    cut into `block_s` blocks): start_s, duration_s, steps, cadence_spm, impact_g, impact_steps, warmup, and
    direction (that of the bout of `bouts` it starts in; '' without bouts)."""
    columns = ["start_s", "duration_s", "steps", "cadence_spm", "impact_g", "impact_steps", "warmup", "direction"]
    if not len(steps):
        return pd.DataFrame(columns=columns)
    running = steps["running"].to_numpy(dtype=bool)
    broken = ~running | steps["interval_s"].isna().to_numpy()
    bout = np.cumsum(broken)  # a new id at every non-running step or pause
    t = steps["time_s"].to_numpy(dtype=float)
    rows = []
    for _, idx in pd.Series(np.arange(len(steps))[running]).groupby(bout[running]):
        idx = idx.to_numpy()
        start = t[idx[0]]
        for block in np.unique(((t[idx] - start) // block_s).astype(int)):
            part = idx[((t[idx] - start) // block_s).astype(int) == block]
            if part.size < min_steps:
                continue
            chunk = steps.iloc[part]
            impacts = chunk["impact_g"].dropna()
            rows.append({"start_s": t[part[0]], "duration_s": t[part[-1]] - t[part[0]], "steps": int(part.size),
                         "cadence_spm": float(chunk["cadence_spm"].median()),
                         "impact_g": float(impacts.median()) if len(impacts) else float("nan"),
                         "impact_steps": int(len(impacts)), "warmup": bool(t[part[0]] < warmup_s),
                         "direction": _bout_direction(bouts, t[part[0]])})
    return pd.DataFrame(rows, columns=columns)


def _bout_direction(bouts: pd.DataFrame | None, time_s: float) -> str:
    if bouts is None or "direction" not in bouts:
        return ""
    inside = bouts[(bouts["start_s"] <= time_s) & (bouts["end_s"] >= time_s)]
    return str(inside["direction"].iloc[0]) if len(inside) else ""


def prepare_session(name: str, recording: Recording, analysis: Analysis, direction: str, direction_source: str,
                    history: Sequence[SessionStats] = (), rules: Rules | None = None,
                    warmup_s: float | None = None, with_figures: bool = True) -> SessionReport:
    """Stats, verdict, intervals, balance and figures of one analysed recording. `history` holds the runner's
    earlier sessions, oldest first (any direction and placement: the baseline picks its own)."""
    rules = rules or load_rules()
    warmup_s = rules.value("warmup_s") if warmup_s is None else float(warmup_s)
    stats = session_stats(analysis, direction, direction_source, warmup_s)
    baseline = build_baseline(history, direction, stats.placement, rules)
    verdict = evaluate(stats, baseline, rules)
    if isinstance(recording, CadenceTrack):
        verdict = cadence_only(verdict)
    steps = analysis.steps
    min_steps = int(rules.value("min_steps"))
    report = SessionReport(name=name, recording_info=recording_info(recording, analysis), stats=stats,
                           verdict=verdict, intervals=interval_table(steps, warmup_s, bouts=analysis.bouts),
                           balance=leg_balance(steps, warmup_s, min_steps))
    if with_figures:
        report.figures = session_figures(steps, verdict, rules)
    return report


def cadence_only(verdict: Verdict) -> Verdict:
    """The verdict of a cadence file: its cadence findings, and for impact only that there is none (the
    impact, placement and sampling-rate notes concern acceleration)."""
    none = Finding("impact-no-acceleration", "impact", "info", NO_IMPACT_SENTENCE, ())
    return replace(verdict, findings=(none,) + tuple(f for f in verdict.findings if f.topic == "cadence"))


def session_figures(steps: pd.DataFrame, verdict: Verdict, rules: Rules) -> dict[str, Figure]:
    """The report's figures by name (also the PNG file stems of --figures)."""
    warmup_s, rolling = verdict.stats.warmup_s, int(rules.value("rolling_steps"))
    base_g = verdict.baseline.impact_g_median
    figures = {}
    if steps["impact_g"].notna().any():          # none from a cadence file
        figures = {"impact_over_time": impact_over_time(steps, verdict.targets, warmup_s, rolling, base_g),
                   "impact_distribution": impact_distribution(steps, warmup_s, verdict.targets, base_g)}
    figures["cadence_over_time"] = cadence_over_time(steps, verdict.targets, warmup_s, rolling)
    balance = balance_figure(steps, warmup_s, int(rules.value("min_steps")))
    if balance is not None:
        figures["balance"] = balance
    return figures


# ------------------------------------------------------------------------------------------------ HTML

CSS = """
:root { color-scheme: light; }
body { font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; padding: 0.8rem;
       max-width: 48rem; color: #1a1a1a; background: #fff; }
h1 { font-size: 1.4rem; margin: 0.2rem 0 0.4rem; } h2 { font-size: 1.2rem; margin-top: 1.6rem;
     border-bottom: 1px solid #ccc; } h3 { font-size: 1.05rem; margin-bottom: 0.3rem; }
img { max-width: 100%; height: auto; display: block; margin: 0.4rem 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.88rem; display: block; overflow-x: auto; }
th, td { padding: 0.25rem 0.45rem; border-bottom: 1px solid #e3e3e3; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.1rem 0.8rem; margin: 0.4rem 0; }
.facts dt { color: #555; } .facts dd { margin: 0; }
.finding { border-left: 5px solid #888; padding: 0.35rem 0.6rem; margin: 0.4rem 0; background: #f6f6f6; }
.finding .tag { font-weight: 600; } .finding .src { color: #555; font-size: 0.85rem; }
.good { border-color: #2ca02c; } .attention { border-color: #d62728; } .same { border-color: #1f77b4; }
.baseline { border-color: #9467bd; } .unknown { border-color: #ff7f0e; } .info { border-color: #aaa; }
.warn { background: #fff4e5; border: 1px solid #ff7f0e; padding: 0.4rem 0.6rem; }
small, .note { color: #555; }
"""


def _e(text) -> str:
    return html.escape(str(text))


def _num(value: float, fmt: str, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:{fmt}}" + (f" {unit}" if unit else "")


def _clock(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "–"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def figure_img(fig: Figure | bytes, name: str, alt: str) -> str:
    """An <img> with the figure (or its PNG bytes) embedded as base64."""
    data = base64.b64encode(fig if isinstance(fig, bytes) else png_bytes(fig)).decode("ascii")
    return f'<img id="fig-{_e(name)}" alt="{_e(alt)}" src="data:image/png;base64,{data}">'


FIGURE_ALT = {"impact_over_time": "Impact per step over time with rolling median and target band",
              "impact_distribution": "Histogram of impact per step against the baseline and target band",
              "cadence_over_time": "Cadence per step over time with the target band",
              "balance": "Step time of each leg"}


def _facts(items: list[tuple[str, str]]) -> str:
    return '<dl class="facts">' + "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"


def _header_html(r: SessionReport) -> str:
    s, info = r.stats, r.recording_info
    items = [("direction", f"{_e(s.direction)} <small>({_e(s.direction_source)})</small>"),
             ("placement", _e(s.placement)), ("date", _e(info["date"])),
             ("sampling rate", _e(info["sampling_rate"])), ("sensor range", _e(info["range"])),
             ("duration", f"{_clock(s.duration_s)} ({_clock(s.running_duration_s)} running after the warm-up)"),
             ("warm-up excluded", f"first {s.warmup_s / 60:g} min"), ("gaps", _e(info["gaps"])),
             ("steps", f"{s.step_count} in all; {s.impact_steps} with impact and {s.cadence_steps} with cadence "
                       "used for the summary")]
    warn = ""
    if s.clipped_steps or info["clipped"] != "0":
        warn = (f'<p class="warn"><b>Clipping:</b> {_e(info["clipped"])} step(s) reached the sensor\'s range; '
                "their impact is a lower bound.</p>")
    return _facts(items) + warn


def _verdict_html(v: Verdict, rules: Rules) -> str:
    parts = []
    for f in v.findings:
        src = "; ".join(f.sources)
        parts.append(f'<div class="finding {f.level}" data-rule="{_e(f.rule_id)}"><span class="tag">'
                     f"{_e(LEVEL_WORDS.get(f.level, f.level))}:</span> {_e(f.message)}"
                     + (f'<div class="src">Source: {_e(src)}</div>' if src else "") + "</div>")
    if v.no_history_note:
        defaults = "".join(f"<li>{_e(d.what)}: {_e(d.value)} <small>({_e(d.source)})</small></li>"
                           for d in rules.no_history_defaults)
        parts.append(f'<p class="note">{_e(v.no_history_note)}</p><ul>{defaults}</ul>')
    t, b = v.targets, v.baseline
    base_text = (f"{b.session_count} earlier session(s): impact {_num(b.impact_g_median, '.2f', 'g')} "
                 f"({b.impact_steps} steps), cadence {_num(b.cadence_spm, '.1f', 'steps/min')} ({b.cadence_steps} steps)"
                 if b.has_history else "none yet (no earlier sessions of this direction and placement)")
    parts.append(_facts([
        ("this session", f"impact {_num(v.stats.impact_g_median, '.2f', 'g')} median "
                         f"({v.stats.impact_steps} steps), cadence {_num(v.stats.cadence_spm, '.1f', 'steps/min')}"),
        ("baseline", _e(base_text)),
        ("impact target", f"{_num(t.impact_g_low, '.1f')}–{_num(t.impact_g_high, '.1f', 'g')} <small>({_e(t.basis)})</small>"),
        ("cadence target", f"{_num(t.cadence_spm_low, '.0f')}–{_num(t.cadence_spm_high, '.0f', 'steps/min')}"
                           f" <small>({_e(t.basis)})</small>")]))
    return "".join(parts)


def _intervals_html(frame: pd.DataFrame) -> str:
    if not len(frame):
        return '<p class="note">No running interval of at least 10 steps.</p>'
    head = ("<tr><th>#</th><th>start</th><th class=n>duration</th><th class=n>steps</th>"
            "<th class=n>cadence (steps/min)</th><th class=n>impact (g, median)</th><th>direction</th><th></th></tr>")
    rows = [f"<tr><td>{i}</td><td>{_clock(r.start_s)}</td><td class=n>{_clock(r.duration_s)}</td>"
            f"<td class=n>{r.steps}</td><td class=n>{_num(r.cadence_spm, '.1f')}</td>"
            f"<td class=n>{_num(r.impact_g, '.2f')}</td><td>{_e(r.direction)}</td>"
            f"<td>{'warm-up' if r.warmup else ''}</td></tr>"
            for i, r in enumerate(frame.itertuples(), 1)]
    return f'<table class="intervals">{head}{"".join(rows)}</table>'


def _balance_html(r: SessionReport) -> str:
    b = r.balance
    if b is None:
        why = ("the steps of a body-worn sensor are told apart only once its forward axis is known (a warm-up "
               "walk or --forward-axis), not at the wrist, and need enough of them"
               if r.stats.placement not in ("shank", "foot")
               else "the other leg's contacts were estimated, not observed, or too few")
        return f'<p class="note">Left/right balance is not available: {_e(why)}.</p>'
    first, second = b.labels
    note = (" Impact is measured on the sensor's leg only." if first == "sensor leg" else
            " Sides come from the sideways push at each contact (docs/metrics.md).")
    return (f"<p>Step time: {first} {b.first_step_ms:.0f} ms ({b.first_steps} steps), {second} "
            f"{b.second_step_ms:.0f} ms ({b.second_steps} steps); {first} share {b.first_share_pct:.1f} %."
            f"{note}</p>")


def session_html(r: SessionReport, rules: Rules) -> str:
    figs = {name: figure_img(r.png(name), name, FIGURE_ALT.get(name, name)) for name in r.figures}
    impact = (["<h3>Impact per step</h3>", figs["impact_over_time"],
               "<h3>Impact distribution</h3>", figs["impact_distribution"]] if "impact_over_time" in figs
              else ["<h3>Impact</h3>", f'<p class="note no-impact">{_e(NO_IMPACT_SENTENCE)}</p>'])
    return "".join([
        f'<section class="session"><h2>{_e(r.name)}</h2>', _header_html(r),
        "<h3>Verdict</h3>", _verdict_html(r.verdict, rules), *impact,
        "<h3>Cadence</h3>", figs.get("cadence_over_time", ""),
        "<h3>Intervals</h3>", _intervals_html(r.intervals),
        "<h3>Left/right balance</h3>", _balance_html(r), figs.get("balance", ""),
        "</section>"])


def sources_html(rules: Rules, sessions: Sequence[SessionReport]) -> str:
    rows = "".join(f"<tr><td>{_e(t.meaning)}</td><td class=n>{t.value:g} {_e(t.unit)}</td><td>{_e(t.source)}</td></tr>"
                   for t in rules.thresholds.values())
    cited = sorted({c for r in sessions for f in r.verdict.findings for c in f.sources})
    return ("<h2>Sources of every threshold</h2>"
            f"<p class=note>Guidance rules version {rules.version}. Targets are relative to your own baseline per "
            "direction and placement, not population norms.</p>"
            f'<table class="sources"><tr><th>threshold</th><th class=n>value</th><th>source</th></tr>{rows}</table>'
            "<h3>Cited in this report</h3><ul>" + "".join(f"<li>{_e(c)}</li>" for c in cited) + "</ul>")


def report_html(sessions: Sequence[SessionReport], rules: Rules | None = None, title: str = "retrorun report") -> str:
    """The whole report page: self-contained, no scripts, no external resources."""
    rules = rules or load_rules()
    made = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = "".join(session_html(r, rules) for r in sessions)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{_e(title)}</h1><p class=note>retrorun {__version__}, {made}. Impact values are landing-style "
            "indices (peak resultant acceleration within 100 ms of contact, gravity included), not tissue "
            "loads.</p>" + body + sources_html(rules, sessions) + "</body></html>\n")
