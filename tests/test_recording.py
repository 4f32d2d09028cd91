"""The Recording type, its two file formats, unit detection and gap detection."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sensors
from sensors import InputError, Recording, UnitError
from sensors.units import STANDARD_GRAVITY_MPS2
from conftest import still_rows, write_csv


def make(n=1000, rate_hz=100.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate_hz
    return Recording(time_s=t, acc_g=rng.normal(0, 0.3, (n, 3)) + [0, 0, 1], placement="wrist",
                     start_time="2026-11-25T08:00:00+00:00", metadata={"device": "test"})


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_save_load_round_trip(tmp_path, suffix):
    rec = make()
    rec.save(tmp_path / f"r{suffix}")
    back = sensors.load(tmp_path / f"r{suffix}")
    assert back.placement == "wrist" and back.start_time == rec.start_time
    assert back.metadata["device"] == "test"
    np.testing.assert_allclose(back.time_s, rec.time_s, atol=1e-6)
    np.testing.assert_allclose(back.acc_g, rec.acc_g, rtol=0, atol=5e-6)  # 5 decimals in the CSV
    assert back.sampling_rate_hz == pytest.approx(100.0, rel=1e-6)


def test_binary_is_exact(tmp_path):
    rec = make()
    rec.save(tmp_path / "r.npz")
    back = sensors.load(tmp_path / "r.npz")
    assert np.array_equal(back.acc_g, rec.acc_g) and np.array_equal(back.time_s, rec.time_s)


@pytest.mark.parametrize("unit,scale", [("m/s^2", STANDARD_GRAVITY_MPS2), ("mg", 1000.0), ("g", 1.0)])
def test_unit_detected_and_converted(tmp_path, unit, scale):
    path = write_csv(tmp_path / "u.csv", still_rows(6, scale=scale))
    rec = sensors.load(path)
    assert rec.metadata["unit_found"] == unit
    assert np.median(np.linalg.norm(rec.acc_g, axis=1)) == pytest.approx(1.0, abs=0.01)
    if unit != "g":
        assert "converted from" in rec.metadata["unit_conversion"]


def test_stated_unit_wins(tmp_path):
    path = write_csv(tmp_path / "u.csv", still_rows(6, scale=1000.0))
    rec = sensors.load(path, unit="mg")
    assert rec.metadata["unit_conversion"] == "mg (as stated)"
    with pytest.raises(UnitError, match="unknown unit"):
        sensors.load(path, unit="furlongs")


def test_gaps_detected():
    t = np.arange(1000) / 100.0
    t[500:] += 0.5  # half a second missing: 50 periods
    rec = Recording(time_s=t, acc_g=np.tile([0, 0, 1.0], (1000, 1)))
    assert rec.gaps == [(pytest.approx(4.99), pytest.approx(5.5))]


def test_jitter_is_not_a_gap():
    rng = np.random.default_rng(3)
    t = np.cumsum(rng.uniform(0.007, 0.013, 2000))
    rec = Recording(time_s=t, acc_g=np.tile([0, 0, 1.0], (2000, 1)))
    assert rec.gaps == []
    assert rec.sampling_rate_hz == pytest.approx(100, rel=0.05)


def test_constructor_checks():
    with pytest.raises(InputError, match="three axes"):
        Recording(time_s=np.arange(3.0), acc_g=np.zeros((3, 2)))
    with pytest.raises(InputError, match="differ in length"):
        Recording(time_s=np.arange(3.0), acc_g=np.zeros((4, 3)))
    with pytest.raises(InputError, match="duplicate timestamp"):
        Recording(time_s=np.array([0, 1, 1.0]), acc_g=np.zeros((3, 3)))
    with pytest.raises(InputError, match="unknown placement"):
        Recording(time_s=np.arange(3.0), acc_g=np.zeros((3, 3)), placement="knee")


def test_not_a_binary_recording(tmp_path):
    path = tmp_path / "x.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a retrorun binary recording"):
        sensors.load(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from("0123456789.,-eE\n #:abctimes_xyzNn\t\"'"), max_size=400))
def test_garbage_csv_only_raises_our_errors(tmp_path, text):
    path = tmp_path / "g.csv"
    path.write_text(text)
    try:
        rec = sensors.load(path, unit="g")
    except InputError:
        return
    assert len(rec) >= 1 and rec.acc_g.shape[1] == 3


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_garbage_bytes_only_raise_our_errors(tmp_path, data):
    for suffix in (".csv", ".npz"):
        path = tmp_path / f"b{suffix}"
        path.write_bytes(data)
        try:
            sensors.load(path, unit="g")
        except InputError:
            pass
