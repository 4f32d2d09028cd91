"""Importers of app exports (issue 4): detection from content, exact round trips to the canonical CSV,
the real Polar file, bad input as one readable line with exit 2, garbage only ever as InputError, and
the same steps from a simulated run in every format."""
from __future__ import annotations

import json
import random
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import analyzer
import sensors
from analyzer.cli import main
from sensors.errors import InputError
from sensors.importers import FORMATS, detect_format, exporters, read

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "importers"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
GOOD = [e for e in MANIFEST if "refused" not in e]
POLAR_REAL = Path("app-export-formats/polar-sensor-logger-verity/Polar_Sense_ACC.txt")


def _id(entry):
    return entry["fixture"]


def canonical_rows(rec: sensors.Recording, tmp_path: Path) -> str:
    out = tmp_path / "out.csv"
    rec.save(out)
    return out.read_text().split("time_s,acc_x,acc_y,acc_z\n", 1)[1]


# ------------------------------------------------------------------------------ fixtures, round trips

@pytest.mark.parametrize("entry", GOOD, ids=_id)
def test_fixture_round_trips_to_canonical_csv_exactly(entry, tmp_path):
    rec = read(FIXTURES / entry["fixture"], format=entry["format"], columns=entry.get("columns"))
    expected = (FIXTURES / entry["expected"]).read_text().split("\n", 1)[1]
    assert canonical_rows(rec, tmp_path) == expected
    assert len(rec) == entry["samples"]
    assert rec.metadata["format"] == entry["format"]
    assert len(rec.gaps) == entry.get("gaps", 0)
    if "start_time" in entry:
        assert rec.start_time == entry["start_time"]
    if "notes_contains" in entry:
        assert entry["notes_contains"] in rec.metadata["notes"]
    if "detected" in entry:
        assert entry["detected"] in rec.metadata["detected"]
    if "read_contains" in entry:
        assert entry["read_contains"] in rec.metadata["read"]


@pytest.mark.parametrize("entry", [e for e in MANIFEST if e["format"] != "generic_csv"], ids=_id)
def test_format_is_detected_from_content_not_name(entry, tmp_path):
    source = FIXTURES / entry["fixture"]
    assert detect_format(source) == entry["format"]
    renamed = tmp_path / "export_without_a_telling_name"
    (shutil.copytree if source.is_dir() else shutil.copy)(source, renamed)
    assert detect_format(renamed) == entry["format"]


def test_canonical_files_are_left_to_the_canonical_reader(tmp_path):
    rec = read(FIXTURES / "metabase_minus13.csv")
    rec.save(tmp_path / "r.csv")
    rec.save(tmp_path / "r.npz")
    assert detect_format(tmp_path / "r.csv") == "canonical" and detect_format(tmp_path / "r.npz") == "canonical"
    assert np.allclose(sensors.load(tmp_path / "r.npz").acc_g, rec.acc_g)
    assert sensors.load(tmp_path / "r.csv").metadata["format"] == "metabase"  # provenance kept


def test_sensors_load_reads_every_format():
    for entry in GOOD:
        generic = entry["format"] == "generic_csv"
        rec = sensors.load(FIXTURES / entry["fixture"], format="generic_csv" if generic else None,
                           columns=entry.get("columns"), placement="sacrum")
        assert rec.placement == "sacrum" and len(rec) == entry["samples"]


def test_total_acceleration_is_preferred_and_said(tmp_path):
    rec = read(FIXTURES / "sensor_logger_android_1.26.zip")
    assert "TotalAcceleration.csv" in rec.metadata["read"] and "gravity included" in rec.metadata["read"]
    assert rec.metadata["device"] == "Pixel 7" and rec.metadata["app_version"] == "1.26.0"


def test_gravity_removed_is_refused_with_the_reason_unless_units_are_stated(tmp_path):
    path = FIXTURES / "phyphox_without_g.zip"
    with pytest.raises(InputError, match="Acceleration without g' has gravity removed.*--units"):
        read(path)
    rec = read(path, units="m/s^2")
    assert "gravity was removed" in rec.metadata["unit_conversion"]
    assert abs(np.median(rec.acc_g)) < 0.05


def test_sensor_logger_with_only_linear_acceleration_is_refused(tmp_path):
    zip_path = tmp_path / "linear.zip"
    rec = sensors.simulate("sacrum", "backward", duration_s=10, sampling_rate_hz=100).recording
    exporters.sensor_logger(rec, zip_path, streams=("Accelerometer.csv",))
    with pytest.raises(InputError, match="Accelerometer.csv has gravity removed and the export has no "
                                         "TotalAcceleration.csv"):
        read(zip_path)


# ------------------------------------------------------------------------------------ the real file

def test_real_polar_verity_file(shared_data):
    rec = read(shared_data / POLAR_REAL)
    assert rec.metadata["format"] == "polar_sensor_logger"
    assert len(rec) == 26526
    assert rec.duration_s == pytest.approx(513.0033, abs=1e-3)          # sensor clock: first to last sample
    assert rec.sampling_rate_hz == pytest.approx(52, abs=0.5)           # Verity ACC at 52 Hz (51.7 measured)
    assert np.median(np.linalg.norm(rec.acc_g, axis=1)) == pytest.approx(1.0, abs=0.02)
    assert rec.gaps == []
    assert rec.start_time == "2022-04-25T11:39:36.978"
    assert "+2.147 s" in rec.metadata["clock"]


# --------------------------------------------------------------------------------------- the CLI

def cli(capsys, *args):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_import_writes_csv_and_npz(tmp_path, capsys):
    for suffix in (".csv", ".npz"):
        out = tmp_path / f"run{suffix}"
        rc, text, err = cli(capsys, "import", FIXTURES / "2024-05-0408.30.15.csv", "--placement", "wrist", "-o", out)
        assert rc == 0, err
        assert "physics_toolbox" in text and "decimal comma" in text and f"wrote {out}" in text
        back = sensors.load(out)
        assert back.placement == "wrist" and len(back) == 60


def test_cli_import_generic_with_columns_and_units(tmp_path, capsys):
    out = tmp_path / "g.csv"
    rc, text, err = cli(capsys, "import", FIXTURES / "generic_semicolon_comma_ms.csv", "--columns",
                        "t_ms,acc_lr,acc_ud,acc_fb", "--units", "m/s^2", "-o", out)
    assert rc == 0, err and "m/s^2 to g (as stated)" in text
    entry = next(e for e in MANIFEST if e["fixture"] == "generic_semicolon_comma_ms.csv")
    expected = (FIXTURES / entry["expected"]).read_text().split("\n", 1)[1]
    assert out.read_text().split("time_s,acc_x,acc_y,acc_z\n", 1)[1] == expected


def test_cli_analyze_takes_exports_directly(tmp_path, capsys):
    rec = sensors.simulate("sacrum", "backward", sampling_rate_hz=100, duration_s=20).recording
    exporters.sensor_logger(rec, tmp_path / "run.zip")
    exporters.generic_csv(rec, tmp_path / "log.txt")
    rc, text, err = cli(capsys, "analyze", tmp_path / "run.zip", "--placement", "sacrum")
    assert rc == 0, err
    assert "converted from m/s^2 to g" in text
    rc, text, err = cli(capsys, "analyze", tmp_path / "log.txt", "--placement", "sacrum", "--format", "generic_csv",
                        "--columns", "t_ms,acc_lr,acc_ud,acc_fb", "--units", "m/s^2")
    assert rc == 0, err
    assert "converted from m/s^2 to g (as stated)" in text


def test_help_texts_have_examples(capsys):
    for command in ("import", "analyze"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        assert "examples:" in text and "--columns" in text and "--format" in text


# ------------------------------------------------------------------------------------ bad input

def _polar_lines():
    return (FIXTURES / "Polar_H10_A1B2C3D4_20240504_083015_ACC.txt").read_text().splitlines()


def _write(path: Path, lines) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def bad_truncated_zip(tmp):
    data = (FIXTURES / "sensor_logger_android_1.26.zip").read_bytes()
    path = tmp / "cut.zip"
    path.write_bytes(data[: len(data) // 2])
    return path, ("damaged or truncated zip archive",)


def bad_zip_without_acceleration(tmp):
    path = tmp / "gps_only.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Location.csv", "time,seconds_elapsed,latitude,longitude\n1,0.1,50.1,8.6\n")
        archive.writestr("Metadata.csv", "version,device name\n3,Pixel\n")
    return path, ("unknown file layout", "Location.csv")


def bad_sensor_logger_zip_without_acceleration(tmp):
    path = tmp / "sl.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Gyroscope.csv", "time,seconds_elapsed,z,y,x\n1,0.1,0,0,0\n")
    return path, ("no accelerometer data in this Sensor Logger export", "TotalAcceleration.csv")


def bad_wrong_delimiter(tmp):
    lines = (FIXTURES / "physics_toolbox_english_locale.csv").read_text().splitlines()
    lines[5] = lines[5].replace(",", ";")
    return _write(tmp / "2024-05-0408.30.15.csv", lines), ("line 6", "too few fields (wrong delimiter ';'?)",
                                                           "5 fields separated by ','")


def bad_mixed_units(tmp):
    lines = _polar_lines()
    lines[0] = lines[0].replace("Y [mg]", "Y [g]")
    return _write(tmp / "mixed_ACC.txt", lines), ("line 1", "mixed units", "Y [g]")


def bad_time_backwards(tmp):
    lines = (FIXTURES / "metabase_minus13.csv").read_text().splitlines()
    cells = lines[30].split(",")
    cells[0] = str(int(cells[0]) - 5000)
    lines[30] = ",".join(cells)
    return _write(tmp / "mb.csv", lines), ("line 31", "time goes backwards", "'epoch (ms)'")


def bad_duplicated_row(tmp):
    lines = _polar_lines()
    lines.insert(12, lines[11])
    return _write(tmp / "dup_ACC.txt", lines), ("line 13", "duplicated row")


def bad_text_in_numeric_column(tmp):
    lines = (FIXTURES / "2024-05-0408.30.15.csv").read_text().splitlines()
    cells = lines[9].split(";")
    cells[2] = "n/d"
    lines[9] = ";".join(cells)
    return _write(tmp / "2024-05-0408.30.15.csv", lines), ("line 10", "'gFy'", "not a number", "'n/d'")


def bad_decimal_point_in_comma_file(tmp):
    lines = (FIXTURES / "2024-05-0408.30.15.csv").read_text().splitlines()
    lines[7] = lines[7].replace(",", ".", 1)
    return _write(tmp / "2024-05-0408.30.15.csv", lines), ("line 8", "'gFx'", "decimal separator")


def bad_empty_file(tmp):
    path = tmp / "empty_ACC.txt"
    path.write_text("")
    return path, ("empty file",)


def bad_header_only(tmp):
    return _write(tmp / "h_ACC.txt", _polar_lines()[:1]), ("line 1", "header only")


def bad_other_format(tmp):
    lines = ["Phone timestamp;HR [bpm]", "2022-04-25T11:39:02.323;66", "2022-04-25T11:39:03.274;66"]
    return _write(tmp / "Polar_Sense_HR.txt", lines), ("not a Polar accelerometer (ACC) file", "HR [bpm]")


def bad_image(tmp):
    path = tmp / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    return path, ("not a text file",)


def bad_empty_cell(tmp):
    lines = _polar_lines()
    lines[20] = lines[20].rsplit(";", 1)[0] + ";"
    return _write(tmp / "gap_ACC.txt", lines), ("line 21", "missing value", "'Z [mg]'")


def bad_unit_disagrees(tmp):
    lines = (FIXTURES / "metabase_minus13.csv").read_text().splitlines()
    lines[0] = lines[0].replace("(g)", "(m/s^2)")
    return _write(tmp / "mb.csv", lines), ("says m/s^2", "gravity reads", "--units g")


BAD = [bad_truncated_zip, bad_zip_without_acceleration, bad_sensor_logger_zip_without_acceleration,
       bad_wrong_delimiter, bad_mixed_units, bad_time_backwards, bad_duplicated_row, bad_text_in_numeric_column,
       bad_decimal_point_in_comma_file, bad_empty_file, bad_header_only, bad_other_format, bad_image,
       bad_empty_cell, bad_unit_disagrees]


@pytest.mark.parametrize("make", BAD, ids=lambda f: f.__name__[4:])
@pytest.mark.parametrize("command", ["import", "analyze"])
def test_bad_input_is_one_line_exit_2_and_nothing_written(make, command, tmp_path, capsys):
    path, fragments = make(tmp_path)
    out = tmp_path / "out" / ("run.csv" if command == "import" else "run.json")
    args = ["import", path, "-o", out] if command == "import" else ["analyze", path, "--placement", "sacrum",
                                                                      "--json", out]
    rc, _, err = cli(capsys, *args)
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("retrorun: error: "), err
    assert str(path) in lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert not out.exists() and not out.parent.exists()


def test_unknown_output_suffix_is_refused_before_reading(tmp_path, capsys):
    rc, _, err = cli(capsys, "import", FIXTURES / "metabase_minus13.csv", "-o", tmp_path / "run.parquet")
    assert rc == 2 and "FILE.csv" in err and not (tmp_path / "run.parquet").exists()


def test_columns_must_exist_and_be_four(tmp_path):
    path = FIXTURES / "generic_semicolon_comma_ms.csv"
    with pytest.raises(InputError, match="no y column 'nope'"):
        read(path, columns="t_ms,acc_lr,nope,acc_fb")
    with pytest.raises(InputError, match="four column names"):
        read(path, columns="t_ms,acc_lr")
    with pytest.raises(InputError, match="--columns TIME,X,Y,Z"):
        read(path, format="generic_csv")


# ---------------------------------------------------------------- property tests: only InputError out

def _read_every_way(path: Path) -> None:
    for name in (None,) + tuple(FORMATS):
        try:
            read(path, format=name)
        except InputError:
            pass
    try:
        sensors.load(path)
    except InputError:
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".csv", ".txt", ".zip", ".xlsx", ""]))
def test_arbitrary_bytes_only_raise_input_error(data, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"f{suffix}"
        path.write_bytes(data)
        _read_every_way(path)


TEXT_FIXTURES = [e["fixture"] for e in MANIFEST if (FIXTURES / e["fixture"]).suffix in (".csv", ".txt")]
MUTATION_CHARS = ";,.\t\n\"-e0129:abcXT []()"


@st.composite
def mutated_layout(draw):
    """A real layout with a few random edits: cut, inserted, deleted or swapped characters and lines."""
    text = (FIXTURES / draw(st.sampled_from(TEXT_FIXTURES))).read_text()
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["cut", "insert", "delete", "swap_lines", "dup_line"]))
        at = draw(st.integers(0, max(len(text) - 1, 0)))
        if kind == "cut":
            text = text[:at]
        elif kind == "insert":
            text = text[:at] + draw(st.text(alphabet=MUTATION_CHARS, min_size=1, max_size=4)) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 5)):]
        else:
            lines = text.splitlines()
            if len(lines) > 2:
                i = draw(st.integers(0, len(lines) - 2))
                if kind == "swap_lines":
                    lines[i], lines[i + 1] = lines[i + 1], lines[i]
                else:
                    lines.insert(i, lines[i])
                text = "\n".join(lines) + "\n"
    return text


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mutated_layout())
def test_mutated_layouts_only_raise_input_error(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        path.write_text(text)
        _read_every_way(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6))
def test_mutated_zips_only_raise_input_error(seed):
    rng = random.Random(seed)
    source = FIXTURES / rng.choice(["sensor_logger_android_1.26.zip", "phyphox_with_g.zip", "phyphox_with_g.xlsx"])
    data = bytearray(source.read_bytes())
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    if rng.random() < 0.3:
        data = data[: rng.randrange(len(data))]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / source.name
        path.write_bytes(bytes(data))
        _read_every_way(path)


# ----------------------------------------------------- a simulated run exported to each format

EXPORT_CASES = [
    ("sensor_logger", "run.zip", {}, {}),
    ("polar_sensor_logger", "Polar_H10_X_ACC.txt", {}, {}),
    ("phyphox", "run.zip", {}, {}),
    ("phyphox", "run.csv", {"container": "file", "delimiter": ";", "decimal": ","}, {}),
    ("physics_toolbox", "2024-05-0408.30.15.csv", {}, {}),
    ("metabase", "run.csv", {}, {}),
    ("generic_csv", "run.csv", {}, {"columns": "t_ms,acc_lr,acc_ud,acc_fb"}),
]


@pytest.fixture(scope="module")
def simulated():
    runs = {}
    for placement, rate_hz in (("shank", 200.0), ("phone_pocket", 100.0)):
        rec = sensors.simulate(placement, "backward", sampling_rate_hz=rate_hz, duration_s=40, seed=3).recording
        runs[placement] = (rec, analyzer.analyze(rec).steps)
    return runs


@pytest.mark.parametrize("placement", ["shank", "phone_pocket"])
@pytest.mark.parametrize("fmt,name,layout,read_args", EXPORT_CASES, ids=lambda v: v if isinstance(v, str) else "")
def test_simulated_run_gives_the_same_steps_in_every_format(simulated, placement, fmt, name, layout, read_args,
                                                            tmp_path):
    original, steps = simulated[placement]
    exporters.EXPORTERS[fmt](original, tmp_path / name, **layout)
    imported = read(tmp_path / name, placement=placement, **read_args)
    assert imported.metadata["format"] == fmt
    again = analyzer.analyze(imported).steps
    assert len(again) == len(steps) > 50
    one_sample_s = 1.0 / original.sampling_rate_hz
    assert np.max(np.abs(again["time_s"].to_numpy() - steps["time_s"].to_numpy())) <= one_sample_s + 1e-9
    assert (again["foot"].to_numpy() == steps["foot"].to_numpy()).all()
