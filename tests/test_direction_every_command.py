"""Every command calls the same running direction for the same file (issue 16): `analyze`, `report`,
`history add` / `history show` and `compare` take it from the signal, or from `--direction` ("stated"),
never from the file's metadata. A simulated file holds no direction: the simulator keeps it in the truth
file, which the commands never read."""
import json
import re

import pytest

import sensors
from analyzer.cli import main
from sensors.fileformat import read_header
from sensors.simulator import load_settings

UNKNOWN_SOURCE = "not stated (use --direction) and not detected"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A steady backward run with no walk to calibrate the sensor's forward axis on (the file where report
    and history once said 'backward (simulator settings in the file)' and analyze 'unknown'), and a backward
    session that starts with its warm-up walk."""
    folder = tmp_path_factory.mktemp("direction")
    steady, session = folder / "steady.csv", folder / "session.csv"
    sensors.simulate("shank", "backward", duration_s=40, seed=5).save(steady)
    sensors.simulate("phone_pocket", "backward", sampling_rate_hz=50, duration_s=240, seed=6,
                     session=True).save(session)
    return {"steady": steady, "session": session}


def directions_said(path, tmp_path, capsys, *options) -> dict[str, tuple[str, str | None]]:
    """(direction, source) as each command says it for one file; `options` go to every command but analyze,
    which has none for the direction."""
    said = {}
    capsys.readouterr()
    assert main(["analyze", str(path), "--json", "-"]) == 0
    said["analyze"] = (json.loads(capsys.readouterr().out)["summary"]["direction"], None)

    db = tmp_path / "history.sqlite"
    assert main(["history", "add", str(path), "--warmup-min", "0", "--db", str(db), *options]) == 0
    said["history add"] = (re.search(r"added as #1 \((\w+) ", capsys.readouterr().out).group(1), None)
    assert main(["history", "show", "1", "--db", str(db)]) == 0
    said["history show"] = re.search(r"^ +direction +(\w+) \((.*)\)$", capsys.readouterr().out, re.M).groups()

    page = tmp_path / "report.html"
    assert main(["report", str(path), "-o", str(page), "--warmup-min", "0", "--db", str(db), *options]) == 0
    found = re.search(r"<dt>direction</dt><dd>(\w+) <small>\((.*?)\)</small>", page.read_text())
    said["report"] = found.groups()

    assert main(["compare", str(path), "1", "--warmup-min", "0", "--db", str(db), *options]) == 0
    out = capsys.readouterr().out
    said["compare A"] = (re.search(r"^A  .* \((\w+) \w+\)$", out, re.M).group(1), None)
    said["compare B (history)"] = (re.search(r"^B  .* \((\w+) \w+\)$", out, re.M).group(1), None)
    return said


@pytest.mark.parametrize("name, expected", [("steady", "unknown"), ("session", "backward")])
def test_analyze_report_history_and_compare_say_the_same_direction(files, name, expected, tmp_path, capsys):
    path = files[name]
    # the recording states no direction; the simulator's settings are in the truth file only
    header, _ = read_header(path)
    assert header == {"placement": header["placement"], "unit": "g", "device": "retrorun simulator",
                      "range_g": "16.0"}
    assert load_settings(path)["direction"] == "backward"

    said = directions_said(path, tmp_path, capsys)
    assert {command: direction for command, (direction, _) in said.items()} == dict.fromkeys(said, expected)
    sources = {said["report"][1], said["history show"][1]}
    if expected == "unknown":
        assert sources == {UNKNOWN_SOURCE}
    else:
        assert len(sources) == 1 and re.fullmatch(r"detected, confidence (0\.[89]\d|1\.00)", sources.pop())


def test_a_stated_direction_is_said_as_stated_everywhere_it_can_be_stated(files, tmp_path, capsys):
    said = directions_said(files["session"], tmp_path, capsys, "--direction", "forward")
    assert said.pop("analyze") == ("backward", None)        # analyze offers no --direction: what it detects
    assert {command: direction for command, (direction, _) in said.items()} == dict.fromkeys(said, "forward")
    assert said["report"][1] == said["history show"][1] == "stated"
