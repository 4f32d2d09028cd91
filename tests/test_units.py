"""Units (issue 16): the nearest of g, m/s^2 and mg to the gravity reading on a log scale, with a wide band;
data with gravity removed refused by its shape, in any unit; every conversion reported."""
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.signal import butter, sosfiltfilt

import sensors
from sensors import UnitError
from sensors.units import (G_PER_UNIT, MIN_WINDOW_SAMPLES, UNIT_GRAVITY_BANDS, decide_unit, doubt_about_stated_unit,
                           read_gravity, unit_for_gravity)

RATE_HZ = 100.0
UNITS = tuple(G_PER_UNIT)
REMOVED = "gravity is missing from the data"


def in_unit(acc_g: np.ndarray, unit: str) -> np.ndarray:
    return acc_g / G_PER_UNIT[unit]


def tilt(acc: np.ndarray, degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    return acc @ np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]]).T


def jumping_clipped(duration_s: float = 60.0, hop_hz: float = 2.3, contact_fraction: float = 0.29,
                    clip_g: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """A phone on a jumping person, range +-2 g: half-sine landings that average 1 g (peaks 5.4 g), flight
    at 0 g, tilted 20 degrees; the clipped landings leave gravity reading about 0.62 g."""
    t = np.arange(0, duration_s, 1 / RATE_HZ)
    phase = (t * hop_hz) % 1
    vertical = np.where(phase < contact_fraction,
                        np.pi / (2 * contact_fraction) * np.sin(np.pi * np.minimum(phase / contact_fraction, 1)), 0)
    sway = np.column_stack([0.1 * np.sin(2 * np.pi * hop_hz * t), 0.05 * np.cos(2 * np.pi * hop_hz * t), vertical])
    noise = np.random.default_rng(0).normal(0, 0.02, (len(t), 3))
    return t, np.clip(tilt(sway + noise, 20), -clip_g, clip_g)


def swinging_foot(duration_s: float = 60.0, stride_hz: float = 1.4) -> tuple[np.ndarray, np.ndarray]:
    """A foot IMU: gravity turns +-40 degrees with the foot each stride and the swing adds a centripetal
    0.55 g on average along z: the mean vector reads about 1.42 g."""
    t = np.arange(0, duration_s, 1 / RATE_HZ)
    pitch = np.radians(40) * np.sin(2 * np.pi * stride_hz * t)
    centripetal = 0.55 * (1 - np.cos(2 * np.pi * stride_hz * t))
    acc = np.column_stack([np.sin(pitch), 0 * t, np.cos(pitch) + centripetal])
    return t, acc + np.random.default_rng(1).normal(0, 0.02, acc.shape)


def minus_mean(acc: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    return acc - acc.mean(axis=0)


def minus_low_pass(acc: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """Gravity removed as a linear-acceleration export would: minus a per-axis 0.5 Hz low-pass."""
    sos = butter(2, 0.5, fs=1 / np.median(np.diff(time_s)), output="sos")
    return acc - sosfiltfilt(sos, acc, axis=0)


REMOVALS = {"mean subtracted": minus_mean, "0.5 Hz low-pass subtracted": minus_low_pass}


# ---------------------------------------------------------------------------------------------- the rule

@pytest.mark.parametrize("reading, unit", [(0.3, None), (0.33, "g"), (0.62, "g"), (1.42, "g"), (3.0, "g"),
                                           (3.3, "m/s^2"), (9.81, "m/s^2"), (17.7, "m/s^2"), (95, "m/s^2"),
                                           (105, "mg"), (620, "mg"), (1263, "mg"), (3000, "mg"), (3300, None)])
def test_the_unit_is_the_nearest_on_a_log_scale(reading, unit):
    assert unit_for_gravity(reading) == unit


def test_bands_meet_half_way_between_units_on_a_log_scale():
    (g_low, g_high), (mps2_low, mps2_high), (mg_low, mg_high) = (UNIT_GRAVITY_BANDS[u] for u in UNITS)
    assert g_high == pytest.approx(mps2_low) and mps2_high == pytest.approx(mg_low)
    assert g_high == pytest.approx(np.sqrt(9.80665)) and mps2_high == pytest.approx(np.sqrt(9806.65))
    assert g_low == pytest.approx(1 / g_high) and mg_high == pytest.approx(1000 * g_high)


@pytest.mark.parametrize("unit", UNITS)
def test_a_phone_clipped_at_2_g_while_jumping_reads_0_62_g_and_is_accepted(unit):
    t, acc_g = jumping_clipped()
    reading = read_gravity(acc_g, t)
    assert 0.6 < reading.magnitude < 0.64 and not reading.removed
    decision = decide_unit(in_unit(acc_g, unit), t)
    assert decision.unit == unit and decision.detected


@pytest.mark.parametrize("unit", UNITS)
def test_a_swinging_foot_reading_1_42_g_is_accepted(unit):
    t, acc_g = swinging_foot()
    assert read_gravity(acc_g, t).magnitude == pytest.approx(1.42, abs=0.03)
    assert decide_unit(in_unit(acc_g, unit), t).unit == unit


@pytest.mark.parametrize("placement", ["shank", "foot", "sacrum", "wrist", "phone_pocket"])
@pytest.mark.parametrize("gait", ["run", "walk"])
def test_simulated_placements_are_detected_in_every_unit(placement, gait):
    rec = sensors.simulate(placement, "forward", duration_s=30, sampling_rate_hz=RATE_HZ, gait=gait).recording
    for unit in UNITS:
        assert decide_unit(in_unit(rec.acc_g, unit), rec.time_s).unit == unit
        assert decide_unit(in_unit(np.clip(rec.acc_g, -2, 2), unit), rec.time_s).unit == unit


@pytest.mark.parametrize("signal", [jumping_clipped, swinging_foot], ids=lambda f: f.__name__)
@pytest.mark.parametrize("removal", REMOVALS, ids=str)
@pytest.mark.parametrize("unit", UNITS)
def test_gravity_removed_is_refused_in_every_unit(signal, removal, unit):
    t, acc_g = signal()
    linear = REMOVALS[removal](acc_g, t)
    with pytest.raises(UnitError, match=REMOVED) as exc:
        decide_unit(in_unit(linear, unit), t, path="linear.csv")
    message = str(exc.value)
    assert message.startswith("linear.csv: ") and "mean vector reads" in message and "--unit" in message


@pytest.mark.parametrize("rate_hz", [10.0, 50.0, 200.0])
@pytest.mark.parametrize("unit", UNITS)
def test_still_noise_around_zero_is_refused(rate_hz, unit):
    t = np.arange(0, 30, 1 / rate_hz)
    noise_g = np.random.default_rng(int(rate_hz)).normal(0, 0.01, (len(t), 3))
    with pytest.raises(UnitError, match=REMOVED):
        decide_unit(in_unit(noise_g, unit), t)
    with pytest.raises(UnitError, match=REMOVED):
        decide_unit(np.zeros((len(t), 3)), t)


def test_a_reading_outside_every_band_is_refused_with_the_bands():
    t = np.arange(0, 10, 0.01)
    bands = r"g 0.319-3.13, m/s\^2 3.13-99, mg 99-3132"
    with pytest.raises(UnitError, match=r"cannot tell the acceleration unit.*gravity magnitude 20000.*" + bands):
        decide_unit(np.tile([0.0, 0.0, 2e4], (len(t), 1)), t)


# ---------------------------------------------------------------------------------------------- stated units

def test_a_stated_unit_is_doubted_only_when_the_reading_fits_another_unit_or_none():
    assert doubt_about_stated_unit(1.42, "g") == ""
    assert doubt_about_stated_unit(0.62, "g") == ""
    assert doubt_about_stated_unit(1.81, "g") == ""
    assert "check the unit (the reading fits m/s^2)" in doubt_about_stated_unit(9.81, "g")
    assert "check the unit (the reading fits g)" in doubt_about_stated_unit(1.0, "m/s^2")
    assert "(or the data has gravity removed)" in doubt_about_stated_unit(0.05, "g")
    assert "gravity removed" in doubt_about_stated_unit(1.0, "g", gravity_removed=True)


def test_conversions_are_reported():
    t, acc_g = swinging_foot()
    assert decide_unit(in_unit(acc_g, "m/s^2"), t).describe() == "converted from m/s^2 to g (gravity read 14 m/s^2)"
    assert decide_unit(in_unit(acc_g, "mg"), t).describe() == "converted from mg to g (gravity read 1428 mg)"
    assert decide_unit(acc_g, t).describe() == "g (detected: gravity read 1.43 g)"
    assert decide_unit(acc_g, t, "g").describe() == "g (as stated)"
    stated_wrong = decide_unit(in_unit(acc_g, "m/s^2"), t, "g").describe()
    assert stated_wrong == ("g (as stated); but gravity then reads 14 g, not about 1 g: check the unit "
                            "(the reading fits m/s^2)")
    assert "gravity removed" in decide_unit(minus_low_pass(acc_g, t), t, "g").describe()


# ---------------------------------------------------------------------------------------------- windows

def test_one_bad_timestamp_does_not_multiply_the_windows():
    t, acc_g = swinging_foot(duration_s=20)
    regular = read_gravity(acc_g, t)
    bad = t.copy()
    bad[-1] = 1e10
    reading = read_gravity(acc_g, bad)
    assert regular.windows == 10 and reading == regular
    assert read_gravity(acc_g, t * 1e-6).windows == 1  # a clock in the wrong unit: one window, no error
    assert read_gravity(acc_g, t * 1e6).windows == len(t) // MIN_WINDOW_SAMPLES


# ---------------------------------------------------------------------------------------------- through files

def write_canonical(path: Path, time_s: np.ndarray, acc: np.ndarray) -> Path:
    frame = pd.DataFrame({"time_s": time_s, "acc_x": acc[:, 0], "acc_y": acc[:, 1], "acc_z": acc[:, 2]})
    frame.to_csv(path, index=False)
    return path


def test_files_with_gravity_removed_are_refused_and_clipped_ones_accepted(tmp_path):
    t, acc_g = jumping_clipped(duration_s=20)
    rec = sensors.load(write_canonical(tmp_path / "jump_mps2.csv", t, in_unit(acc_g, "m/s^2")), placement="wrist")
    assert rec.metadata["unit_found"] == "m/s^2" and rec.metadata["unit_conversion"].startswith("converted from m/s^2")
    linear = write_canonical(tmp_path / "linear_mg.csv", t, in_unit(minus_low_pass(acc_g, t), "mg"))
    with pytest.raises(UnitError, match=f"{linear}: {REMOVED}"):
        sensors.load(linear, placement="wrist")
    stated = sensors.load(linear, placement="wrist", unit="mg").metadata["unit_conversion"]
    assert stated.startswith("mg (as stated); but the data looks like it has gravity removed")


# ---------------------------------------------------------------------------------------------- real recordings

@lru_cache(maxsize=1)
def real_recordings(root: Path) -> tuple[tuple[str, np.ndarray, np.ndarray, str], ...]:
    """(name, time_s, acc in the file's unit, that unit) for every real recording in ../shared/data."""
    from benchmarks.realdata import alcantara_trials, oxford_validation_walk, oxford_walks
    out = []
    for folder in ("motionsense-phone-pocket/*/*.csv.gz", "uci-hapt-waist/sessions/*.csv.gz"):
        for path in sorted(root.glob(folder)):
            frame = pd.read_csv(path)
            out.append((path.name, frame["time_s"].to_numpy(), frame[["acc_x", "acc_y", "acc_z"]].to_numpy(), "g"))
    oxford = [(name, rec) for name, rec, _ in oxford_walks(root / "oxford-step-counter-walking")]
    oxford.append(("oxford validation", oxford_validation_walk(
        root / "oxford-step-counter-walking" / "validation" / "user1_frontpocket_1506422223341.csv.gz")[0]))
    out += [(name, rec.time_s, in_unit(rec.acc_g, "m/s^2"), "m/s^2") for name, rec in oxford]
    out += [(f"alcantara trial {trial}", rec.time_s, rec.acc_g, "g")
            for trial, rec, _ in alcantara_trials(root / "alcantara-sacral-running")]
    shimmer = pd.read_csv(root / "alcantara-sacral-running" / "Sample_test_data.csv")
    out.append(("alcantara Sample_test_data", shimmer["System_Timestamp_Plot_Zeroed"].to_numpy() / 1000,
                shimmer[["Accel_LN_X", "Accel_LN_Y", "Accel_LN_Z"]].to_numpy(), "m/s^2"))
    polar = pd.read_csv(root / "app-export-formats" / "polar-sensor-logger-verity" / "Polar_Sense_ACC.txt", sep=";")
    ns = polar["sensor timestamp [ns]"].to_numpy()
    out.append(("Polar_Sense_ACC.txt", (ns - ns[0]) * 1e-9, polar[["X [mg]", "Y [mg]", "Z [mg]"]].to_numpy(float),
                "mg"))
    return tuple(out)


EXPECTED_REAL = {"g": 180 + 61 + 31, "m/s^2": 4 + 1, "mg": 1}
"""MotionSense 180 segments, UCI HAPT 61 sessions, Alcantara 31 trials (g); Oxford 3 walks + validation walk,
Alcantara's Shimmer sample (m/s^2); the Polar Verity Sense file (mg)."""


def test_every_real_recording_with_gravity_is_accepted_in_its_unit(shared_data):
    recordings = real_recordings(shared_data)
    assert {u: sum(1 for *_, unit in recordings if unit == u) for u in UNITS} == EXPECTED_REAL
    wrong = []
    for name, t, acc, unit in recordings:
        acc_g = acc * G_PER_UNIT[unit]
        for variant, x in (("as recorded", acc_g), ("clipped at +-2 g", np.clip(acc_g, -2, 2))):
            for as_unit in UNITS:
                try:
                    found = decide_unit(in_unit(x, as_unit), t).unit
                except UnitError as exc:
                    found = str(exc)
                if found != as_unit:
                    wrong.append((name, variant, as_unit, found))
    assert wrong == []


def test_every_real_recording_with_gravity_removed_is_refused(shared_data):
    accepted, refused = [], 0
    for name, t, acc, unit in real_recordings(shared_data):
        acc_g = acc * G_PER_UNIT[unit]
        for removal, remove in REMOVALS.items():
            for variant, x in (("as recorded", acc_g), ("clipped at +-2 g", np.clip(acc_g, -2, 2))):
                linear = remove(x, t)
                for as_unit in UNITS:
                    try:
                        accepted.append((name, removal, variant, as_unit, decide_unit(in_unit(linear, as_unit), t)))
                    except UnitError as exc:
                        assert REMOVED in str(exc)
                        refused += 1
    assert accepted == [] and refused == 278 * 2 * 2 * 3


def test_real_activity_segments_with_gravity_are_accepted(shared_data):
    """The 1,214 labelled UCI HAPT segments, cut out as recordings of their own (postures, transitions of 2-5 s,
    walks, stairs), read as g, also clipped at +-2 g."""
    segments, wrong = 0, []
    for name, t, acc, _ in real_recordings(shared_data):
        if not name.startswith("hapt_"):
            continue
        labels = pd.read_csv(shared_data / "uci-hapt-waist" / "sessions" / name.replace(".csv.gz", ".labels.csv"))
        for start_s, end_s, activity in labels.itertuples(index=False):
            inside = (t >= start_s) & (t < end_s)
            segments += 1
            for x in (acc[inside], np.clip(acc[inside], -2, 2)):
                try:
                    decide_unit(x, t[inside])
                except UnitError as exc:
                    wrong.append((name, activity, start_s, str(exc)))
    assert segments == 1214 and wrong == []
