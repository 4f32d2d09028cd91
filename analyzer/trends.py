"""Cadence and impact across sessions over time, per direction, for one placement: the session values
(warm-up and walk breaks already excluded when they were added), the runner's baseline, the +-MDC
"no real change" band around it and the target band (thresholds and sources from guidance_rules.json)."""
from __future__ import annotations

import html
import math
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from matplotlib.figure import Figure

from sensors.errors import InputError

from . import __version__
from .figures import CADENCE_LABEL, TrendPoint, trend_figure
from .guidance import Rules, build_baseline, load_rules, targets_for
from .history import SessionRecord
from .report import CSS, figure_img


@dataclass(frozen=True)
class MetricSpec:
    name: str
    label: str
    attribute: str
    steps_attribute: str
    mdc_threshold: str
    target: str


METRICS = {
    "impact": MetricSpec("impact", "impact (g, median peak resultant)", "impact_g_median", "impact_steps",
                         "mdc_impact_g", "impact"),
    "impact_p90": MetricSpec("impact_p90", "impact (g, 90th percentile)", "impact_g_p90", "impact_steps",
                             "mdc_impact_g", "none"),
    "cadence": MetricSpec("cadence", CADENCE_LABEL, "cadence_spm", "cadence_steps", "mdc_cadence_spm", "cadence"),
}


@dataclass(frozen=True)
class Trend:
    metric: MetricSpec
    placement: str
    points: tuple[TrendPoint, ...]
    baselines: dict[str, float]
    bands: dict[str, tuple[float, float]]
    mdc: float
    min_steps: int
    records: tuple[SessionRecord, ...]


def pick_placement(records: Sequence[SessionRecord], placement: str | None) -> str:
    """The placement asked for, else the most common one in the history (placements are never mixed)."""
    if placement:
        return placement
    if not records:
        raise InputError("no sessions in the history", expected="sessions added with `retrorun history add`")
    return Counter(r.stats.placement for r in records).most_common(1)[0][0]


def build_trend(records: Sequence[SessionRecord], metric: str = "impact", direction: str | None = None,
                placement: str | None = None, rules: Rules | None = None) -> Trend:
    """Points, baselines and bands of one metric for one placement, per direction (oldest first records)."""
    if metric not in METRICS:
        raise InputError("unknown trend metric", found=repr(metric), expected=" or ".join(METRICS))
    rules = rules or load_rules()
    spec = METRICS[metric]
    placement = pick_placement(records, placement)
    chosen = [r for r in records if r.stats.placement == placement and (direction is None or r.stats.direction == direction)]
    chosen = [r for r in chosen if math.isfinite(getattr(r.stats, spec.attribute))]
    if not chosen:
        raise InputError("no sessions to plot", found=f"placement {placement}, direction {direction or 'any'}",
                         expected="sessions added with `retrorun history add`")
    points = tuple(TrendPoint(r.when, float(getattr(r.stats, spec.attribute)), int(getattr(r.stats, spec.steps_attribute)),
                              r.stats.direction) for r in chosen)
    baselines, bands = {}, {}
    for d in sorted({r.stats.direction for r in chosen}):
        mine = [r.stats for r in chosen if r.stats.direction == d]
        base = build_baseline(mine, d, placement, rules)
        value = {"impact_g_median": base.impact_g_median, "cadence_spm": base.cadence_spm}.get(spec.attribute, float("nan"))
        if spec.attribute == "impact_g_p90" and base.has_history:
            value = _median([mine[i].impact_g_p90 for i in base.session_ids])
        baselines[d] = value
        if base.has_history and spec.target != "none":
            t = targets_for(mine[0], base, rules)
            bands[d] = (t.impact_g_low, t.impact_g_high) if spec.target == "impact" else (t.cadence_spm_low, t.cadence_spm_high)
    return Trend(spec, placement, points, baselines, bands, rules.value(spec.mdc_threshold),
                 int(rules.value("min_steps")), tuple(chosen))


def _median(values: list[float]) -> float:
    values = sorted(v for v in values if math.isfinite(v))
    if not values:
        return float("nan")
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def trend_plot(trend: Trend) -> Figure:
    return trend_figure(trend.points, trend.metric.label, trend.baselines, trend.bands, trend.mdc, trend.min_steps,
                        f"{trend.metric.name} ({trend.placement})")


def trend_html(trend: Trend, rules: Rules | None = None) -> str:
    rules = rules or load_rules()
    e = html.escape
    rows = "".join(
        f"<tr><td>{r.id}</td><td>{e(r.session_date[:16])}</td><td>{e(r.stats.direction)}</td>"
        f"<td class=n>{getattr(r.stats, trend.metric.attribute):.2f}</td>"
        f"<td class=n>{getattr(r.stats, trend.metric.steps_attribute)}</td>"
        f"<td>{'' if r.rules_version else 'older entry: warm-up not excluded, steps unknown'}</td></tr>"
        for r in trend.records)
    base = "; ".join(f"{d}: {v:.2f}" for d, v in trend.baselines.items() if math.isfinite(v)) or "none yet"
    mdc = rules.thresholds[trend.metric.mdc_threshold]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1"><title>retrorun trends</title>'
            f"<style>{CSS}</style></head><body><h1>Trend: {e(trend.metric.name)}, {e(trend.placement)} sensor</h1>"
            + figure_img(trend_plot(trend), "trend", f"{trend.metric.name} per session over time")
            + f"<p>Baseline (earliest {rules.value('baseline_sessions'):g} sessions with at least "
            f"{trend.min_steps} steps): {e(base)}. A change is real only beyond ±{mdc.value:g} {e(mdc.unit)} "
            f"({e(mdc.source)}). Warm-up (first {rules.value('warmup_s') / 60:g} min) and walk breaks are excluded "
            f"({e(rules.thresholds['warmup_s'].source)}).</p>"
            "<table><tr><th>id</th><th>date</th><th>direction</th><th class=n>value</th><th class=n>steps</th><th></th></tr>"
            f"{rows}</table><p class=note>retrorun {__version__}. Impact values are landing-style indices, not "
            "tissue loads.</p></body></html>\n")
