"""`retrorun history add/list/show`, `compare` and `trends` end to end on simulated sessions."""
import re
import subprocess
import sys

import matplotlib.image
import pytest

import sensors
from analyzer.cli import main
from analyzer.commands.trends import TREND_METRICS
from analyzer.history import History
from analyzer.trends import METRICS, build_trend, trend_plot


AXIS = ("--forward-axis", "+x")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three short backward shank runs (cadence 170, 180, 190) and one forward run, as files. The sensor is
    mounted with its x axis forward (`--forward-axis +x`): without a warm-up walk that is what lets the
    direction be detected (the files themselves say nothing of it)."""
    folder = tmp_path_factory.mktemp("runs")
    paths = {}
    for name, direction, cadence, seed in (("b170", "backward", 170, 1), ("b180", "backward", 180, 2),
                                           ("b190", "backward", 190, 3), ("f165", "forward", 165, 4)):
        paths[name] = folder / f"{name}.npz"
        sensors.simulate("shank", direction, cadence_spm=cadence, duration_s=40, seed=seed,
                         rotation=None).save(paths[name])
    return paths


@pytest.fixture
def db(tmp_path, runs, capsys):
    path = tmp_path / "h.sqlite"
    for k, (name, date) in enumerate((("b170", "2025-01-01"), ("b180", "2025-01-08"), ("f165", "2025-01-10"),
                                      ("b190", "2025-01-15"))):
        assert main(["history", "add", str(runs[name]), "--date", date, "--warmup-min", "0", "--tag", "surface=track",
                     *AXIS, "--db", str(path)]) == 0
    capsys.readouterr()
    return path


def test_add_list_show_and_duplicates(db, runs, tmp_path, capsys):
    assert main(["history", "list", "--db", str(db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and lines[1].split()[:4] == ["1", "2025-01-01T00:00:00", "backward", "shank"]
    assert "surface=track" in lines[1]
    # the same content under another name is a duplicate
    copy = tmp_path / "copy.npz"
    copy.write_bytes(runs["b180"].read_bytes())
    assert main(["history", "add", str(copy), "--db", str(db)]) == 0
    assert capsys.readouterr().out.strip() == f"{copy}: already in the history as #2"
    assert main(["history", "list", "--direction", "forward", "--db", str(db)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert main(["history", "show", "#2", "--db", str(db)]) == 0
    shown = capsys.readouterr().out
    assert "session #2" in shown and re.search(r"direction    backward \(detected, confidence (0\.9\d|1\.00)\)", shown)
    assert re.search(r"cadence      1[78]\d\.\d steps/min \(\d+ steps\)", shown) and "tag          surface=track" in shown
    assert main(["history", "show", "99", "--db", str(db)]) == 2
    assert main(["history", "add", str(runs["b170"]), "--tag", "oops", "--db", str(db)]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err


def test_history_cli_two_processes_at_once(runs, tmp_path):
    db = tmp_path / "both.sqlite"
    base = [sys.executable, "-m", "analyzer.cli", "history", "add", "--warmup-min", "0", "--db", str(db)]
    procs = [subprocess.Popen(base + [str(runs["b170"]), str(runs["b180"])], stdout=subprocess.PIPE, text=True),
             subprocess.Popen(base + [str(runs["b180"]), str(runs["b190"])], stdout=subprocess.PIPE, text=True)]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    with History(db) as h:
        stored = sorted(r.path.rsplit("/", 1)[-1] for r in h.sessions())
    assert stored == ["b170.npz", "b180.npz", "b190.npz"]         # b180, given to both, is stored once
    said = "".join(outputs)
    assert said.count("b180.npz: added") == 1


def test_compare_files_and_ids(db, runs, tmp_path, capsys):
    out = tmp_path / "c.html"
    assert main(["compare", "1", str(runs["b190"]), "--warmup-min", "0", "--html", str(out), *AXIS,
                 "--db", str(db)]) == 0
    text = capsys.readouterr().out
    assert f"B  {runs['b190']} (backward shank)" in text
    cadence = next(line for line in text.splitlines() if line.startswith("cadence median"))
    assert "real change: higher" in cadence                        # 170 -> 190 steps/min, far beyond 2 spm
    page = out.read_text()
    assert "Session comparison" in page and 'id="fig-compare"' in page and "van Oeveren" in page
    assert main(["compare", "1", "3", "--db", str(db)]) == 0     # backward vs forward
    assert "directions differ" in capsys.readouterr().out
    assert main(["compare", "1", "nope", "--db", str(db)]) == 2


def test_compare_too_few_steps(runs, tmp_path, capsys):
    short = tmp_path / "short.npz"
    sensors.simulate("shank", "backward", duration_s=8, seed=9).save(short)
    assert main(["compare", str(short), str(runs["b170"]), "--warmup-min", "0"]) == 0
    impact = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("impact median"))
    assert "cannot judge: fewer than 25 steps" in impact


def test_trends_png_and_html(db, tmp_path, capsys):
    png = tmp_path / "t.png"
    assert main(["trends", "--metric", "cadence", "--db", str(db), "-o", str(png)]) == 0
    assert "4 sessions, shank sensor, backward, forward" in capsys.readouterr().out
    assert matplotlib.image.imread(png).shape[1] == 700
    html = tmp_path / "t.html"
    assert main(["trends", "--metric", "impact", "--direction", "backward", "--db", str(db), "-o", str(html)]) == 0
    page = html.read_text()
    assert page.count("<tr><td>") == 3 and 'id="fig-trend"' in page
    assert main(["trends", "--db", str(db), "-o", str(tmp_path / "t.svg")]) == 2
    assert main(["trends", "--placement", "wrist", "--db", str(db), "-o", str(png)]) == 2


def test_trend_figure_from_history(db):
    with History(db) as h:
        records = h.sessions()
    trend = build_trend(records, "cadence")
    fig = trend_plot(trend)
    back, fwd = fig.axes
    values = back.lines[[l.get_label() for l in back.lines].index("backward session")].get_ydata()
    assert len(values) == 3 and list(values) == sorted(values)     # 170, 180, 190 in date order
    assert values[0] == pytest.approx(170, abs=3) and values[-1] == pytest.approx(190, abs=3)
    # baseline = median of the earliest three backward sessions; target band +5..+10 % of it
    assert trend.baselines["backward"] == pytest.approx(sorted(values)[1])
    low, high = trend.bands["backward"]
    assert low == pytest.approx(1.05 * trend.baselines["backward"]) and high == pytest.approx(1.10 * trend.baselines["backward"])
    assert back.get_ylabel() == "cadence (steps/min)" and fwd.get_xlabel() == "session date"
    assert set(TREND_METRICS) == set(METRICS)
