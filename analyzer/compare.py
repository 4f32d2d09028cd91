"""Two sessions side by side, each difference judged against its minimum detectable change and the number
of steps behind it (thresholds and sources from guidance_rules.json)."""
from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import __version__
from .figures import compare_figure
from .guidance import Rules, load_rules
from .report import CSS, figure_img
from .session import SessionStats, summary_mask


@dataclass(frozen=True)
class ComparedSession:
    name: str
    stats: SessionStats
    impacts_g: np.ndarray | None
    """Per-step impact over the summary steps; None when the steps are not available (old history rows)."""


@dataclass(frozen=True)
class ComparisonRow:
    metric: str
    unit: str
    a: float
    b: float
    a_steps: int
    b_steps: int
    judgement: str
    source: str

    @property
    def difference(self) -> float:
        return self.b - self.a


@dataclass(frozen=True)
class Comparison:
    a: ComparedSession
    b: ComparedSession
    rows: tuple[ComparisonRow, ...]
    warnings: tuple[str, ...]


def compared_session(name: str, stats: SessionStats, steps: pd.DataFrame | None) -> ComparedSession:
    impacts = None
    if steps is not None:
        impacts = steps.loc[summary_mask(steps, stats.warmup_s), "impact_g"].dropna().to_numpy(dtype=float)
    return ComparedSession(name, stats, impacts)


def judge(difference: float, mdc: float, a_steps: int, b_steps: int, min_steps: int, lower: str, higher: str) -> str:
    """'too few steps', 'no real change' (|difference| < mdc) or the direction word of a real change."""
    if min(a_steps, b_steps) < min_steps:
        return f"cannot judge: fewer than {min_steps} steps ({a_steps} vs {b_steps})"
    if not math.isfinite(difference):
        return "cannot judge: value missing"
    if abs(difference) < mdc:
        return f"no real change (within ±{mdc:g})"
    return f"real change: {lower if difference < 0 else higher}"


def compare(a: ComparedSession, b: ComparedSession, rules: Rules | None = None) -> Comparison:
    rules = rules or load_rules()
    min_steps = int(rules.value("min_steps"))
    mdc_g, mdc_spm = rules.value("mdc_impact_g"), rules.value("mdc_cadence_spm")
    sa, sb = a.stats, b.stats
    rows = (
        ComparisonRow("impact median", "g", sa.impact_g_median, sb.impact_g_median, sa.impact_steps, sb.impact_steps,
                      judge(sb.impact_g_median - sa.impact_g_median, mdc_g, sa.impact_steps, sb.impact_steps,
                            min_steps, "softer", "harder"),
                      f"{rules.thresholds['mdc_impact_g'].source}; {rules.thresholds['min_steps'].source}"),
        ComparisonRow("impact p90", "g", sa.impact_g_p90, sb.impact_g_p90, sa.impact_steps, sb.impact_steps,
                      judge(sb.impact_g_p90 - sa.impact_g_p90, mdc_g, sa.impact_steps, sb.impact_steps,
                            min_steps, "softer", "harder"),
                      rules.thresholds["mdc_impact_g"].source),
        ComparisonRow("cadence median", "steps/min", sa.cadence_spm, sb.cadence_spm, sa.cadence_steps, sb.cadence_steps,
                      judge(sb.cadence_spm - sa.cadence_spm, mdc_spm, sa.cadence_steps, sb.cadence_steps,
                            min_steps, "lower", "higher"),
                      f"{rules.thresholds['mdc_cadence_spm'].source}; {rules.thresholds['min_steps'].source}"),
        ComparisonRow("running after warm-up", "min", sa.running_duration_s / 60, sb.running_duration_s / 60,
                      sa.cadence_steps, sb.cadence_steps, "context", ""),
    )
    return Comparison(a, b, rows, tuple(comparability_warnings(sa, sb)))


def comparability_warnings(sa: SessionStats, sb: SessionStats) -> list[str]:
    out = []
    if sa.direction != sb.direction:
        out.append(f"directions differ ({sa.direction} vs {sb.direction}): backward and forward running are "
                   "not comparable without speed correction (SCIENCE.md section 3.2)")
    if sa.placement != sb.placement:
        out.append(f"placements differ ({sa.placement} vs {sb.placement}): impact values are not comparable")
    rates = (sa.sampling_rate_hz, sb.sampling_rate_hz)
    if all(map(math.isfinite, rates)) and abs(rates[0] - rates[1]) > 0.05 * max(rates):
        out.append(f"sampling rates differ ({rates[0]:.0f} vs {rates[1]:.0f} Hz): impact peaks read lower at lower rates")
    if sa.warmup_s != sb.warmup_s:
        out.append(f"warm-ups excluded differ ({sa.warmup_s / 60:g} vs {sb.warmup_s / 60:g} min)")
    return out


def _fmt(value: float, fmt: str = ".2f") -> str:
    return "-" if value is None or not math.isfinite(value) else format(value, fmt)


def comparison_text(c: Comparison) -> str:
    lines = [f"A  {c.a.name} ({c.a.stats.direction} {c.a.stats.placement})",
             f"B  {c.b.name} ({c.b.stats.direction} {c.b.stats.placement})",
             f"{'':24}{'A':>9}{'B':>9}{'B - A':>9}  {'steps A/B':>11}  judgement"]
    for r in c.rows:
        lines.append(f"{r.metric + ' (' + r.unit + ')':24}{_fmt(r.a):>9}{_fmt(r.b):>9}{_fmt(r.difference, '+.2f'):>9}"
                     f"  {f'{r.a_steps}/{r.b_steps}':>11}  {r.judgement}")
    lines += [f"warning: {w}" for w in c.warnings]
    return "\n".join(lines)


def comparison_html(c: Comparison, rules: Rules | None = None) -> str:
    rules = rules or load_rules()
    e = html.escape
    rows = "".join(f"<tr><td>{e(r.metric)} ({e(r.unit)})</td><td class=n>{_fmt(r.a)}</td><td class=n>{_fmt(r.b)}</td>"
                   f"<td class=n>{_fmt(r.difference, '+.2f')}</td><td class=n>{r.a_steps}/{r.b_steps}</td>"
                   f"<td>{e(r.judgement)}</td><td><small>{e(r.source)}</small></td></tr>" for r in c.rows)
    warnings = "".join(f'<p class="warn">{e(w)}</p>' for w in c.warnings)
    fig = ""
    if c.a.impacts_g is not None and c.b.impacts_g is not None and c.a.impacts_g.size and c.b.impacts_g.size:
        fig = figure_img(compare_figure([c.a.impacts_g, c.b.impacts_g], ["A", "B"], rules.value("mdc_impact_g")),
                         "compare", "Impact per step of sessions A and B")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1"><title>retrorun compare</title>'
            f"<style>{CSS}</style></head><body><h1>Session comparison</h1>"
            f"<p>A: {e(c.a.name)} ({e(c.a.stats.direction)}, {e(c.a.stats.placement)})<br>"
            f"B: {e(c.b.name)} ({e(c.b.stats.direction)}, {e(c.b.stats.placement)})</p>{warnings}"
            "<table><tr><th>metric</th><th class=n>A</th><th class=n>B</th><th class=n>B − A</th>"
            f"<th class=n>steps A/B</th><th>judgement</th><th>source</th></tr>{rows}</table>{fig}"
            f"<p class=note>retrorun {__version__}, guidance rules version {rules.version}. Impact values are "
            "landing-style indices, not tissue loads.</p></body></html>\n")
