"""Per-placement detector settings, each justified by its source.

Two families:
- body-centred sensors (sacrum, chest, phone in a pocket, wrist, upper arm) see the contacts of both feet;
- single-leg sensors (shank, foot) see their own leg's contacts strongly and the other leg's weakly, so
  they are detected at the stride period and the other foot's contacts are found (or estimated) between.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from sensors.errors import InputError

from .gate import GateParams
from sensors.recording import PLACEMENTS, check_placement


@dataclass(frozen=True)
class DetectorParams:
    """Settings of the step detector for one placement. Units are in the names.

    - event_signal: 'magnitude' (norm of the three axes), 'vertical' (projection on gravity, which leaves
      out a swinging limb's own acceleration) or 'impulse' (the magnitude high-passed above
      `impulse_highpass_hz`, for sensors on a leg where the impact is a spike far sharper than the swing:
      Purcell 2006, Van den Berghe 2021). All are rotation invariant.
    - event_lowpass_hz: low-pass of the acceleration magnitude on which events are found.
      10-20 Hz for event detection (Kiernan 2023; SCIENCE.md section 0, "Filters").
    - period_min_s, period_max_s: range searched for the dominant period (a step for body-centred
      sensors, a stride for single-leg ones); 80-270 steps/min covers walking to sprinting.
    - min_prominence_g: a contact must rise at least this far above its surroundings (rejects standing).
    - min_spacing_fraction: two contacts are at least this fraction of the local period apart.
    - min_relative_height: a contact's peak is at least this fraction of the median of its neighbours'
      (within 5 s): impacts of one run are alike, stray swing features are not.
    - ic_method: 'tangent' puts initial contact where the steepest slope of the rise, extrapolated back,
      meets the flight/swing minimum before it (Auvinet 2002: IC precedes the vertical maximum); 'onset'
      where the rise crosses `onset_fraction` of the way to the peak (threshold on the vertical
      acceleration, Patoz 2022); 'peak' at the impact peak minus `peak_lag_s` (Purcell 2006 / Van den
      Berghe 2021 use the tibial peak).
    - walking_peak_lag_s: body-worn sensors, steps slower than 140/min (walking, no flight): contact is
      this long before the trunk's loading-response peak (Zijlstra & Hof 2003 place walking initial
      contact on the rising trunk acceleration before that peak; the lag is calibrated on the simulator).
    - walking_lowpass_hz: body-worn sensors: the period is estimated, and walking contacts are found, on
      the signal low-passed at this frequency (a walk's steps ring with several small peaks each from a
      pocket or an arm; 5 Hz keeps the step fundamental and its second harmonic up to 150 steps/min).
    - walking_min_prominence_g: where the local cadence is a walk's, a contact need rise only this far
      (default: min_prominence_g). Trunk: 0.25 g; a walk's step at the sacrum rises 0.3-0.6 g on the 5 Hz
      signal, less where a short step merges with the double support before it (simulated walks, seeds
      8000+: 6-14 % of steps lost at 0.35 g, 0.3 % at 0.25 g).
    - fill_hidden_walking_steps: wrist: a walking step hidden by the arm's swing (two or three step periods
      between walking contacts) is placed between its neighbours and flagged estimated
      (analyzer/steps.py `_with_hidden_walking_steps`).
    - period_lowpass_hz: low-pass of the signal whose period is estimated (default: event_lowpass_hz).
      A phone in a pocket rides on the thigh, whose swing adds peaks between steps; 5 Hz leaves the
      steps' own rhythm.
    - period_highpass_hz: high-pass of that signal. Wrist: 2 Hz, above a running stride's frequency (<= 1.9
      Hz at 220 steps/min), so the forearm's swing, which adds to one step's bounce and takes from the next,
      no longer makes the stride the dominant period (the step's harmonics are kept).
    - toe_off_fraction: where the trunk shows the end of a running contact, it is where the vertical
      signal, falling from the contact's peak, crosses this fraction of the way to the flight floor
      (Patoz 2022 threshold method; 0.3 chosen on the alcantara force-plate contacts, the only real
      contact-time truth we have, and tested on the simulator).
      None: contact time is not measured at this placement.
    - swing_onset_toe_off: shank/foot: a running contact of the sensor's leg ends where the swing begins
      (analyzer/steps.py `swing_onsets`); its flight runs to the other foot's estimated contact.
    - flight_floor_g: trunk sensors: a step between 125 and 150 steps/min is a run's when the vertical
      signal between contacts falls below this (a flight; 0 g in free fall), a walk's otherwise. Walking
      keeps it above about 0.6 g (simulator; Oxford arm-band phone). None: cadence alone decides.
    - walk_max_cadence_spm: without a flight floor, steps slower than this are a walk's (brisk walking
      reaches 130-135 steps/min, running rarely goes below 140: Tudor-Locke et al. 2018) unless, from
      125, the 16 steps before held at least 5 faster and at most 3 slower than 125 (analyzer/steps.py
      `walking_steps`).
    - single_leg: shank/foot; the other foot's contacts are placed between the sensor leg's.
    - impulse_highpass_hz: above the swing's harmonics (stride frequency <= 2 Hz), below the spike's.
    - braking_window_steps, walking_braking_window_steps: where the braking cue of the direction of travel
      is read, in step periods from initial contact, running and walking (analyzer/direction.py). Trunk,
      running: the contact's braking transient (0 to 0.15; its length read off the alcantara sacral
      recordings, where it is over by 0.15 of a step); trunk, walking: the first half of single support
      (0.25 to 0.5), when the body decelerates as it rises over the stance leg (inverted pendulum; double
      support mixes the trailing leg's push in). Leg: the late swing (-0.3 to 0), which decelerates before
      contact in both gaits. None: direction is not measured at this placement.
    - propulsion_window_steps: running, read instead of the braking window where set: the push-off of late
      stance, which drives the body along its travel (Cavagna 2012 measured brake and push both ways). Wrist:
      0.35 to 0.65 of a step, where the forearm's swing, at an extreme at contact, no longer hides it.
    - run_max_floor_g, run_shallow_floor_g, run_min_range_g: no step is a run's without a run's evidence
      (analyzer/gate.py): a window near it whose vertical floor (2nd percentile of the 10-Hz vertical signal
      over 6 s) sinks to run_max_floor_g, or to run_shallow_floor_g with the vertical signal's range (98th
      minus 2nd percentile) at least run_min_range_g; or an earlier step of the same unbroken stretch of a
      run's cadence had that evidence. A flight lets the body fall freely (0 g at the trunk, lower at a
      swinging limb); walking, stairs and a seated leg bounce keep it supported. Chosen with
      benchmarks/tuning/gate.py on the tuning half of the real everyday recordings and on simulated runs
      (seeds 8001-8002; benchmarks/tuning/README.md): trunk 0.25 g, arm band 0.35 g, wrist 0.25 g,
      pocket -0.5 g, or 0.0 g with a 2.7-g range (a pocket's backward run, simulated, keeps its floor near
      -0.2 g). None: cadence alone decides (shank, foot).
    - min_sampling_rate_hz: below this, the placement's events are not resolved (SCIENCE.md: 50 Hz is
      enough for cadence, >= 200 Hz for impact peaks).
    """

    event_signal: str
    event_lowpass_hz: float
    period_min_s: float
    period_max_s: float
    min_prominence_g: float
    ic_method: str
    onset_fraction: float = 0.3
    peak_lag_s: float = 0.0
    min_spacing_fraction: float = 0.55
    min_relative_height: float = 0.25
    walking_peak_lag_s: float | None = None
    walking_lowpass_hz: float | None = None
    walking_min_prominence_g: float | None = None
    fill_hidden_walking_steps: bool = False
    period_lowpass_hz: float | None = None
    period_highpass_hz: float | None = None
    toe_off_fraction: float | None = None
    swing_onset_toe_off: bool = False
    flight_floor_g: float | None = None
    walk_max_cadence_spm: float = 135.0
    run_max_floor_g: float | None = None
    run_shallow_floor_g: float | None = None
    run_min_range_g: float = 0.0
    single_leg: bool = False
    impulse_highpass_hz: float = 8.0
    min_sampling_rate_hz: float = 25.0
    braking_window_steps: tuple[float, float] | None = None
    walking_braking_window_steps: tuple[float, float] | None = None
    propulsion_window_steps: tuple[float, float] | None = None
    gate: GateParams = GateParams()
    source: str = ""


_BODY = DetectorParams(event_signal="vertical", event_lowpass_hz=10.0, period_min_s=0.22, period_max_s=0.75, min_prominence_g=0.35,
                       ic_method="tangent", walking_peak_lag_s=0.055, walking_lowpass_hz=5.0, min_sampling_rate_hz=25.0,
                       braking_window_steps=(0.0, 0.15), walking_braking_window_steps=(0.25, 0.5),
                       source="Auvinet 2002; Patoz 2022; van Oeveren 2018 (autocorrelation cadence)")
_LEG = DetectorParams(event_signal="impulse", event_lowpass_hz=15.0, period_min_s=0.44, period_max_s=1.5, min_prominence_g=0.5,
                      ic_method="peak", peak_lag_s=0.012, single_leg=True, min_sampling_rate_hz=50.0,
                      swing_onset_toe_off=True,
                      braking_window_steps=(-0.3, 0.0), walking_braking_window_steps=(-0.3, 0.0),
                      source="Purcell 2006 / Kiernan 2023 (shank IC at the impact); Gottlieb 2020 (toe, backward)")

DEFAULTS: dict[str, DetectorParams] = {
    "sacrum": replace(_BODY, toe_off_fraction=0.3, flight_floor_g=0.55, walking_min_prominence_g=0.25,
                      run_max_floor_g=0.25),
    "chest": replace(_BODY, toe_off_fraction=0.3, flight_floor_g=0.55, walking_min_prominence_g=0.25,
                     run_max_floor_g=0.25),
    # the thigh's own swing rides on a pocket phone's braking cue: a longer window (chosen on simulated
    # sessions, seeds 7000+, not those benchmarks/direction.py scores) averages more of the braking
    "phone_pocket": replace(_BODY, event_lowpass_hz=20.0, period_lowpass_hz=5.0, min_prominence_g=0.2,
                            braking_window_steps=(0.0, 0.25), run_max_floor_g=-0.5,
                            run_shallow_floor_g=0.0, run_min_range_g=2.7),
    "phone_arm": replace(_BODY, min_prominence_g=0.2, run_max_floor_g=0.35),
    # the forearm, at an extreme of its swing at each running contact, swamps the brake it receives; the
    # push-off (0.35-0.65 of a step, chosen on seeds 7000+) stands clear of it
    "wrist": replace(_BODY, min_prominence_g=0.2, period_highpass_hz=2.0, braking_window_steps=None,
                     propulsion_window_steps=(0.35, 0.65), fill_hidden_walking_steps=True, run_max_floor_g=0.25),
    "shank": _LEG,
    "foot": replace(_LEG, min_prominence_g=1.0, min_sampling_rate_hz=100.0),
}
assert set(DEFAULTS) == set(PLACEMENTS)


def params_for(placement: str, **overrides) -> DetectorParams:
    """The default settings for `placement`, with any field overridden by keyword."""
    check_placement(placement)
    params = DEFAULTS[placement]
    unknown = set(overrides) - set(params.__dataclass_fields__)
    if unknown:
        raise InputError("unknown detector parameter", found=", ".join(sorted(unknown)),
                         expected=", ".join(params.__dataclass_fields__))
    return replace(params, **overrides)
