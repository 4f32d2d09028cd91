"""The command line end to end: analyze and simulate, outputs and their schema, the bundled samples."""
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyzer import __version__
from analyzer.analysis import STEP_COLUMNS
from analyzer.cli import main
from analyzer.validate import match_events
from sensors.simulator import load_settings, load_truth
from benchmarks.grid import TOLERANCE_S

SAMPLES = Path(__file__).resolve().parents[1] / "sample_data"
SAMPLE_COMMANDS = {
    line.split("|")[1].strip().strip("`"): line.split("|")[3].strip().strip("`")
    for line in (SAMPLES / "README.md").read_text().splitlines() if line.startswith("| `")
}


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"retrorun {__version__}"


def test_help_teaches(capsys):
    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    text = capsys.readouterr().out
    assert "examples:" in text and "--placement" in text and "docs/output-schema.md" in text


def test_simulate_then_analyze(tmp_path, capsys):
    out = tmp_path / "run.csv"
    assert main(["simulate", "--placement", "sacrum", "--direction", "backward", "--cadence-spm", "190",
                 "--sampling-rate-hz", "100", "--minutes", "0.5", "--seed", "3", "-o", str(out)]) == 0
    truth = load_truth(tmp_path / "run.truth.csv")
    assert list(truth.columns[:4]) == ["ic_s", "foot", "toe_off_s", "impact_g"]
    json_out, csv_out = tmp_path / "a.json", tmp_path / "steps.csv"
    assert main(["analyze", str(out), "--json", str(json_out), "--steps-csv", str(csv_out)]) == 0
    text = capsys.readouterr().out
    assert "placement   sacrum" in text and re.search(r"cadence     19\d\.\d steps/min", text)
    doc = json.loads(json_out.read_text())
    for key in ("step_count", "duration_s", "running_duration_s", "cadence_spm", "impact_g_median", "impact_g_p90"):
        assert key in doc["summary"]
    assert doc["summary"]["step_count"] == len(doc["steps"])
    assert set(doc["steps"][0]) == set(STEP_COLUMNS)
    steps = pd.read_csv(csv_out)
    assert list(steps.columns) == list(STEP_COLUMNS)
    assert match_events(steps.time_s, truth.ic_s, TOLERANCE_S).f1 >= 0.98


def test_json_to_stdout(tmp_path, capsys):
    out = tmp_path / "run.npz"
    main(["simulate", "--placement", "chest", "--minutes", "0.2", "-o", str(out)])
    capsys.readouterr()
    assert main(["analyze", str(out), "--json", "-"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)             # stdout is the JSON alone: it pipes into jq
    assert doc["summary"]["placement"] == "chest"
    assert "placement   chest" in captured.err  # the summary still shows, on stderr


def test_an_unknown_placement_names_the_file(tmp_path, capsys):
    path = tmp_path / "noplace.csv"
    path.write_text("time_s,acc_x,acc_y,acc_z\n" + "".join(f"{i / 100},0,0,1\n" for i in range(2000)))
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "placement is not known" in err


def test_status_clock_rounds_once():
    from sensors.ble import clock_text
    assert [clock_text(s) for s in (0.0, 59.96, 179.96, 61.25)] == ["00:00.0", "01:00.0", "03:00.0", "01:01.2"]


@pytest.mark.parametrize("name", sorted(SAMPLE_COMMANDS))
def test_sample_recovers_its_truth(name, capsys):
    path = SAMPLES / name
    assert main(["analyze", str(path), "--json", "-"]) == 0
    text = capsys.readouterr().out
    doc = json.loads(text[text.index("{"):])
    truth = load_truth(path)
    running = truth[truth.activity == "run"]
    detected = [s["time_s"] for s in doc["steps"]]
    assert match_events(detected, running.ic_s, TOLERANCE_S).recall >= 0.98
    true_cadence = 60 / np.median(np.diff(running.ic_s))
    assert doc["summary"]["cadence_spm"] == pytest.approx(true_cadence, abs=1.5)


@pytest.mark.parametrize("name", sorted(SAMPLE_COMMANDS))
def test_sample_is_what_its_command_makes(name, tmp_path, capsys):
    """sample_data/README.md gives the exact command; it still regenerates the same bytes."""
    args = SAMPLE_COMMANDS[name].split()[1:]
    out_index = args.index("-o") + 1
    args[out_index] = str(tmp_path / name)
    assert main(args) == 0
    import sensors
    made, kept = sensors.load(tmp_path / name), sensors.load(SAMPLES / name)
    np.testing.assert_allclose(made.time_s, kept.time_s, atol=2e-6)
    np.testing.assert_allclose(made.acc_g, kept.acc_g, atol=2e-5)  # last-digit rounding may differ across numpy builds
    truth_name = name.replace(".csv", ".truth.csv")
    pd.testing.assert_frame_equal(load_truth(tmp_path / truth_name), load_truth(SAMPLES / truth_name), atol=1e-3)
    made_settings, kept_settings = load_settings(tmp_path / truth_name), load_settings(SAMPLES / truth_name)
    np.testing.assert_allclose(made_settings.pop("rotation_matrix"), kept_settings.pop("rotation_matrix"), atol=1e-9)
    assert made_settings == kept_settings and kept_settings["seed"] > 0   # the settings are in the truth file


def test_a_reader_that_goes_away_stops_the_output_quietly():
    import subprocess
    import sys
    proc = subprocess.Popen([sys.executable, "-m", "analyzer.cli", "analyze", str(SAMPLES / "backward_shank_200hz.csv"),
                             "--json", "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()                  # like `| head` exiting before the analysis is printed
    err = proc.stderr.read().decode()
    assert proc.wait() == 1 and "Traceback" not in err and "BrokenPipe" not in err


def test_a_report_must_be_named_html(tmp_path, capsys):
    assert main(["report", str(SAMPLES / "backward_shank_200hz.csv"), "-o", str(tmp_path / "r.pdf")]) == 2
    assert "the report is an HTML page" in capsys.readouterr().err and not (tmp_path / "r.pdf").exists()


def test_a_stated_unit_that_makes_gravity_wrong_is_flagged(tmp_path, capsys):
    t = np.arange(0, 20, 0.01)
    path = tmp_path / "mps2.csv"
    rows = np.column_stack([t, 0.1 * np.sin(10 * t), 0 * t, 9.80665 + np.sin(19 * t)])
    np.savetxt(path, rows, delimiter=",", header="time_s,acc_x,acc_y,acc_z", comments="", fmt="%.5f")
    assert main(["analyze", str(path), "--placement", "sacrum", "--unit", "g"]) == 0
    assert "gravity then reads 9.81 g, not about 1 g: check the unit (the reading fits m/s^2)" in capsys.readouterr().out
    assert main(["analyze", str(path), "--placement", "sacrum"]) == 0
    assert "check the unit" not in capsys.readouterr().out


def test_simulate_a_backward_walk(tmp_path, capsys):
    out = tmp_path / "walk.csv"
    assert main(["simulate", "--placement", "shank", "--gait", "walk", "--direction", "backward",
                 "--cadence-spm", "105", "--minutes", "0.25", "-o", str(out)]) == 0
    truth = load_truth(tmp_path / "walk.truth.csv")
    assert set(truth.activity) == {"walk"} and set(truth.direction) == {"backward"}
    assert 60.0 / np.median(np.diff(truth.ic_s)) == pytest.approx(105, rel=0.03)
    capsys.readouterr()
    assert main(["simulate", "--placement", "shank", "--gait", "walk", "--session", "-o", str(out)]) == 2
    assert "a walk cannot be one" in capsys.readouterr().err
