"""`retrorun batch` and analyzer.batch: many recordings, bad ones reported, reruns skip, Dask gives the same."""
import json
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

import sensors
from analyzer import analyze
from sensors.fileformat import content_hash
from analyzer.batch import (RESULTS_FOLDER, SUMMARY_CSV, SUMMARY_DB, BatchSettings, find_recordings,
                            run_batch)
from analyzer.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "importers"
GOOD = ("a_sacrum.npz", "b_chest.csv", "nested/c_sacrum.npz", "nested/deeper/d_phone.npz")
BAD = ("broken.npz", "garbage.csv")


def _simulate(path: Path, placement: str, seed: int) -> None:
    run = sensors.simulate(placement, "backward", sampling_rate_hz=50, duration_s=20, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    run.save(path)  # also writes the ground truth beside it, which a batch must ignore


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> Path:
    """Four small simulated recordings in nested folders, two bad files and the simulator's truth files."""
    root = tmp_path_factory.mktemp("recordings")
    placements = ("sacrum", "chest", "sacrum", "phone_pocket")
    for seed, (name, placement) in enumerate(zip(GOOD, placements)):
        _simulate(root / name, placement, seed)
    (root / "broken.npz").write_bytes(b"PK\x03\x04 not really a zip")
    (root / "garbage.csv").write_text("hello,world\n1,2\n")
    return root


def _outputs(outdir: Path) -> dict[str, bytes]:
    """Every file a batch wrote except the SQLite file (whose bytes carry page layout, not content)."""
    return {p.relative_to(outdir).as_posix(): p.read_bytes() for p in sorted(outdir.rglob("*"))
            if p.is_file() and p.name != SUMMARY_DB}


def test_folders_expand_to_recordings_without_truth_or_output(recordings, tmp_path):
    outdir = recordings / "out_inside"
    outdir.mkdir(exist_ok=True)
    (outdir / "summary.csv").write_text("not a recording\n")
    found, missing = find_recordings([recordings, recordings / "a_sacrum.npz", tmp_path / "nope.csv"],
                                     exclude=outdir)
    assert sorted(p.relative_to(recordings).as_posix() for p in found) == sorted(GOOD + BAD)
    assert [Path(m.path).name for m in missing] == ["nope.csv"] and "no such file" in missing[0].error
    shutil.rmtree(outdir)


def test_folder_export_counts_as_one_recording(tmp_path):
    export = FIXTURES / "sensor_logger_1.64_folder"
    if not export.is_dir():
        pytest.skip("the Sensor Logger folder fixture is not present")
    shutil.copytree(export, tmp_path / "session" / export.name)
    found, _ = find_recordings([tmp_path])
    assert [p.name for p in found] == [export.name]
    assert len(content_hash(found[0])) == 64


def test_batch_keeps_going_past_bad_files_and_reruns_skip(recordings, tmp_path):
    outdir = tmp_path / "out"
    seen = []
    report = run_batch([recordings], outdir, progress=lambda phase, done, total: seen.append((phase, done, total)))
    names = {Path(p).relative_to(recordings).as_posix() for p in report.analysed}
    assert names == set(GOOD)
    assert sorted(Path(f.path).name for f in report.failed) == sorted(BAD)
    assert all(Path(f.path).name in f.error for f in report.failed)  # each error names its file
    assert ("reading", 6, 6) in seen and ("analysing", 6, 6) in seen

    table = pd.read_csv(outdir / SUMMARY_CSV)
    assert len(table) == 4 and table["path"].is_monotonic_increasing
    for row in table.itertuples():
        direct = analyze(sensors.load(row.path))
        assert row.step_count == direct.summary.step_count
        assert row.cadence_spm == pytest.approx(direct.summary.cadence_spm)
        document = json.loads((outdir / row.result_file).read_text())
        assert document["summary"]["step_count"] == direct.summary.step_count
        assert len(document["steps"]) == len(direct.steps)
        assert document["source"]["content_sha256"] == row.content_sha256 == content_hash(row.path)
    with sqlite3.connect(outdir / SUMMARY_DB) as db:
        assert db.execute("SELECT COUNT(*) FROM recordings").fetchone() == (4,)
        assert sorted(Path(p).name for (p,) in db.execute("SELECT path FROM failures")) == sorted(BAD)

    again = run_batch([recordings], outdir)
    assert again.analysed == [] and len(again.skipped) == 4 and len(again.failed) == 2
    assert len(pd.read_csv(outdir / SUMMARY_CSV)) == 4


def test_renamed_recording_is_still_known_but_new_settings_are_not(recordings, tmp_path):
    outdir = tmp_path / "out"
    run_batch([recordings / "a_sacrum.npz"], outdir)
    renamed = tmp_path / "renamed.npz"
    shutil.copy(recordings / "a_sacrum.npz", renamed)
    report = run_batch([renamed], outdir)
    assert report.skipped == {str(renamed): "already analysed (same content and settings)"}
    assert pd.read_csv(outdir / SUMMARY_CSV)["path"].tolist() == [str(renamed)]
    overridden = run_batch([renamed], outdir, settings=BatchSettings(placement="chest"))
    assert overridden.analysed == [str(renamed)]
    assert sorted(pd.read_csv(outdir / SUMMARY_CSV)["placement"]) == ["chest", "sacrum"]


def test_same_content_twice_in_one_batch_is_analysed_once(recordings, tmp_path):
    copy = tmp_path / "copy.npz"
    shutil.copy(recordings / "a_sacrum.npz", copy)
    report = run_batch([recordings / "a_sacrum.npz", copy], tmp_path / "out")
    assert len(report.analysed) == 1 and len(report.skipped) == 1
    assert next(iter(report.skipped.values())).startswith("same content as")


def test_cli_processes_match_in_process_and_exit_2_on_failures(recordings, tmp_path, capsys):
    single, double = tmp_path / "one", tmp_path / "two"
    assert main(["batch", str(recordings), "-o", str(single), "--jobs", "1", "--no-progress"]) == 2
    assert main(["batch", str(recordings), "-o", str(double), "--jobs", "2"]) == 2
    captured = capsys.readouterr()
    assert "6 recordings: 4 analysed, 0 skipped" in captured.out
    assert "analysing [" in captured.err and "garbage.csv:" in captured.err and "broken.npz:" in captured.err
    assert "2 of 6 recordings failed" in captured.err
    assert _outputs(single) == _outputs(double)
    assert len(list((single / RESULTS_FOLDER).glob("*.json"))) == 4
    good_only = [str(recordings / name) for name in GOOD]
    assert main(["batch", *good_only, "-o", str(single), "--no-progress"]) == 0
    assert "0 analysed, 4 skipped" in capsys.readouterr().out


def test_nothing_to_analyse_is_an_input_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["batch", str(tmp_path / "empty"), "-o", str(tmp_path / "out")]) == 2
    assert "no recordings found" in capsys.readouterr().err


def test_dask_gives_results_identical_to_local(recordings, tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    local = tmp_path / "local"
    run_batch([recordings], local)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        on_dask = run_batch([recordings], tmp_path / "dask", dask=client)
        assert sorted(Path(f.path).name for f in on_dask.failed) == sorted(BAD)
        assert main(["batch", str(recordings), "-o", str(tmp_path / "cli"), "--dask", cluster.scheduler_address,
                     "--no-progress"]) == 2
    assert _outputs(tmp_path / "dask") == _outputs(local)
    assert _outputs(tmp_path / "cli") == _outputs(local)
    assert "4 analysed" in capsys.readouterr().out
