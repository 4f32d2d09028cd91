"""Direction of travel per bout (analyzer/direction.py): against the simulator's truth at randomly oriented
sensors, with a stated axis, and where it cannot be known."""
import json
from dataclasses import replace

import numpy as np
import pytest

from analyzer import analyze
from analyzer.cli import main
from analyzer.direction import parse_forward_axis
from analyzer.session import direction_of
from benchmarks.direction import nearest_foot
from sensors import simulate
from sensors.fileformat import save
from sensors.errors import InputError


def running_bouts(result):
    return result.bouts[result.bouts.activity == "run"]


@pytest.mark.parametrize("placement", ["sacrum", "shank", "phone_pocket", "wrist"])
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_session_bouts_get_the_simulated_direction(placement, direction):
    run = simulate(placement, direction, cadence_spm=180, sampling_rate_hz=100, duration_s=300, seed=21, session=True)
    result = analyze(run.recording)
    bouts = running_bouts(result)
    assert len(bouts) >= 1
    assert (bouts.direction == direction).all(), bouts[["start_s", "direction", "direction_confidence"]]
    assert (bouts.direction_confidence >= 0.9).all()
    assert result.summary.direction == direction
    # the walks are the calibration (taken as forward) and the cool-down, detected forward against it
    walks = result.bouts[result.bouts.activity == "walk"]
    assert (walks.direction == "forward").all()


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_a_stated_forward_axis_needs_no_walk(direction):
    # sensor frame = body frame (x forward); a steady run has no walk to calibrate on
    run = simulate("chest", direction, duration_s=40, seed=3, rotation=None)
    assert analyze(run.recording).summary.direction == "unknown"
    stated = replace(run.recording, metadata={**run.recording.metadata, "forward_axis": "+x"})
    assert analyze(stated).summary.direction == direction
    flipped = replace(run.recording, metadata={**run.recording.metadata, "forward_axis": "-x"})
    assert analyze(flipped).summary.direction == ("backward" if direction == "forward" else "forward")


def test_without_walk_or_axis_the_direction_is_unknown_and_says_how_to_fix_it():
    result = analyze(simulate("sacrum", "backward", duration_s=40, seed=5).recording)
    assert result.summary.direction == "unknown" and result.summary.direction_confidence is None
    assert "--forward-axis" in result.summary.direction_basis


def test_a_placement_without_a_cue_window_does_not_claim_a_direction():
    run = simulate("wrist", "backward", sampling_rate_hz=100, duration_s=300, seed=2, session=True)
    result = analyze(run.recording, propulsion_window_steps=None)
    assert (result.bouts.direction == "unknown").all()
    assert "not measured" in result.summary.direction_basis


def test_the_wrist_reads_the_push_off_because_the_forearm_hides_the_brake():
    # the brake window that serves the trunk reads a backward run at the wrist wrongly or not at all
    run = simulate("wrist", "backward", cadence_spm=180, sampling_rate_hz=100, duration_s=300, seed=21, session=True)
    by_push = running_bouts(analyze(run.recording))
    by_brake = running_bouts(analyze(run.recording, braking_window_steps=(0.0, 0.15), propulsion_window_steps=None))
    assert (by_push.direction == "backward").all()
    assert not (by_brake.direction == "backward").any()


@pytest.mark.parametrize("text, vector", [("+x", [1, 0, 0]), ("-y", [0, -1, 0]), ("z", [0, 0, 1]), (" -Z ", [0, 0, -1])])
def test_forward_axis_parsing(text, vector):
    assert parse_forward_axis(text).tolist() == vector


@pytest.mark.parametrize("bad", ["+w", "xy", "--x"])
def test_a_bad_forward_axis_is_refused(bad):
    with pytest.raises(InputError, match="unknown forward axis"):
        parse_forward_axis(bad)


def test_cli_bad_forward_axis_exits_2_with_one_line(capsys, tmp_path):
    path = tmp_path / "run.csv"
    save(simulate("sacrum", "forward", duration_s=10, seed=1).recording, path)
    assert main(["analyze", str(path), "--forward-axis", "up"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown forward axis" in err and "Traceback" not in err


def test_cli_json_and_summary_carry_the_direction(capsys, tmp_path):
    path = tmp_path / "run.csv"
    save(simulate("sacrum", "backward", duration_s=30, seed=4, rotation=None).recording, path)
    out = tmp_path / "out.json"
    assert main(["analyze", str(path), "--forward-axis", "+x", "--json", str(out)]) == 0
    assert "direction   backward" in capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert doc["summary"]["direction"] == "backward" and doc["summary"]["direction_confidence"] >= 0.9
    assert {b["direction"] for b in doc["bouts"] if b["activity"] == "run"} == {"backward"}


def test_reports_use_the_detected_direction_unless_stated():
    run = simulate("sacrum", "backward", duration_s=30, seed=4, rotation=None)
    rec = replace(run.recording, metadata={"forward_axis": "+x"})
    result = analyze(rec)
    direction, source = direction_of(rec, None, result)
    assert direction == "backward" and source.startswith("detected")
    assert direction_of(rec, "forward", result) == ("forward", "stated")


def test_alcantara_trials_read_forward_with_the_assumed_axis(shared_data):
    from benchmarks.realdata import alcantara_trials
    calls = []
    for _, rec, _ in alcantara_trials(shared_data / "alcantara-sacral-running"):
        rec = replace(rec, metadata={**rec.metadata, "forward_axis": "+x"})
        calls.append(analyze(rec).summary.direction)
    assert calls == ["forward"] * 31


def test_report_intervals_carry_their_bouts_direction():
    from analyzer.report import interval_table
    result = analyze(simulate("sacrum", "backward", sampling_rate_hz=100, duration_s=300, seed=8, session=True).recording)
    table = interval_table(result.steps, warmup_s=0.0, bouts=result.bouts)
    assert len(table) >= 1 and (table.direction == "backward").all()
    assert (interval_table(result.steps, warmup_s=0.0).direction == "").all()


@pytest.mark.parametrize("placement", ["sacrum", "phone_arm"])
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_body_worn_steps_get_their_side(placement, direction):
    from analyzer.figures import leg_balance
    run = simulate(placement, direction, cadence_spm=180, sampling_rate_hz=100, duration_s=300, seed=6, session=True)
    result = analyze(run.recording)
    steps = result.steps
    sided = steps.foot.isin(["left", "right"]).to_numpy()
    assert sided[steps.running.to_numpy()].mean() >= 0.95
    right = steps.foot.to_numpy()[sided] == nearest_foot(steps.time_s.to_numpy()[sided], run.truth)
    assert right.mean() >= 0.97
    balance = leg_balance(steps, warmup_s=0.0, min_steps=25)
    assert balance.labels == ("left", "right")
    if placement == "sacrum":  # the simulated runner is symmetric; an arm's swing shifts its contacts (docs/metrics.md)
        assert balance.first_share_pct == pytest.approx(50, abs=1)


def test_no_sides_without_a_forward_axis():
    steps = analyze(simulate("sacrum", "forward", duration_s=40, seed=5).recording).steps
    assert (steps.foot == "either").all()
