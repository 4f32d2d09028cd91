"""The gait simulator (sensors/simulator.py): API, truth, determinism, sampling, orientation, sessions, files."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sensors import InputError, Recording, load
from sensors.recording import PLACEMENTS
from sensors.simulator import TRUTH_COLUMNS, SimulatedRun, load_settings, load_truth, simulate, truth_path

SHORT_S = 20.0


def running(truth: pd.DataFrame) -> pd.DataFrame:
    return truth[truth["activity"] == "run"]


def rotation_about(axis, angle_rad: float) -> np.ndarray:
    """Rodrigues' formula: the rotation by angle_rad about axis."""
    k = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle_rad) * cross + (1 - np.cos(angle_rad)) * cross @ cross


@pytest.fixture(scope="module")
def session_run() -> SimulatedRun:
    return simulate("sacrum", "backward", cadence_spm=185, duration_s=400, seed=4, session=True,
                    drop_fraction=0.01, jitter=0.2)


# --- the returned objects ---------------------------------------------------------------------------

@pytest.mark.parametrize("placement", PLACEMENTS)
def test_every_placement_gives_a_recording_and_truth(placement):
    run = simulate(placement, duration_s=5.0, seed=1)
    rec = run.recording
    assert isinstance(rec, Recording)
    assert rec.placement == placement
    assert rec.time_s[0] == 0.0
    assert rec.acc_g.shape == (len(rec.time_s), 3) and np.isfinite(rec.acc_g).all()
    # the recording states only what a real sensor's file would; the settings go with the truth
    assert rec.metadata == {"device": "retrorun simulator", "range_g": 16.0}
    params = run.settings
    json.dumps(params)  # serialisable
    assert params["placement"] == placement and params["seed"] == 1 and params["direction"] == "backward"
    assert tuple(run.truth.columns) == TRUTH_COLUMNS
    # gravity: averaged over seconds, the reading's magnitude is about 1 g (more on spinning limbs)
    assert 0.9 < np.linalg.norm(rec.acc_g.mean(axis=0)) < 2.5


def test_determinism_bit_identical():
    kwargs = dict(cadence_spm=172, sampling_rate_hz=150, duration_s=SHORT_S, seed=11, jitter=0.2,
                  drop_fraction=0.05, noise_g=0.02)
    a = simulate("shank", "forward", **kwargs)
    b = simulate("shank", "forward", **kwargs)
    assert np.array_equal(a.recording.time_s, b.recording.time_s)
    assert np.array_equal(a.recording.acc_g, b.recording.acc_g)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    other = simulate("shank", "forward", **{**kwargs, "seed": 12})
    assert not np.array_equal(other.truth["ic_s"].to_numpy()[:5], a.truth["ic_s"].to_numpy()[:5])


def test_gait_is_shared_across_placements_and_sampling():
    """The truth depends only on the gait arguments: two sensors on one runner see the same steps."""
    a = simulate("sacrum", "backward", sampling_rate_hz=100, duration_s=SHORT_S, seed=5)
    b = simulate("wrist", "backward", sampling_rate_hz=400, duration_s=SHORT_S, seed=5, jitter=0.3, noise_g=0.1)
    np.testing.assert_array_equal(a.truth["ic_s"], b.truth["ic_s"])
    np.testing.assert_array_equal(a.truth["toe_off_s"], b.truth["toe_off_s"])


# --- truth ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("direction,cadence_spm", [("forward", 160), ("forward", 185), ("backward", 180),
                                                   ("backward", 215)])
def test_truth_of_a_steady_run(direction, cadence_spm):
    run = simulate("shank", direction, cadence_spm=cadence_spm, duration_s=40.0, seed=2)
    truth = run.truth
    assert truth["ic_s"].is_monotonic_increasing
    assert truth["ic_s"].iloc[0] >= 0 and truth["ic_s"].iloc[-1] <= run.recording.time_s[-1]
    feet = truth["foot"].to_numpy()
    assert set(feet) == {"left", "right"} and (feet[1:] != feet[:-1]).all()
    assert (truth["activity"] == "run").all() and (truth["direction"] == direction).all()
    contact_s = truth["toe_off_s"] - truth["ic_s"]
    step_s = np.diff(truth["ic_s"])
    assert (contact_s.to_numpy()[:-1] < step_s).all(), "running has a flight phase"
    cadence = 60.0 / np.median(step_s)
    assert abs(cadence - cadence_spm) / cadence_spm < 0.01
    # stride-to-stride variability is present but small
    stride_s = np.diff(truth["ic_s"].to_numpy()[::2])
    assert 0.005 < np.std(stride_s) / np.mean(stride_s) < 0.05


def test_backward_contacts_are_shorter_and_flights_longer():
    """Wright & Weyand 2001 (contact), Cavagna 2012 (flight 98 vs 72 ms)."""
    def contact_and_flight(direction):
        truth = simulate("sacrum", direction, cadence_spm=180, duration_s=30.0, seed=3).truth
        contact = (truth["toe_off_s"] - truth["ic_s"]).to_numpy()
        flight = truth["ic_s"].to_numpy()[1:] - truth["toe_off_s"].to_numpy()[:-1]
        return np.median(contact), np.median(flight)
    contact_fwd, flight_fwd = contact_and_flight("forward")
    contact_bwd, flight_bwd = contact_and_flight("backward")
    assert contact_bwd < contact_fwd and flight_bwd > flight_fwd
    assert 0.06 < flight_fwd < 0.09 and 0.085 < flight_bwd < 0.12
    assert 0.20 < contact_fwd < 0.30


def test_impact_magnitudes_by_placement():
    def median_impact(placement, direction, foot="left", **kw):
        truth = simulate(placement, direction, duration_s=SHORT_S, seed=1, sampling_rate_hz=500, **kw).truth
        return truth.loc[truth["foot"] == foot, "impact_g"].median()
    shank_heel = median_impact("shank", "forward")
    shank_back = median_impact("shank", "backward")
    assert 8 < shank_heel < 13          # resultant PTA ~10-14 g at 2.7-3.7 m/s, Sheerin 2020
    assert 4 < shank_back < shank_heel  # toe-first: lower
    assert median_impact("foot", "forward") > 2 * shank_heel
    assert median_impact("shank", "forward", strike="forefoot") < shank_heel
    # trunk: the impact window reads the rising stance force, ~2-2.6 g; backward higher (Cavagna 2012)
    sacrum_fwd, sacrum_bwd = median_impact("sacrum", "forward"), median_impact("sacrum", "backward")
    assert 1.7 < sacrum_fwd < sacrum_bwd < 3.0


def test_truth_impact_matches_the_samples_at_high_rates():
    run = simulate("shank", "forward", sampling_rate_hz=1000, duration_s=10.0, seed=6, noise_g=0.0, rotation=None)
    t, magnitude = run.recording.time_s, np.linalg.norm(run.recording.acc_g, axis=1)
    for ic_s, impact_g in run.truth[["ic_s", "impact_g"]].to_numpy():
        window = (t >= ic_s) & (t <= ic_s + 0.1)
        assert magnitude[window].max() == pytest.approx(impact_g, rel=0.01)


def test_trunk_physics():
    """Stance force averages 1 g over strides; near free fall in flight; AP sign flips with direction."""
    for direction, sign in (("forward", -1), ("backward", 1)):
        run = simulate("sacrum", direction, sampling_rate_hz=500, duration_s=SHORT_S, seed=8, rotation=None,
                       noise_g=0.0)
        t, acc = run.recording.time_s, run.recording.acc_g
        assert acc[:, 2].mean() == pytest.approx(1.0, abs=0.02)
        truth = run.truth
        mid_flight = (truth["toe_off_s"].to_numpy()[:-1] + truth["ic_s"].to_numpy()[1:]) / 2
        assert np.abs(np.interp(mid_flight, t, acc[:, 2])).max() < 0.1
        # AP over the first 40 % of stance: braking, toward the back when running forward (SCIENCE.md 3.4)
        early = [acc[(t >= a) & (t < a + 0.4 * (b - a)), 0].mean() for a, b in truth[["ic_s", "toe_off_s"]].to_numpy()]
        assert np.sign(np.median(early)) == sign


# --- orientation --------------------------------------------------------------------------------------

def test_rotation_gives_exactly_rotated_copies():
    R = rotation_about([1.0, -2.0, 0.5], 2.1)
    kwargs = dict(cadence_spm=190, duration_s=SHORT_S, seed=9, noise_g=0.03, jitter=0.1, drop_fraction=0.02)
    body = simulate("sacrum", "backward", rotation=None, **kwargs)
    turned = simulate("sacrum", "backward", rotation=R, **kwargs)
    np.testing.assert_array_equal(body.recording.time_s, turned.recording.time_s)
    np.testing.assert_allclose(turned.recording.acc_g, body.recording.acc_g @ R.T, atol=1e-12)
    pd.testing.assert_frame_equal(body.truth, turned.truth)
    assert turned.settings["rotation"] == "matrix"


def test_random_rotation_is_a_seeded_rotation_and_leaves_the_gait_alone():
    random = simulate("chest", "forward", duration_s=SHORT_S, seed=3)
    aligned = simulate("chest", "forward", duration_s=SHORT_S, seed=3, rotation=None)
    R = np.array(random.settings["rotation_matrix"])
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-9)
    assert np.linalg.det(R) == pytest.approx(1.0)
    assert not np.allclose(R, np.eye(3))
    np.testing.assert_allclose(random.recording.acc_g, aligned.recording.acc_g @ R.T, atol=1e-9)
    other = simulate("chest", "forward", duration_s=SHORT_S, seed=4)
    assert not np.allclose(np.array(other.settings["rotation_matrix"]), R)


def test_aligned_frame_reads_gravity_on_z_at_rest():
    run = simulate("shank", "backward", duration_s=300, seed=1, session=True, rotation=None, noise_g=0.0)
    t, acc = run.recording.time_s, run.recording.acc_g
    standing = (t > 0.1) & (t < 0.9)  # every session starts standing still
    np.testing.assert_allclose(acc[standing].mean(axis=0), [0, 0, 1], atol=0.01)


# --- the sensor: range, rate, jitter, drops ----------------------------------------------------------------

def test_clipping_at_range():
    wide = simulate("foot", "forward", duration_s=SHORT_S, seed=1, range_g=200.0)
    narrow = simulate("foot", "forward", duration_s=SHORT_S, seed=1, range_g=8.0)
    assert np.abs(wide.recording.acc_g).max() > 8.0
    assert np.abs(narrow.recording.acc_g).max() == 8.0
    inside = (np.abs(wide.recording.acc_g) < 8.0)
    np.testing.assert_array_equal(narrow.recording.acc_g[inside], wide.recording.acc_g[inside])
    assert narrow.settings["clipped_samples"] > 0
    pd.testing.assert_frame_equal(wide.truth, narrow.truth)  # truth is unclipped


@pytest.mark.parametrize("rate_hz", [25.0, 52.0, 100.0, 1000.0])
def test_sampling_rate_is_honoured(rate_hz):
    run = simulate("wrist", "forward", sampling_rate_hz=rate_hz, duration_s=10.0, seed=1)
    dt = np.diff(run.recording.time_s)
    assert np.median(dt) == pytest.approx(1 / rate_hz, rel=1e-9)
    assert np.ptp(dt) < 1e-9
    assert len(run.recording) == round(10.0 * rate_hz)
    assert run.recording.sampling_rate_hz == rate_hz and run.recording.gaps == []


def test_jitter_makes_irregular_but_increasing_times():
    run = simulate("phone_pocket", "forward", sampling_rate_hz=100, duration_s=SHORT_S, seed=1, jitter=0.3)
    dt = np.diff(run.recording.time_s)
    assert (dt > 0).all()
    assert np.std(dt) > 0.2 * 0.01
    assert np.median(dt) == pytest.approx(0.01, rel=0.05)
    assert run.recording.time_s[0] == 0.0


def test_drops_reduce_the_sample_count():
    full = simulate("sacrum", duration_s=SHORT_S, seed=1)
    dropped = simulate("sacrum", duration_s=SHORT_S, seed=1, drop_fraction=0.1)
    assert len(dropped.recording) == pytest.approx(0.9 * len(full.recording), rel=0.03)
    assert np.isin(dropped.recording.time_s, full.recording.time_s).all()
    pd.testing.assert_frame_equal(full.truth, dropped.truth)


# --- sessions --------------------------------------------------------------------------------------

def test_session_structure(session_run):
    truth, rec = session_run.truth, session_run.recording
    activities = set(truth["activity"])
    assert {"walk", "run", "turn"} <= activities
    assert rec.duration_s == pytest.approx(400, abs=0.1)
    runs, walks = running(truth), truth[truth["activity"] == "walk"]
    assert (runs["direction"] == "backward").all()
    assert 110 <= 60 / np.median(np.diff(walks["ic_s"])) <= 121
    # walking has double support: a foot lands before the other leaves
    assert np.median((walks["toe_off_s"] - walks["ic_s"]).to_numpy()[:-1] - np.diff(walks["ic_s"])) > 0
    # warm-up walking first, cool-down walking last
    assert truth["activity"].iloc[0] == "walk" and truth["activity"].iloc[-1] == "walk"
    schedule = session_run.settings["schedule"]
    rests = [s for s in schedule if s["activity"] == "stand" and s["end_s"] - s["start_s"] >= 25]
    assert rests, "at least one rest between running bouts"
    for rest in rests + [s for s in schedule if s["activity"] == "stand"]:
        inside = truth[(truth["ic_s"] > rest["start_s"] + 0.01) & (truth["ic_s"] < rest["end_s"] - 0.01)]
        assert inside.empty, f"contacts during a rest {rest}"
    bouts = [s for s in schedule if s["activity"] == "run"]
    assert len(bouts) >= 2 and all(s["direction"] == "backward" for s in bouts)


def test_session_rests_read_still(session_run):
    rec = session_run.recording
    for rest in session_run.settings["schedule"]:
        if rest["activity"] != "stand" or rest["end_s"] - rest["start_s"] < 25:
            continue
        quiet = (rec.time_s > rest["start_s"] + 2) & (rec.time_s < rest["end_s"] - 2)
        magnitude = np.linalg.norm(rec.acc_g[quiet], axis=1)
        assert np.abs(magnitude - 1).max() < 0.1


def test_session_drop_bursts_make_gaps_and_mark_contacts(session_run):
    rec, truth = session_run.recording, session_run.truth
    bursts = session_run.settings["dropped_bursts_s"]
    assert len(bursts) == 2
    for a, b in bursts:
        assert not ((rec.time_s >= a) & (rec.time_s < b)).any()
        assert any(g0 <= a and g1 >= b for g0, g1 in rec.gaps)
        in_gap = truth[(truth["ic_s"] >= a) & (truth["ic_s"] < b)]
        assert in_gap["activity"].str.endswith("_in_gap").all()
    flagged = truth[truth["activity"].str.endswith("_in_gap")]
    assert all(any(a <= ic < b for a, b in bursts) for ic in flagged["ic_s"])


def test_forward_session_runs_forward():
    truth = simulate("wrist", "forward", duration_s=300, seed=2, session=True).truth
    assert (running(truth)["direction"] == "forward").all()
    assert (truth.loc[truth["activity"] == "walk", "direction"] == "forward").all()


# --- arguments ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    dict(placement="knee"),
    dict(placement="auto"),
    dict(direction="sideways"),
    dict(direction="backward", strike="heel"),
    dict(strike="midfoot"),
    dict(cadence_spm=60),
    dict(cadence_spm=float("nan")),
    dict(sampling_rate_hz=10),
    dict(sampling_rate_hz=5000),
    dict(sampling_rate_hz="200"),
    dict(duration_s=0),
    dict(duration_s=-5),
    dict(duration_s=100, session=True),
    dict(seed=-1),
    dict(seed=1.5),
    dict(rotation="spin"),
    dict(rotation=np.eye(2)),
    dict(rotation=np.diag([1.0, 1.0, -1.0])),
    dict(rotation=2 * np.eye(3)),
    dict(range_g=0),
    dict(noise_g=-0.1),
    dict(jitter=0.9),
    dict(drop_fraction=0.5),
    dict(drop_fraction=-0.1),
    dict(gait="jog"),
    dict(gait="walk", cadence_spm=150),
    dict(gait="walk", duration_s=300, session=True),
    dict(gait="walk", strike="heel"),
])
def test_bad_arguments_raise_input_error(kwargs):
    args = {"placement": "sacrum", "duration_s": 5.0, **kwargs}
    with pytest.raises(InputError) as excinfo:
        simulate(**args)
    assert str(excinfo.value)  # a readable one-line message


def test_heel_strike_forward_is_the_default_and_forefoot_allowed():
    assert simulate("sacrum", "forward", duration_s=5).settings["strike"] == "heel"
    assert simulate("sacrum", "backward", duration_s=5).settings["strike"] == "forefoot"
    assert simulate("sacrum", "backward", duration_s=5, strike="forefoot").truth is not None


# --- files ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_save_writes_recording_and_truth(tmp_path, suffix):
    run = simulate("phone_arm", "backward", duration_s=10.0, seed=7, jitter=0.2)
    path = tmp_path / f"run{suffix}"
    run.save(path)
    assert truth_path(path) == tmp_path / "run.truth.csv" and truth_path(path).exists()
    back = load(path)
    assert back.placement == "phone_arm"
    np.testing.assert_allclose(back.time_s, run.recording.time_s, atol=1e-6)
    np.testing.assert_allclose(back.acc_g, run.recording.acc_g, rtol=0, atol=5e-6)  # 5 decimals in the CSV
    truth = load_truth(path)
    assert tuple(truth.columns) == TRUTH_COLUMNS and len(truth) == len(run.truth)
    np.testing.assert_allclose(truth["ic_s"], run.truth["ic_s"], atol=5e-5)
    np.testing.assert_allclose(truth["impact_g"], run.truth["impact_g"], atol=5e-4)
    assert (truth["foot"] == run.truth["foot"]).all()
    lines = truth_path(path).read_text().splitlines()
    assert lines[0].startswith("# simulator: {") and lines[1] == ",".join(TRUTH_COLUMNS)
    first = lines[2].split(",")
    assert len(first[0].split(".")[1]) == 4 and len(first[3].split(".")[1]) == 3
    # the settings live in the truth file only: the recording holds what a real sensor's file would
    assert load_settings(path) == run.settings and load_settings(truth_path(path))["direction"] == "backward"
    assert {k: str(v) for k, v in back.metadata.items() if k in ("device", "range_g")} == {
        "device": "retrorun simulator", "range_g": "16.0"}
    assert not {"simulator", "direction", "seed", "cadence_spm"} & set(back.metadata)
    if suffix == ".csv":
        header = [line for line in path.read_text().splitlines() if line.startswith("#")]
        assert header == ["# placement: phone_arm", "# unit: g", "# device: retrorun simulator", "# range_g: 16.0"]


def test_truth_files_without_settings_and_bad_settings(tmp_path):
    run = simulate("sacrum", "forward", duration_s=3.0, seed=2)
    SimulatedRun(run.recording, run.truth).save(tmp_path / "bare.csv")
    assert load_settings(tmp_path / "bare.csv") == {}
    assert len(load_truth(tmp_path / "bare.csv")) == len(run.truth)
    bad = tmp_path / "bad.truth.csv"
    bad.write_text("# simulator: [1, 2]\n" + truth_path(tmp_path / "bare.csv").read_text())
    with pytest.raises(InputError, match="unreadable simulator settings"):
        load_settings(bad)


def test_package_level_simulate_keeps_working():
    import sensors
    first = sensors.simulate("sacrum", duration_s=3.0)
    second = sensors.simulate("sacrum", duration_s=3.0)
    pd.testing.assert_frame_equal(first.truth, second.truth)


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_truth_of_a_steady_walk(direction):
    run = simulate("shank", direction, gait="walk", cadence_spm=110, sampling_rate_hz=100, duration_s=30, seed=4)
    truth, meta = run.truth, run.settings
    assert set(truth.activity) == {"walk"} and set(truth.direction) == {direction}
    assert 60.0 / np.median(np.diff(truth.ic_s)) == pytest.approx(110, rel=0.02)
    # each foot on the ground 62 % of its stride: double support, no flight
    stride_s = 2 * 60.0 / 110
    assert np.median(truth.toe_off_s - truth.ic_s) == pytest.approx(0.62 * stride_s, rel=0.05)
    assert meta["gait"] == "walk" and meta["running_speed_mps"] is None
    step_length_m = {"forward": 0.70, "backward": 0.50}[direction]
    assert meta["walking_speed_mps"] == pytest.approx(110 / 60 * step_length_m, abs=1e-4)


def test_backward_walking_is_the_forward_walk_reversed_and_lands_softer():
    from sensors.simulator import PITCH_KEYFRAMES_DEG
    # the backward contact is the forward toe-off (phase 0.62) played in reverse: shank reaching back
    forward, backward = PITCH_KEYFRAMES_DEG["shank"]["walk"], PITCH_KEYFRAMES_DEG["shank"]["walk_backward"]
    assert backward[0] == (0.0, dict(forward)[0.62])
    assert sorted(v for _, v in backward) == sorted(v for _, v in forward)
    def own_leg_impact_g(direction):
        truth = simulate("shank", direction, gait="walk", sampling_rate_hz=500, duration_s=30, seed=4).truth
        return truth.impact_g[truth.foot == "left"].median()  # the sensor's leg (SENSOR_SIDE)

    impacts = {d: own_leg_impact_g(d) for d in ("forward", "backward")}
    assert impacts["backward"] < 0.9 * impacts["forward"]


def test_turnaround_steps_of_a_backward_session_keep_the_forward_walking_model():
    """A pivot on the spot, not a backward walk: sessions read as they did before backward walking existed."""
    session = simulate("shank", "backward", sampling_rate_hz=100, duration_s=300, seed=5, session=True)
    turns = session.truth[session.truth.activity == "turn"]
    assert len(turns) and set(turns.direction) == {"backward"}
    from sensors.simulator import _config
    import sensors.simulator as simulator
    plan_turn = simulator._plan_session(np.random.default_rng([5, simulator.STREAM_GAIT]),
                                        simulator._validate("shank", "backward", None, 100.0, 300.0, 5, True, "run",
                                                            None, "random", 16.0, 0.01, 0.0, 0.0))
    is_turn = plan_turn.activity == "turn"
    assert (_config(plan_turn, np.flatnonzero(is_turn)) == simulator.LIMB_CONFIGS.index("walk")).all()
