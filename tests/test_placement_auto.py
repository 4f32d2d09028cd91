"""The placement read from the signal (analyzer/placement_auto.py): simulated placements, the real recordings,
`--placement auto` and the note on a stated placement the signal contradicts."""
from dataclasses import replace

import pytest

from analyzer import analyze
from analyzer.cli import main
from analyzer.placement_auto import FAMILIES, guess_placement
from sensors import simulate
from sensors.fileformat import load, save

ALIKE = {"chest": "sacrum"}


@pytest.mark.parametrize("placement", ["shank", "foot", "sacrum", "chest", "wrist", "phone_pocket", "phone_arm"])
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_simulated_placements_are_read(placement, direction):
    run = simulate(placement, direction, cadence_spm=190, sampling_rate_hz=200, duration_s=60, seed=31)
    guess = guess_placement(run.recording)
    assert guess.placement == ALIKE.get(placement, placement), guess.describe()
    assert guess.confidence >= 0.6


def test_real_recordings_are_read(shared_data):
    from benchmarks.realdata import alcantara_trials, oxford_walks
    for name, rec, _ in oxford_walks(shared_data / "oxford-step-counter-walking"):
        assert guess_placement(rec).placement == rec.placement, name
    reads = {guess_placement(rec).placement for _, rec, _ in alcantara_trials(shared_data / "alcantara-sacral-running")}
    assert reads == {"sacrum"}


def test_a_recording_without_placement_is_analysed_with_the_one_read():
    rec = replace(simulate("shank", "forward", duration_s=40, seed=4).recording, placement=None)
    summary = analyze(rec).summary
    assert summary.placement == "shank" and summary.placement_source.startswith("detected from the signal")
    assert summary.estimated_step_count > 0          # analysed as a single-leg sensor


def test_a_contradicted_stated_placement_gets_a_note():
    rec = simulate("shank", "forward", duration_s=40, seed=4).recording
    notes = analyze(rec, placement="sacrum").summary.notes
    assert any("looks like a shank sensor, not sacrum as stated" in n for n in notes), notes
    # the same family is no contradiction: chest and sacrum read alike
    chest = simulate("chest", "forward", duration_s=40, seed=4).recording
    assert not any("looks like" in n for n in analyze(chest).summary.notes)
    assert FAMILIES["chest"] == FAMILIES["sacrum"]


def test_cli_auto_overrides_the_files_placement(tmp_path, capsys):
    path = tmp_path / "shank.csv"
    save(simulate("shank", "backward", duration_s=40, seed=9).recording, path)
    assert load(path, placement="auto").placement is None
    text = path.read_text().replace("# placement: shank", "# placement: wrist")
    path.write_text(text)
    assert main(["analyze", str(path), "--placement", "auto"]) == 0
    assert "placement   shank (detected from the signal:" in capsys.readouterr().out
