"""Figures show what they claim: axes and units, the number of points, the bands and data ranges."""
import io
import subprocess
import sys
from datetime import datetime, timedelta

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from analyzer.figures import (TrendPoint, balance_figure, cadence_over_time, compare_figure, impact_distribution,
                              impact_over_time, leg_balance, png_bytes, trend_figure)
from analyzer.guidance import Targets

TARGETS = Targets(basis="baseline", impact_g_low=4.2, impact_g_high=4.8, cadence_spm_low=189.0,
                  cadence_spm_high=198.0, preferred_cadence_spm=180.0, reference_impact_g=6.0)


def synthetic_steps(n=900, interval_s=1 / 3, walking=60, other_interval_s=None) -> pd.DataFrame:
    """Alternating sensor/other contacts at 180 steps/min; the first `walking` steps are not running;
    impact 5 g + 1 mg per step on the sensor leg."""
    i = np.arange(n)
    intervals = np.full(n, interval_s)
    if other_interval_s is not None:
        intervals[1::2] = other_interval_s
    time_s = np.concatenate([[0.0], np.cumsum(intervals[1:])])[:n]
    sensor = i % 2 == 0
    return pd.DataFrame({
        "time_s": time_s, "foot": np.where(sensor, "sensor", "other"), "estimated": False,
        "interval_s": np.where(i == 0, np.nan, intervals), "cadence_spm": np.where(i == 0, np.nan, 60 / intervals),
        "impact_g": np.where(sensor, 5.0 + 0.001 * i, np.nan), "clipped": False, "running": i >= walking})


def labelled(ax, label):
    found = [a for a in ax.lines + ax.patches if a.get_label() == label]
    assert found, f"nothing labelled {label!r}; have {[a.get_label() for a in ax.lines + ax.patches]}"
    return found[0]


def span_y(ax, patch):
    pts = ax.transData.inverted().transform(patch.get_window_extent().get_points())
    return sorted(pts[:, 1])


def span_x(ax, patch):
    pts = ax.transData.inverted().transform(patch.get_window_extent().get_points())
    return sorted(pts[:, 0])


def top_down_labels(ax):
    return [label for _, label in sorted(zip(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()]),
                                         reverse=True)]


def test_impact_over_time():
    steps = synthetic_steps()
    fig = impact_over_time(steps, TARGETS, warmup_s=60.0, rolling_steps=25, baseline_g=6.0)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "time (min)" and ax.get_ylabel() == "impact (g, peak resultant)"
    running = labelled(ax, "running step")
    n_run = int((steps.running & steps.impact_g.notna()).sum())
    assert len(running.get_xdata()) == n_run == 420
    assert len(labelled(ax, "not running").get_xdata()) == 30
    assert max(running.get_xdata()) == pytest.approx(steps.time_s.iloc[-2] / 60)
    assert min(running.get_ydata()) == pytest.approx(5.06) and max(running.get_ydata()) == pytest.approx(5.898)
    median = labelled(ax, "rolling median (25 steps)")
    assert np.isfinite(median.get_ydata()).sum() == n_run - 24          # a full 25-step window only
    assert np.nanmax(median.get_ydata()) <= 5.898
    assert labelled(ax, "baseline").get_ydata()[0] == 6.0
    assert span_y(ax, labelled(ax, "target band (-20 to -30 %)")) == pytest.approx([4.2, 4.8])
    assert span_x(ax, labelled(ax, "warm-up (excluded)")) == pytest.approx([0, 1.0])
    lo, hi = ax.get_ylim()
    assert lo <= 4.2 and hi >= 6.0


def test_impact_distribution_counts_summary_steps_only():
    steps = synthetic_steps()
    fig = impact_distribution(steps, warmup_s=100.0, targets=TARGETS, baseline_g=6.0)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "impact (g, peak resultant)" and ax.get_ylabel() == "steps"
    used = steps[(steps.time_s >= 100) & steps.running & steps.impact_g.notna()]
    assert sum(p.get_height() for p in ax.containers[0]) == len(used)
    assert labelled(ax, "this session's median").get_xdata()[0] == pytest.approx(used.impact_g.median())
    assert labelled(ax, "baseline median").get_xdata()[0] == 6.0
    assert f"({len(used)} steps)" in ax.containers[0].get_label() or any(
        f"({len(used)} steps)" in t.get_text() for t in ax.get_legend().get_texts())


def test_cadence_over_time():
    steps = synthetic_steps()
    fig = cadence_over_time(steps, TARGETS, warmup_s=60.0, rolling_steps=25)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "cadence (steps/min)" and ax.get_xlabel() == "time (min)"
    pts = labelled(ax, "running step")
    assert len(pts.get_xdata()) == int(steps.running.sum()) == 840
    assert np.allclose(pts.get_ydata(), 180.0)
    assert span_y(ax, labelled(ax, "target band (+5 to +10 %)")) == pytest.approx([189.0, 198.0])
    assert labelled(ax, "preferred").get_ydata()[0] == 180.0
    lo, hi = ax.get_ylim()
    assert lo <= 180 and hi >= 198


def test_balance_needs_both_legs_observed():
    steps = synthetic_steps(other_interval_s=0.35, interval_s=0.32)
    b = leg_balance(steps, warmup_s=0.0, min_steps=25)
    assert b.labels == ("sensor leg", "other leg")
    assert b.first_step_ms == pytest.approx(320) and b.second_step_ms == pytest.approx(350)
    assert b.first_share_pct == pytest.approx(100 * 320 / 670)
    fig = balance_figure(steps, 0.0, 25)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "step time (ms)"
    assert top_down_labels(ax) == ["sensor leg", "other leg"]
    body = steps.assign(foot="either")
    assert leg_balance(body, 0.0, 25) is None and balance_figure(body, 0.0, 25) is None
    estimated = steps.assign(estimated=steps.foot == "other")
    assert leg_balance(estimated, 0.0, 25) is None


def test_trend_figure_per_direction_with_bands():
    day = datetime(2025, 1, 1)
    points = [TrendPoint(day + timedelta(days=7 * k), 6.0 - 0.3 * k, 300, "backward") for k in range(5)]
    points += [TrendPoint(day + timedelta(days=3), 9.0, 10, "forward"), TrendPoint(day + timedelta(days=10), 8.5, 200, "forward")]
    fig = trend_figure(points, "impact (g, median peak resultant)", {"backward": 5.7, "forward": 8.5},
                       {"backward": (3.99, 4.56)}, mdc=1.5, min_steps=25, title="impact")
    back, fwd = fig.axes
    assert back.get_title() == "impact: backward" and fwd.get_title() == "impact: forward"
    assert fwd.get_xlabel() == "session date" and back.get_ylabel() == "impact (g, median peak resultant)"
    assert len(labelled(back, "backward session").get_ydata()) == 5
    assert list(labelled(back, "backward session").get_ydata()) == pytest.approx([6.0, 5.7, 5.4, 5.1, 4.8])
    assert span_y(back, labelled(back, "no real change (baseline +-1.5)")) == pytest.approx([4.2, 7.2])
    assert span_y(back, labelled(back, "target band")) == pytest.approx([3.99, 4.56])
    assert len(labelled(fwd, "forward session").get_ydata()) == 1
    assert len(labelled(fwd, "fewer than 25 steps").get_ydata()) == 1        # the 10-step session: hollow
    assert not [p for p in fwd.patches if p.get_label() == "target band"]


def test_compare_figure_and_png():
    fig = compare_figure([np.array([5.0, 5.5, 6.0]), np.array([4.0, 4.2, np.nan])], ["A", "B"], 1.5)
    ax = fig.axes[0]
    assert top_down_labels(ax) == ["A", "B"] and "g" in ax.get_xlabel()
    image = matplotlib.image.imread(io.BytesIO(png_bytes(fig)), format="png")
    assert image.shape[:2] == (300, 700)                      # 7 x 3 in at 100 dpi
    assert (image[..., :3] < 0.9).any()                       # something is drawn


def test_empty_session_figures_do_not_fail():
    steps = synthetic_steps(n=0)
    for fig in (impact_over_time(steps, TARGETS, 300.0, 25), impact_distribution(steps, 300.0, TARGETS),
                cadence_over_time(steps, TARGETS, 300.0, 25)):
        assert png_bytes(fig).startswith(b"\x89PNG")


def test_figures_never_touch_pyplot():
    code = "import analyzer.figures, analyzer.report, analyzer.trends, analyzer.compare, sys; print('matplotlib.pyplot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
