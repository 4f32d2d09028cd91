"""Every bad input gives one readable line naming the file (and line/column), exit code 2, no traceback,
and no output written half-way (issue 2, section 7)."""
import subprocess
import sys

import numpy as np
import pytest

from analyzer.cli import main
from conftest import still_rows, write_csv


def run_cli(capsys, *args):
    rc = main(["analyze", *map(str, args)])
    out = capsys.readouterr()
    return rc, out.out, out.err


def assert_refused(capsys, path, *fragments, extra=()):
    json_out = path.parent / "out.json"
    rc, out, err = run_cli(capsys, path, "--placement", "sacrum", "--json", json_out, *extra)
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("retrorun: error: ")
    assert str(path) in lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in err
    assert not json_out.exists()
    return lines[0]


def test_missing_file(tmp_path, capsys):
    assert_refused(capsys, tmp_path / "nope.csv", "no such file")


def test_empty_file(tmp_path, capsys):
    path = tmp_path / "empty.csv"
    path.write_text("")
    assert_refused(capsys, path, "empty file", "time_s,acc_x,acc_y,acc_z")


def test_header_only(tmp_path, capsys):
    path = write_csv(tmp_path / "h.csv", [], meta=("# placement: sacrum",))
    assert_refused(capsys, path, "header only", "line 2")


def test_unknown_columns(tmp_path, capsys):
    path = write_csv(tmp_path / "u.csv", ["0,1,2,3"], header="t,ax,ay,az")
    assert_refused(capsys, path, "unexpected columns", "line 1", "found t,ax,ay,az", "expected time_s,acc_x")


def test_non_numeric_cell(tmp_path, capsys):
    rows = still_rows(3)
    rows[10] = rows[10].rsplit(",", 1)[0] + ",abc"
    path = write_csv(tmp_path / "n.csv", rows)
    assert_refused(capsys, path, "not a number", "line 12", "'acc_z'", "'abc'")


def test_time_going_backwards(tmp_path, capsys):
    rows = still_rows(3)
    rows[20] = "0.1000," + rows[20].split(",", 1)[1]
    path = write_csv(tmp_path / "b.csv", rows)
    assert_refused(capsys, path, "time goes backwards", "line 22", "'time_s'")


def test_duplicate_timestamps(tmp_path, capsys):
    rows = still_rows(3)
    rows[31] = rows[30].split(",", 1)[0] + "," + rows[31].split(",", 1)[1]
    path = write_csv(tmp_path / "d.csv", rows)
    assert_refused(capsys, path, "duplicate timestamp", "line 33")


def test_nan_run(tmp_path, capsys):
    rows = still_rows(3)
    for i in range(40, 45):
        rows[i] = rows[i].split(",")[0] + ",,NaN,"
    path = write_csv(tmp_path / "nan.csv", rows)
    assert_refused(capsys, path, "missing values", "line 42", "5 empty/NaN cells", "lines 42-46")


def test_too_short(tmp_path, capsys):
    path = write_csv(tmp_path / "s.csv", still_rows(1.0))
    assert_refused(capsys, path, "too short", "0.99 s", "at least 2 s")


def test_sampling_rate_too_low_for_placement(tmp_path, capsys):
    path = write_csv(tmp_path / "slow.csv", still_rows(10, rate_hz=30))
    message = assert_refused(capsys, path, "sampling rate too low for a shank sensor", "30.03 Hz",
                             extra=("--placement", "shank"))
    assert "at least 50 Hz" in message


def test_unknown_placement_in_file(tmp_path, capsys):
    path = write_csv(tmp_path / "p.csv", still_rows(3), meta=("# placement: knee",))
    rc, _, err = run_cli(capsys, path)
    assert rc == 2 and "unknown placement" in err and "'knee'" in err and "shank" in err


def test_unknown_placement_on_command_line(tmp_path, capsys):
    path = write_csv(tmp_path / "p.csv", still_rows(3))
    with pytest.raises(SystemExit) as exc:
        main(["analyze", str(path), "--placement", "knee"])
    assert exc.value.code == 2
    assert "invalid choice: 'knee'" in capsys.readouterr().err


def test_no_placement_at_all(tmp_path, capsys):
    path = write_csv(tmp_path / "p.csv", still_rows(3))
    rc, _, err = run_cli(capsys, path)
    assert rc == 2 and "placement is not known" in err


def test_gravity_removed_is_refused_unless_unit_stated(tmp_path, capsys):
    rng = np.random.default_rng(1)
    rows = [f"{i / 100:.2f},{a:.4f},{b:.4f},{c:.4f}" for i, (a, b, c) in enumerate(rng.normal(0, 0.05, (500, 3)))]
    path = write_csv(tmp_path / "linear.csv", rows)
    assert_refused(capsys, path, "gravity is missing from the data", "mean vector reads", "--unit")
    rc, out, _ = run_cli(capsys, path, "--placement", "sacrum", "--unit", "g")
    assert rc == 0 and "g (as stated); but the data looks like it has gravity removed" in out


def test_standing_still_is_zero_steps_not_an_error(tmp_path, capsys):
    path = write_csv(tmp_path / "still.csv", still_rows(20))
    rc, out, err = run_cli(capsys, path, "--placement", "sacrum")
    assert rc == 0, err
    assert "steps       0" in out
    assert "no steps found" in out


def test_no_traceback_from_a_real_process(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    proc = subprocess.run([sys.executable, "-m", "analyzer.cli", "analyze", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
