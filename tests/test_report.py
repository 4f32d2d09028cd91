"""The HTML report: content, self-containment, the command line, and rendering in real headless Chromium."""
import base64
import io
import re
import shutil
import subprocess

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

import sensors
from analyzer import analyze
from analyzer.cli import main
from analyzer.guidance import load_rules
from analyzer.report import interval_table, prepare_session, report_html
from analyzer.session import direction_of

from test_guidance import stats as make_stats


@pytest.fixture(scope="module")
def session_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "session.npz"
    sensors.simulate("shank", "backward", duration_s=720, session=True, seed=3, sampling_rate_hz=200).save(path)
    return path


@pytest.fixture(scope="module")
def report(session_file):
    rec = sensors.load(session_file)
    result = analyze(rec)
    direction, source = direction_of(rec, None, result)   # detected on the warm-up walk, as `analyze` does
    earlier = [make_stats(impact_g=7.5, cadence_spm=170.0)]
    return prepare_session("session.npz", rec, result, direction, source, earlier)


@pytest.fixture(scope="module")
def page(report):
    return report_html([report])


def test_page_is_self_contained(page):
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", page, re.I)
    assert "<script" not in page.lower() and "<link" not in page.lower() and "@import" not in page
    assert '<meta name="viewport" content="width=device-width' in page
    images = re.findall(r'<img id="fig-(\w+)" alt="[^"]+" src="data:image/png;base64,([^"]+)"', page)
    assert [name for name, _ in images] == ["impact_over_time", "impact_distribution", "cadence_over_time"]
    for _, data in images:
        image = matplotlib.image.imread(io.BytesIO(base64.b64decode(data)), format="png")
        assert image.shape[:2] == (300, 700)


def test_page_content(page, report):
    assert report.stats.direction == "backward"
    assert re.search(r"backward <small>\(detected, confidence (0\.9\d|1\.00)\)</small>", page)
    for fact in ("shank", "200 Hz", "±16 g (stated)", "first 5 min", "12:00"):
        assert fact in page, fact
    # verdict against the one earlier session (7.5 g, 170 steps/min): each rule shown with its source
    for finding in report.verdict.findings:
        assert f'data-rule="{finding.rule_id}"' in page
    assert report.verdict.baseline.session_count == 1 and report.verdict.baseline.impact_g_median == 7.5
    assert "Source: " in page and "Oliveira &amp; Pirscoveanu 2021" in page
    # the interval table lists every interval
    assert page.count("<tr><td>", page.index('class="intervals"')) >= len(report.intervals) > 0
    # sources of every threshold
    for t in load_rules().thresholds.values():
        assert re.sub("&", "&amp;", t.source).replace("'", "&#x27;") in page
    assert "landing-style indices" in page and "not tissue loads" in page
    assert "Left/right balance is not available" in page      # the simulator's other foot is estimated


def test_interval_table_by_hand():
    # 30 running steps at 0.33 s, a 5 s pause, 1200 running steps (400 s: cut at 300 s), 5 walking steps
    t1 = np.arange(30) * 0.33
    t2 = t1[-1] + 5 + np.arange(1200) / 3
    t3 = t2[-1] + 0.6 * np.arange(1, 6)
    time_s = np.concatenate([t1, t2, t3])
    interval = np.diff(time_s, prepend=np.nan)
    interval[30] = np.nan                                           # the pause breaks cadence
    steps = pd.DataFrame({"time_s": time_s, "foot": "either", "estimated": False, "interval_s": interval,
                          "cadence_spm": 60 / interval, "impact_g": 3.0, "clipped": False,
                          "running": np.r_[np.ones(1230, bool), np.zeros(5, bool)]})
    table = interval_table(steps, warmup_s=10.0)           # the second bout starts at 14.6 s
    assert list(table.steps) == [30, 900, 300]
    assert table.start_s.tolist() == pytest.approx([0.0, t2[0], t2[900]])
    assert table.cadence_spm.tolist() == pytest.approx([60 / 0.33, 180.0, 180.0])
    assert table.warmup.tolist() == [True, False, False]


def test_report_command_writes_html_and_pngs(session_file, tmp_path, capsys):
    out, figs = tmp_path / "r.html", tmp_path / "figs"
    assert main(["report", str(session_file), "-o", str(out), "--figures", str(figs), "--no-history"]) == 0
    text = capsys.readouterr().out
    assert "session.npz: " in text and f"wrote {out}" in text
    assert out.read_text().startswith("<!DOCTYPE html>")
    pngs = sorted(p.name for p in figs.iterdir())
    assert pngs == ["session_cadence_over_time.png", "session_impact_distribution.png", "session_impact_over_time.png"]
    assert matplotlib.image.imread(figs / pngs[0]).shape[:2] == (300, 700)


def test_report_command_errors(session_file, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", str(tmp_path / "nope.csv"), "-o", str(out)]) == 2
    assert main(["report", str(session_file), "-o", str(out), "--db", str(tmp_path / "none.sqlite")]) == 2
    assert "no history database" in capsys.readouterr().err
    assert not out.exists()                                   # nothing written after an error


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
ONLY_FIGURES = "<style>body * { visibility: hidden !important; } img { visibility: visible !important; }</style>"
NO_FIGURES = "<style>body * { visibility: hidden !important; }</style>"
IMAGES_CHECK = ("<script>window.addEventListener('load', () => { const ok = [...document.images].every("
                "i => i.complete && i.naturalWidth === 700); document.body.setAttribute('data-images', "
                "ok && document.images.length === 3 ? 'ok' : 'broken'); });</script>")


def chromium(tmp_path, html_path, *args):
    profile = tmp_path / f"profile-{html_path.stem}"
    cmd = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, html_path.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)


def screenshot(tmp_path, page, name, extra_head=""):
    html_path = tmp_path / f"{name}.html"
    html_path.write_text(page.replace("</head>", extra_head + "</head>"))
    shot = tmp_path / f"{name}.png"
    run = chromium(tmp_path, html_path, "--window-size=412,4000", f"--screenshot={shot}")
    assert run.returncode == 0, run.stderr[-2000:]
    return matplotlib.image.imread(shot)[..., :3]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (CI installs it: .ci/run)")
def test_report_renders_in_headless_chromium_with_visible_figures(tmp_path, page):
    # the page loads and every embedded figure decodes at its full size
    html_path = tmp_path / "check.html"
    html_path.write_text(page.replace("</head>", IMAGES_CHECK + "</head>"))
    dom = chromium(tmp_path, html_path, "--virtual-time-budget=5000", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'data-images="ok"' in dom.stdout
    # a phone-width screenshot of the page as it is
    full = screenshot(tmp_path, page, "full")
    assert full.shape[1] == 412 and (full < 0.9).any()
    # only the figures shown (layout unchanged): their pixels are what is not white
    figures = screenshot(tmp_path, page, "figures", ONLY_FIGURES)
    blank = screenshot(tmp_path, page, "blank", NO_FIGURES)
    assert (blank > 0.98).all()                                   # nothing but the figures can draw
    inked = (figures < 0.9).any(axis=2)
    rows = np.flatnonzero(inked.any(axis=1))
    assert inked.mean() > 0.01 and rows.size > 300                # three figures ~170 px tall each at 412 px
    # the figures are scaled to the phone's width, not cut off: ink reaches both sides of the page
    cols = np.flatnonzero(inked.any(axis=0))
    assert cols.min() < 60 and cols.max() > 350
    # the data colour of step points (matplotlib blue) is visible
    blue = (np.abs(figures - np.array([0x1f, 0x77, 0xb4]) / 255).max(axis=2) < 0.12)
    assert blue.sum() > 50
