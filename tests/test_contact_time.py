"""Contact and flight time per step against the simulator's toe-offs, at the placements that show them."""
import numpy as np
import pytest

from analyzer import analyze
from analyzer.steps import swing_onsets
from benchmarks.accuracy import contact_errors_ms
from sensors import simulate


def contact_errors(run, steps) -> np.ndarray:
    """Measured minus true contact time (ms) of every step that has one; each must sit on a true contact."""
    errors = contact_errors_ms(steps, run.truth.ic_s.to_numpy(), run.truth.toe_off_s.to_numpy(), 0.04)
    assert len(errors) == np.isfinite(steps.contact_ms).sum()
    return np.asarray(errors)


@pytest.mark.parametrize("placement", ["shank", "foot"])
@pytest.mark.parametrize("direction, cadence", [("forward", 160), ("backward", 200)])
def test_leg_sensors_time_their_own_contacts(placement, direction, cadence):
    run = simulate(placement, direction, cadence_spm=cadence, sampling_rate_hz=200, duration_s=40, seed=11)
    steps = analyze(run.recording).steps
    own = steps[~steps.estimated & steps.running]
    assert np.isfinite(own.contact_ms).mean() > 0.95
    assert np.abs(contact_errors(run, steps)).mean() < 15
    # the other foot is estimated: no contact time of its own, and the sensor leg's flight ends at it
    assert steps[steps.estimated].contact_ms.isna().all()
    stride_ms = 2 * 60000 / cadence
    flight = own.flight_ms.dropna()
    assert np.allclose(flight + own.loc[flight.index, "contact_ms"], stride_ms / 2, rtol=0.1)


def test_walking_leg_contacts_have_no_contact_time():
    run = simulate("shank", "forward", sampling_rate_hz=100, duration_s=300, seed=4, session=True)
    steps = analyze(run.recording).steps
    assert steps[~steps.running].contact_ms.isna().all()
    assert np.isfinite(steps[steps.running & ~steps.estimated].contact_ms).mean() > 0.9


def test_swing_onset_is_the_tangent_back_to_the_stance_level():
    # stance at 1 g from sample 0, a straight rise of 0.5 g per sample from sample 40 to a peak, then a fall
    x = np.ones(200)
    x[40:50] = 1 + 0.5 * np.arange(1, 11)
    x[50:80] = np.linspace(6, 1, 30)
    onset = swing_onsets(x, np.array([0.0]), np.array([150.0]))
    assert onset[0] == pytest.approx(39.0, abs=0.01)


def test_no_swing_onset_when_the_window_leaves_the_data():
    assert np.isnan(swing_onsets(np.ones(50), np.array([10.0]), np.array([100.0]))[0])
