"""Report figures, built with matplotlib's object API (`Figure`, never pyplot): no global state is touched.

Every figure labels its axes with units and names its artists (`label`) so tests and readers can tell
what is drawn: step points, the rolling median, the target band, the baseline, the warm-up.
"""
from __future__ import annotations

import inspect
import io
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .guidance import Targets
from .session import summary_mask

WIDTH_IN = 7.0
HEIGHT_IN = 3.0
DPI = 100
COLOURS = {"step": "#1f77b4", "other": "#b0b0b0", "median": "#d62728", "target": "#2ca02c",
           "baseline": "#000000", "mdc": "#ff7f0e", "warmup": "#dddddd", "forward": "#1f77b4",
           "backward": "#9467bd", "unknown": "#7f7f7f"}
IMPACT_LABEL = "impact (g, peak resultant)"
CADENCE_LABEL = "cadence (steps/min)"
TIME_LABEL = "time (min)"


def png_bytes(fig: Figure, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes (Agg renderer, chosen per call: no backend switch)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _figure(height_in: float = HEIGHT_IN) -> tuple[Figure, "matplotlib.axes.Axes"]:  # noqa: F821
    fig = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
    return fig, fig.add_subplot()


def rolling_median(values: np.ndarray, window_steps: int) -> np.ndarray:
    """Centred rolling median over `window_steps` values; NaN where the window is not full."""
    return pd.Series(values).rolling(window_steps, center=True, min_periods=window_steps).median().to_numpy()


def _legend(ax, **kwargs) -> None:
    """A legend only when something is labelled (an empty session draws none)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="x-small", **kwargs)


def _shade_warmup(ax, warmup_s: float, end_s: float) -> None:
    if warmup_s > 0:
        ax.axvspan(0.0, min(warmup_s, end_s) / 60.0, color=COLOURS["warmup"], alpha=0.6, lw=0,
                   label="warm-up (excluded)")


def _band(ax, low: float, high: float, label: str, colour: str) -> None:
    if math.isfinite(low) and math.isfinite(high):
        ax.axhspan(min(low, high), max(low, high), color=colour, alpha=0.18, lw=0, label=label)


def impact_over_time(steps: pd.DataFrame, targets: Targets, warmup_s: float, rolling_steps: int,
                     baseline_g: float = float("nan")) -> Figure:
    """Impact of every step with a value over time, the rolling median of running steps, the target band
    and the baseline."""
    fig, ax = _figure()
    has = steps["impact_g"].notna().to_numpy()
    running = steps["running"].to_numpy(dtype=bool)
    t_min = steps["time_s"].to_numpy(dtype=float) / 60.0
    impact = steps["impact_g"].to_numpy(dtype=float)
    _shade_warmup(ax, warmup_s, float(steps["time_s"].max()) if len(steps) else 0.0)
    _band(ax, targets.impact_g_low, targets.impact_g_high, "target band (-20 to -30 %)", COLOURS["target"])
    ax.plot(t_min[has & ~running], impact[has & ~running], ".", ms=2, color=COLOURS["other"], label="not running")
    ax.plot(t_min[has & running], impact[has & running], ".", ms=2, color=COLOURS["step"], label="running step")
    sel = has & running
    ax.plot(t_min[sel], rolling_median(impact[sel], rolling_steps), "-", lw=1.5, color=COLOURS["median"],
            label=f"rolling median ({rolling_steps} steps)")
    if math.isfinite(baseline_g):
        ax.axhline(baseline_g, color=COLOURS["baseline"], lw=1, ls="--", label="baseline")
    ax.set_xlabel(TIME_LABEL)
    ax.set_ylabel(IMPACT_LABEL)
    ax.set_title("Landing impact per step")
    _legend(ax, loc="upper right", ncols=2)
    return fig


def impact_distribution(steps: pd.DataFrame, warmup_s: float, targets: Targets,
                        baseline_g: float = float("nan"), bin_g: float = 0.25) -> Figure:
    """Histogram of impact over the steps a summary uses, with this session's median, the baseline and the
    target band."""
    fig, ax = _figure()
    use = summary_mask(steps, warmup_s)
    impact = steps.loc[use, "impact_g"].dropna().to_numpy(dtype=float)
    _band(ax, targets.impact_g_low, targets.impact_g_high, "target band (-20 to -30 %)", COLOURS["target"])
    if impact.size:
        edges = np.arange(np.floor(impact.min() / bin_g) * bin_g, impact.max() + bin_g, bin_g)
        if edges.size < 2:
            edges = np.array([impact.min() - bin_g, impact.max() + bin_g])
        ax.hist(impact, bins=edges, color=COLOURS["step"], alpha=0.8, label=f"this session ({impact.size} steps)")
        ax.axvline(float(np.median(impact)), color=COLOURS["median"], lw=1.5, label="this session's median")
    if math.isfinite(baseline_g):
        ax.axvline(baseline_g, color=COLOURS["baseline"], lw=1.2, ls="--", label="baseline median")
    if math.isfinite(targets.impact_g_low):
        ax.axvspan(targets.impact_g_low, targets.impact_g_high, color=COLOURS["target"], alpha=0.18, lw=0)
    ax.set_xlabel(IMPACT_LABEL)
    ax.set_ylabel("steps")
    ax.set_title("Impact distribution (running, after warm-up)")
    _legend(ax, loc="upper right")
    return fig


def cadence_over_time(steps: pd.DataFrame, targets: Targets, warmup_s: float, rolling_steps: int) -> Figure:
    """Cadence of every running step over time, its rolling median, the preferred rate and the
    +5 to +10 % target band."""
    fig, ax = _figure()
    running = steps["running"].to_numpy(dtype=bool) & steps["cadence_spm"].notna().to_numpy()
    t_min = steps["time_s"].to_numpy(dtype=float)[running] / 60.0
    cadence = steps["cadence_spm"].to_numpy(dtype=float)[running]
    _shade_warmup(ax, warmup_s, float(steps["time_s"].max()) if len(steps) else 0.0)
    _band(ax, targets.cadence_spm_low, targets.cadence_spm_high, "target band (+5 to +10 %)", COLOURS["target"])
    ax.plot(t_min, cadence, ".", ms=2, color=COLOURS["step"], label="running step")
    ax.plot(t_min, rolling_median(cadence, rolling_steps), "-", lw=1.5, color=COLOURS["median"],
            label=f"rolling median ({rolling_steps} steps)")
    if math.isfinite(targets.preferred_cadence_spm):
        ax.axhline(targets.preferred_cadence_spm, color=COLOURS["baseline"], lw=1, ls="--", label="preferred")
    if cadence.size:
        lo, hi = np.nanpercentile(cadence, [1, 99])
        span = [lo, hi] + [v for v in (targets.cadence_spm_high, targets.preferred_cadence_spm) if math.isfinite(v)]
        ax.set_ylim(min(span) - 5, max(span) + 5)
    ax.set_xlabel(TIME_LABEL)
    ax.set_ylabel(CADENCE_LABEL)
    ax.set_title("Cadence over time")
    _legend(ax, loc="upper right", ncols=2)
    return fig


def _horizontal_boxes(ax, data: list[np.ndarray], labels: list[str]) -> None:
    """Horizontal box plots without outliers, first label on top (works across matplotlib 3.7-3.11)."""
    positions = list(range(len(data), 0, -1))
    if "orientation" in inspect.signature(ax.boxplot).parameters:
        ax.boxplot(data, positions=positions, orientation="horizontal", showfliers=False)
    else:  # matplotlib < 3.10
        ax.boxplot(data, positions=positions, vert=False, showfliers=False)
    ax.set_yticks(positions, labels)


@dataclass(frozen=True)
class Balance:
    """Step time of each leg (the interval ending at that leg's contact), running steps after warm-up.
    `labels`: ("sensor leg", "other leg") for a shank/foot sensor, ("left", "right") for a body-worn one whose
    steps were attributed to a side (analyzer/direction.py)."""

    labels: tuple[str, str]
    first_step_ms: float
    second_step_ms: float
    first_steps: int
    second_steps: int

    @property
    def first_share_pct(self) -> float:
        return 100.0 * self.first_step_ms / (self.first_step_ms + self.second_step_ms)


LEG_PAIRS = ((("sensor", "other"), ("sensor leg", "other leg")), (("left", "right"), ("left", "right")))
"""The `foot` values of the two legs and their labels."""


def _leg_intervals(steps: pd.DataFrame, warmup_s: float) -> tuple[tuple[str, str], list[np.ndarray]] | None:
    """Labels and running step times (s) of each leg, for the first pair of `foot` values present."""
    use = summary_mask(steps, warmup_s) & ~steps["estimated"].to_numpy(dtype=bool) & steps["interval_s"].notna().to_numpy()
    foot = steps["foot"].to_numpy()
    for values, labels in LEG_PAIRS:
        if np.isin(values, foot).all():
            return labels, [steps.loc[use & (foot == v), "interval_s"].to_numpy(dtype=float) for v in values]
    return None


def leg_balance(steps: pd.DataFrame, warmup_s: float, min_steps: int) -> Balance | None:
    """Left/right step-time balance, when both legs' contacts are observed (a shank or foot sensor whose
    other-foot contacts are seen, not estimated, or a body-worn sensor whose steps have sides) and each has
    `min_steps`; else None."""
    legs = _leg_intervals(steps, warmup_s)
    if legs is None or min(len(x) for x in legs[1]) < min_steps:
        return None
    labels, (first, second) = legs
    return Balance(labels, 1000 * float(np.median(first)), 1000 * float(np.median(second)), len(first), len(second))


def balance_figure(steps: pd.DataFrame, warmup_s: float, min_steps: int) -> Figure | None:
    """Box plots of step time per leg; None when the balance is not available."""
    balance = leg_balance(steps, warmup_s, min_steps)
    if balance is None:
        return None
    _, data = _leg_intervals(steps, warmup_s)
    fig, ax = _figure()
    _horizontal_boxes(ax, [1000 * x for x in data], list(balance.labels))
    ax.set_xlabel("step time (ms)")
    ax.set_title("Left/right step time")
    return fig


@dataclass(frozen=True)
class TrendPoint:
    when: datetime
    value: float
    steps: int
    direction: str


def trend_figure(points: Sequence[TrendPoint], metric_label: str, baselines: dict[str, float],
                 bands: dict[str, tuple[float, float]], mdc: float, min_steps: int, title: str) -> Figure:
    """One panel per direction: the session values over time (hollow when fewer than `min_steps` steps
    stand behind them), the baseline, the +-MDC change band around it and the target band."""
    directions = sorted({p.direction for p in points}) or ["unknown"]
    fig = Figure(figsize=(WIDTH_IN, 2.6 * len(directions) + 0.4), layout="constrained")
    axes = fig.subplots(len(directions), 1, squeeze=False)[:, 0]
    for ax, direction in zip(axes, directions):
        mine = sorted((p for p in points if p.direction == direction), key=lambda p: p.when)
        base = baselines.get(direction, float("nan"))
        if math.isfinite(base):
            ax.axhspan(base - mdc, base + mdc, color=COLOURS["mdc"], alpha=0.15, lw=0,
                       label=f"no real change (baseline +-{mdc:g})")
            ax.axhline(base, color=COLOURS["baseline"], ls="--", lw=1, label="baseline")
        low, high = bands.get(direction, (float("nan"), float("nan")))
        _band(ax, low, high, "target band", COLOURS["target"])
        enough = [p for p in mine if p.steps >= min_steps]
        few = [p for p in mine if p.steps < min_steps]
        colour = COLOURS.get(direction, COLOURS["unknown"])
        ax.plot([p.when for p in mine], [p.value for p in mine], "-", color=colour, lw=0.8, alpha=0.6)
        ax.plot([p.when for p in enough], [p.value for p in enough], "o", color=colour,
                label=f"{direction} session")
        if few:
            ax.plot([p.when for p in few], [p.value for p in few], "o", mfc="none", color=colour,
                    label=f"fewer than {min_steps} steps")
        ax.set_ylabel(metric_label)
        ax.set_title(f"{title}: {direction}")
        _legend(ax, loc="best")
    axes[-1].set_xlabel("session date")
    fig.autofmt_xdate()
    return fig


def compare_figure(impacts: Sequence[np.ndarray], labels: Sequence[str], mdc_g: float) -> Figure:
    """Impact distributions of sessions side by side (box plots), with the MDC as a scale bar note."""
    fig, ax = _figure()
    data = [np.asarray(v, dtype=float)[np.isfinite(v)] for v in impacts]
    _horizontal_boxes(ax, data, list(labels))
    ax.set_xlabel(IMPACT_LABEL)
    ax.set_title(f"Impact per session (a real change exceeds {mdc_g:g} g)")
    return fig
