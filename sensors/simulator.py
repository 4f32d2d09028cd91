"""The gait simulator: accelerometer recordings of running and walking with exact ground truth.

`simulate()` returns a `SimulatedRun`: a `Recording` (specific force in g, gravity included, sensor
frame), a truth table with one row per foot contact, and the simulator's settings. The recording carries
only what a real sensor's file would (placement, rate, range and `device: retrorun simulator`); the
settings, direction and cadence included, go with the truth (`SimulatedRun.save` writes them in the truth
file's header), so an analysis of the recording cannot read the answer back. The model, its sources and
its limits are in docs/simulator.md; the constants below cite it.

How a recording is made:

1. A *plan* of foot contacts (both feet, alternating) is drawn from the gait RNG: a steady run, or a
   whole session (walking warm-up, running bouts with turnarounds, standing rests, walking cool-down).
2. The sensor's specific force is synthesised in the BODY frame (x = AP, positive toward the body's
   front; y = ML, positive to the left; z = vertical, up) at a high internal rate, chunk by chunk:
   trunk forces per contact, limb kinematics per stride, impact kernels at the sensor leg's contacts.
3. A zero-phase anti-alias low-pass (the sensor's own filter) at 0.4 x the output rate; truth
   `impact_g` is read here (noise-free, unclipped, band-limited).
4. Sampling at the (jittered) output instants, dropped samples removed, white noise added (body
   frame), the fixed mounting rotation applied, clipping at +-range_g.

Random streams are independent: the gait (and so the truth) depends only on the seed and the gait
arguments, never on the placement, sampling, noise or rotation. Calling with the same seed and two
rotations gives exactly rotated copies of one signal (apart from clipping); calling with the same seed
and two placements gives the same run seen by two sensors.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import signal
from scipy.interpolate import CubicSpline
from scipy.special import gamma

from .errors import InputError
from .fileformat import atomic_write, read_header
from .recording import PLACEMENTS, Recording
from .units import STANDARD_GRAVITY_MPS2

__all__ = ["TRUTH_COLUMNS", "SimulatedRun", "simulate", "truth_path", "load_truth", "load_settings"]

TRUTH_COLUMNS = ("ic_s", "foot", "toe_off_s", "impact_g", "activity", "direction")
DIRECTIONS = ("forward", "backward")
STRIKES = ("heel", "forefoot")
SENSOR_SIDE = "left"
"""Limb sensors (shank, foot, pocket, wrist, arm) are worn on the left side (docs/simulator.md)."""

MODEL_VERSION = 1
DEVICE = "retrorun simulator"
"""The recording's `device` metadata: the one sign, as in a real device's file, that it is simulated."""
SETTINGS_KEY = "simulator"
"""The truth file's header line holding the settings as JSON: `# simulator: {...}`."""

# --- argument limits -------------------------------------------------------------------------------
MIN_RATE_HZ, MAX_RATE_HZ = 25.0, 1000.0
MIN_CADENCE_SPM, MAX_CADENCE_SPM = 120.0, 250.0
MIN_WALK_CADENCE_SPM, MAX_WALK_CADENCE_SPM = 80.0, 140.0
GAITS = ("run", "walk")
DEFAULT_CADENCE_SPM = {"run": 180.0, "walk": 115.0}
MIN_DURATION_S, MAX_DURATION_S = 2.0, 6 * 3600.0
MIN_SESSION_S = 240.0
MAX_JITTER = 0.5
MAX_DROP_FRACTION = 0.5

# --- synthesis -------------------------------------------------------------------------------------
MIN_INTERNAL_RATE_HZ = 2000.0
"""Synthesis rate: 2 kHz resolves the shortest impact pulse (foot, ~4 ms rise) (assumption)."""
INTERNAL_OVERSAMPLING = 4
"""...and at least 4x the output rate, so interpolating at jittered instants stays accurate."""
ANTI_ALIAS_FRACTION = 0.4
"""The sensor's own low-pass cut-off as a fraction of the output rate (typical MEMS digital filters)."""
ANTI_ALIAS_ORDER = 2
"""Butterworth order per pass; run forward and backward (zero phase), so 4th order in magnitude."""
CHUNK_S = 20.0
MARGIN_S = 1.0
"""Chunks keep memory flat for long sessions; the margin exceeds any swing and the filter's memory."""
IMPACT_WINDOW_S = 0.100
"""Truth impact_g: peak resultant within 0-100 ms after IC (the analyzer's definition)."""

# --- stream ids of the seeded RNGs: np.random.default_rng([seed, stream]) -----------------------------
STREAM_GAIT, STREAM_ROTATION, STREAM_NOISE, STREAM_SAMPLING = 0, 1, 2, 3

# --- gait timing -----------------------------------------------------------------------------------
RUN_DUTY = {"forward": 0.78, "backward": 0.70}
"""Contact time / step period. At 180 spm this gives flight 73 ms (forward) and 100 ms (backward),
Cavagna 2012 (72 vs 98 ms); backward contacts shorter, Wright & Weyand 2001."""
STEP_LENGTH_M = {"forward": 1.00, "backward": 0.70}
"""Sets running speed from cadence: 180 spm -> 3.0 m/s forward, 2.1 m/s backward (70 % of forward,
Sterzing 2016; BR 1.7-2.7 m/s in studies, SCIENCE.md 3.3) (assumption)."""
STEP_CV = 0.025
STEP_AR1 = 0.5
"""Step-period variability: CV 2.5 %, AR(1) 0.5 (stride CV 2-3 % in running; persistence assumed)."""
CONTACT_CV = 0.02
INTENSITY_CV = 0.08
"""Step-to-step variability of contact time and of impact intensity (assumption)."""
WALK_CADENCE_SPM = (110.0, 120.0)
WALK_DUTY_STRIDE = 0.62
"""Walking: each foot on the ground 62 % of the stride, so ~12 % double support (Perry, textbook)."""
WALK_STEP_LENGTH_M = {"forward": 0.70, "backward": 0.50}
"""Forward 0.7 m (1.3 m/s at 115 steps/min); backward strides are shorter at a similar step rate
(Thorstensson 1986; Grasso et al. 1998), 0.5 m is an (assumption)."""
TURN_STEP_S = (0.55, 0.70)
TURN_STEPS = 3
TURN_SPEED_MPS = 0.4
RAMP_UP = ((1.20, 0.60), (1.10, 0.80), (1.04, 0.92))
RAMP_DOWN = ((1.04, 0.90), (1.09, 0.78), (1.17, 0.64), (1.28, 0.50))
"""(step-period factor, speed factor) of the accelerating / slowing steps around stops and turns."""

# --- trunk (sacrum / chest): specific force during stance ---------------------------------------------
AP_PER_SPEED_G = 0.12
"""AP (braking/propulsion) lobe amplitude per m/s: 0.36 g at 3 m/s, 0.16 g walking (assumption)."""
ML_PER_SPEED_G = 0.08
BRAKING_FRACTION = {"forward": 0.50, "backward": 0.60}
"""Share of stance spent braking; backward: slower braking, faster push (Cavagna 2011/2012, Uthoff 2018)."""
HEEL_TRANSIENT_G = {"run": (0.55, -0.30), "walk": (0.15, -0.08)}
"""(vertical, AP) trunk heel-strike transient at 3 m/s (running) / walking, scaled by intensity (assumption)."""
TRUNK_TRANSIENT_PEAK_S = 0.014
WALK_SHAPE_3RD = 0.35
"""Walking vertical force per foot sin(pi u) + 0.35 sin(3 pi u): the double hump, valley ~0.65 of peak."""
RUN_SHAPE_POWER = 1.5
"""Running vertical force sin(pi u)^1.5: peak 2.3 g forward, 2.6 g backward at 180 spm (Cavagna 2012)."""
TRUNK_GAINS = {"sacrum": dict(transient=1.0, ap=1.0, ml=1.0), "chest": dict(transient=0.6, ap=0.8, ml=0.6)}
TURN_CENTRIPETAL_G = 0.3
"""ML centripetal acceleration at the middle of a ~2 s pivot turn (assumption)."""
STAND_SWAY_G = 0.004
"""Largest amplitude of one standing-sway sinusoid (postural sway is a few mg) (assumption)."""

# --- limbs ---------------------------------------------------------------------------------------------
SWING_HEIGHT_PER_SPEED_S = 0.12
"""Foot lift in swing, metres per m/s of speed: 0.36 m at 3 m/s, 0.16 m walking (assumption)."""
LEG_SCALE = {"foot": (1.0, 1.0), "shank": (0.65, 0.6)}
"""(AP, vertical) excursion of the sensor relative to the foot's (distal third of the tibia)."""
SWING_TRANSMISSION = {"foot": 0.25, "shank": 0.35}
"""Fraction of the trunk's acceleration reaching the swinging leg: the contralateral contact bump."""
ARM_TRANSMISSION = {"wrist": 0.6, "phone_arm": 0.8}
"""Fraction of the trunk's acceleration reaching the sensor through the shoulder (assumption)."""
THIGH_RADIUS_M = 0.20
"""Front trouser pocket: 20 cm below the hip joint on the thigh (assumption)."""
PRE_IMPACT_S = 0.10
"""Late-swing downward acceleration that gives the foot the velocity the impact removes (zero net)."""
REBOUND = (0.30, 1.5)
"""Impact kernel rebound: -0.3 x a pulse 1.5x wider, delayed 1.5 peak times (soft-tissue recoil)."""

# impact direction in the segment frame (AP, ML, axial), AP sign for forward running; backward mirrors AP
IMPACT_DIRECTION = {"run_heel": (-0.45, 0.15, 0.88), "run_forefoot": (-0.60, 0.30, 0.74),
                    "walk": (-0.40, 0.10, 0.91), "walk_toe": (-0.40, 0.10, 0.91)}
IMPACT_PEAK_S = {"run_heel": 0.012, "run_forefoot": 0.018, "walk": 0.016, "walk_toe": 0.024}
"""Time from IC to the peak of the tibial impact pulse; toe-first landings load more slowly (assumption;
toe-first walking, as backward, by the running ratio 18/12)."""
IMPACT_GAIN = {"shank": 1.0, "foot": 2.5, "phone_pocket": 0.4}
"""Impact pulse relative to the tibia: foot 2-4x (SCIENCE.md section 6, Cheung 2019), thigh attenuated."""
IMPACT_PEAK_FACTOR = {"shank": 1.0, "foot": 0.6, "phone_pocket": 1.2}
"""Pulse duration relative to the tibia: sharper at the foot, smoother up the leg (assumption)."""

# stride-phase keyframes (phase from own IC, degrees): segment pitch, positive = distal end forward
# (foot: toes up). Periodic cubic splines through these; see docs/simulator.md for the reasoning.
PITCH_KEYFRAMES_DEG = {
    "shank": {
        "run_heel": ((0.0, 8), (0.20, -15), (0.39, -40), (0.55, -70), (0.80, 10), (0.92, 20)),
        "run_forefoot": ((0.0, 2), (0.20, -18), (0.39, -42), (0.55, -70), (0.80, 8), (0.92, 14)),
        "run_backward": ((0.0, -20), (0.18, -2), (0.35, 15), (0.50, -10), (0.70, -50), (0.88, -32)),
        "walk": ((0.0, 5), (0.30, -10), (0.62, -35), (0.72, -45), (0.90, 15)),
    },
    "foot": {
        "run_heel": ((0.0, 15), (0.10, 0), (0.25, -10), (0.39, -35), (0.55, -60), (0.80, 5), (0.92, 20)),
        "run_forefoot": ((0.0, -8), (0.08, 0), (0.25, -10), (0.39, -38), (0.55, -60), (0.80, 0), (0.92, 5)),
        "run_backward": ((0.0, -20), (0.10, 0), (0.35, 10), (0.55, -30), (0.85, -35)),
        "walk": ((0.0, 15), (0.12, 0), (0.45, -5), (0.62, -30), (0.75, -10), (0.92, 20)),
    },
    "phone_pocket": {
        "run_heel": ((0.0, 25), (0.20, 5), (0.42, -17), (0.65, 15), (0.85, 38)),
        "run_forefoot": ((0.0, 25), (0.20, 5), (0.42, -17), (0.65, 15), (0.85, 38)),
        "run_backward": ((0.0, -12), (0.18, 5), (0.35, 20), (0.50, 15), (0.75, -15), (0.90, -22)),
        "walk": ((0.0, 20), (0.30, 0), (0.55, -12), (0.75, 10), (0.88, 25)),
    },
}


def _time_reversed(frames, toe_off_phase: float):
    """Keyframes of a stride played backward, re-phased so that 0 is again the contact: backward walking
    is close to forward walking reversed in time, joint by joint (Winter, Pluck & Yang 1989; Thorstensson
    1986). Its contact is the reversed toe-off, toes down with the foot behind the body."""
    return tuple(sorted(((toe_off_phase - phase) % 1.0, value) for phase, value in frames))


for _segment in PITCH_KEYFRAMES_DEG.values():
    _segment["walk_backward"] = _time_reversed(_segment["walk"], WALK_DUTY_STRIDE)

ARM_SWING_DEG = {"run": 20.0, "walk": 15.0}
"""Shoulder swing amplitude, running / walking (assumption; gives the +-1-2 g of the brief at the wrist)."""
ELBOW_FLEXION_DEG = {"run": 75.0, "walk": 15.0}
"""Elbow flexion: runners carry the forearm near horizontal; walkers let it hang (assumption)."""
UPPER_ARM_M, FOREARM_M, ARMBAND_M = 0.30, 0.25, 0.15
"""Shoulder-elbow and elbow-wrist lengths, armband distance from the shoulder (adult anthropometry)."""
ARM_FORWARD_PHASE = {"forward": 0.50, "backward": 0.85}
"""Left-stride phase at which the left arm is most anterior: when the right foot is most anterior,
at right IC running forward, at right toe-off running backward (assumption). Walking forward: 0.5 too;
walking backward: the reversal of that (WALK_DUTY_STRIDE - 0.5, at right toe-off)."""
PARAMETER_BLEND_S = 0.15
"""Per-stride limb parameters (run/walk keyframes, angle scale) cross-fade over 3 x 0.15 s boxes."""
TURN_ANGLE_SCALE = 0.6


# ======================================================================================================
# public API
# ======================================================================================================

@dataclass
class SimulatedRun:
    """A simulated recording and its ground truth.

    `truth` has one row per foot contact (both feet), sorted by `ic_s`, columns TRUTH_COLUMNS:
    `ic_s`, `toe_off_s` (s, the recording's time base), `foot` ("left"/"right"), `impact_g` (peak
    resultant at the sensor within 100 ms of IC, noise-free and unclipped), `activity` ("run", "walk",
    "turn"; suffixed "_in_gap" inside a burst of dropped samples) and `direction` ("forward"/"backward").

    `settings` (JSON-serialisable) holds every argument, resolved, and what the simulator derived from them
    (rotation matrix, speeds, dropped bursts, a session's schedule, ...; docs/simulator.md). They belong to
    the truth: the recording's metadata holds only `device` and `range_g`, as a real sensor's file would.
    """

    recording: Recording
    truth: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def save(self, path) -> None:
        """Write the recording (canonical CSV or .npz by suffix) and `<stem>.truth.csv` beside it, the
        settings in the truth file's header."""
        path = Path(path)
        self.recording.save(path)
        atomic_write(truth_path(path), truth_csv_text(self.truth, self.settings).encode())


def truth_path(path) -> Path:
    """Where the truth of a recording file lives: run.csv -> run.truth.csv."""
    path = Path(path)
    return path.with_name(path.stem + ".truth.csv") if path.suffix else path.with_name(path.name + ".truth.csv")


def truth_csv_text(truth: pd.DataFrame, settings: dict | None = None) -> str:
    """The truth table as CSV: times with 4 decimals, impact_g with 3; with `settings`, a first line
    `# simulator: {...}` (JSON) holds them (read them with `load_settings`; pandas: `comment="#"`)."""
    frame = truth.loc[:, list(TRUTH_COLUMNS)].copy()
    for column in ("ic_s", "toe_off_s"):
        frame[column] = frame[column].map("{:.4f}".format)
    frame["impact_g"] = frame["impact_g"].map("{:.3f}".format)
    head = f"# {SETTINGS_KEY}: {json.dumps(settings)}\n" if settings else ""
    return head + frame.to_csv(index=False, lineterminator="\n")


def _truth_file(path) -> Path:
    path = Path(path)
    if not path.name.endswith(".truth.csv"):
        path = truth_path(path)
    if not path.exists():
        raise InputError("no such truth file", path=path)
    return path


def load_truth(path) -> pd.DataFrame:
    """Read a truth file written by `SimulatedRun.save` (pass the truth file or the recording)."""
    path = _truth_file(path)
    _, header_lines = read_header(path)
    frame = pd.read_csv(path, skiprows=header_lines)
    missing = [c for c in TRUTH_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError("not a truth file", path=path, found=",".join(frame.columns),
                         expected=",".join(TRUTH_COLUMNS))
    return frame


def load_settings(path) -> dict:
    """The simulator's settings from a truth file's header (pass the truth file or the recording): the
    `SimulatedRun.settings` it was written with; {} for a truth file written without them."""
    path = _truth_file(path)
    header, _ = read_header(path)
    text = header.get(SETTINGS_KEY)
    if text is None:
        return {}
    try:
        settings = json.loads(text)
    except ValueError:
        settings = None
    if not isinstance(settings, dict):
        raise InputError("unreadable simulator settings", path=path, found=text[:40],
                         expected="# simulator: followed by a JSON object")
    return settings


def simulate(placement: str, direction: str = "backward", cadence_spm: float | None = None,
             sampling_rate_hz: float = 200.0, duration_s: float = 60.0, seed: int = 0, *,
             session: bool = False, gait: str = "run", strike: str | None = None,
             rotation: np.ndarray | str | None = "random", range_g: float = 16.0, noise_g: float = 0.01,
             jitter: float = 0.0, drop_fraction: float = 0.0) -> SimulatedRun:
    """Simulate a run, a walk or a whole interval session as one accelerometer sees it, with ground truth.

    placement: shank, foot, sacrum, chest, wrist, phone_pocket or phone_arm (limbs: left side).
    direction: "forward" or "backward" (the running bouts of a session; a walk's direction).
    cadence_spm: steps per minute: running 120-250 (default 180), walking 80-140 (default 115).
    sampling_rate_hz: output rate, 25-1000.
    duration_s: length of the recording (a session: its total, at least 240 s).
    seed: non-negative integer; the same arguments give bit-identical output.
    session: warm-up walk, backward (or forward) running bouts with turnarounds, standing rests,
        cool-down walk.
    gait: "run" or "walk" (a steady walk; backward it lands toe-first). Not with session.
    strike: running only: "heel" or "forefoot"; default heel forward, forefoot backward (backward is
        always toe-first).
    rotation: "random" (uniform, from RNG [seed, 1]), None (sensor frame = body frame: x AP forward,
        y ML left, z up) or a 3x3 rotation matrix R with acc_sensor = acc_body @ R.T.
    range_g: clipping at +-range_g per sensor axis. noise_g: white noise std per axis (body frame).
    jitter: timestamp jitter, std as a fraction of the nominal period (0-0.5); times are exact.
    drop_fraction: fraction of single samples dropped at random (0-0.5); sessions also get two
        bursts of 0.1-0.5 s of dropped samples.
    """
    args = _validate(placement, direction, cadence_spm, sampling_rate_hz, duration_s, seed, session, gait, strike,
                     rotation, range_g, noise_g, jitter, drop_fraction)
    gait_rng = np.random.default_rng([args.seed, STREAM_GAIT])
    if args.session:
        plan = _plan_session(gait_rng, args)
    else:
        plan = _plan_steady_run(gait_rng, args)
    rotation_matrix = _resolve_rotation(rotation, args.seed)

    sampling_rng = np.random.default_rng([args.seed, STREAM_SAMPLING])
    time_s, bursts = _sample_instants(sampling_rng, args, plan)
    clean_body_g, impact_g = _render(plan, args, time_s)

    noise_rng = np.random.default_rng([args.seed, STREAM_NOISE])
    body_g = clean_body_g + noise_rng.normal(0.0, 1.0, clean_body_g.shape) * args.noise_g
    sensor_g = body_g @ rotation_matrix.T
    clipped = np.abs(sensor_g) > args.range_g
    sensor_g = np.clip(sensor_g, -args.range_g, args.range_g)

    truth = _truth_frame(plan, impact_g, bursts, float(time_s[-1]))
    # what a real sensor's file states (docs/recording-format.md); the settings stay with the truth
    metadata = {"device": DEVICE, "range_g": args.range_g}
    recording = Recording(time_s=time_s, acc_g=sensor_g, placement=args.placement,
                          sampling_rate_hz=args.sampling_rate_hz, metadata=metadata)
    return SimulatedRun(recording=recording, truth=truth,
                        settings=_settings(args, rotation, rotation_matrix, plan, bursts, clipped))


# ======================================================================================================
# arguments
# ======================================================================================================

@dataclass(frozen=True)
class _Args:
    placement: str
    direction: str
    cadence_spm: float
    sampling_rate_hz: float
    duration_s: float
    seed: int
    session: bool
    gait: str
    strike: str
    range_g: float
    noise_g: float
    jitter: float
    drop_fraction: float


def _number(name: str, value, low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> float:
    """`value` as a float within [low, high] (open ends where asked), else an InputError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"{name} must be a number", found=repr(value))
    value = float(value)
    below = value <= low if low_open else value < low
    above = value >= high if high_open else value > high
    if not math.isfinite(value) or below or above:
        bounds = ("(" if low_open else "[") + f"{low:g}, {high:g}" + (")" if high_open else "]")
        raise InputError(f"{name} out of range", found=repr(value), expected=f"a number in {bounds}")
    return value


def _cadence(cadence_spm, gait: str) -> float:
    if cadence_spm is None:
        return DEFAULT_CADENCE_SPM[gait]
    if gait == "walk":
        return _number("cadence_spm", cadence_spm, MIN_WALK_CADENCE_SPM, MAX_WALK_CADENCE_SPM)
    return _number("cadence_spm", cadence_spm, MIN_CADENCE_SPM, MAX_CADENCE_SPM)


def _validate(placement, direction, cadence_spm, sampling_rate_hz, duration_s, seed, session, gait, strike, rotation,
              range_g, noise_g, jitter, drop_fraction) -> _Args:
    if placement not in PLACEMENTS:
        raise InputError("unknown placement", found=repr(placement), expected="one of " + ", ".join(PLACEMENTS))
    if direction not in DIRECTIONS:
        raise InputError("unknown direction", found=repr(direction), expected="forward or backward")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError("seed must be a non-negative integer", found=repr(seed))
    if not isinstance(session, (bool, np.bool_)):
        raise InputError("session must be True or False", found=repr(session))
    if gait not in GAITS:
        raise InputError("unknown gait", found=repr(gait), expected="run or walk")
    if gait == "walk" and session:
        raise InputError("a session is a run with its walks; a walk cannot be one", found="gait='walk' with session",
                         expected="gait='run' for a session")
    if gait == "walk" and strike is not None:
        raise InputError("a walk's landing follows its direction (heel first forward, toe first backward)",
                         found=f"strike={strike!r} with gait='walk'", expected="strike=None")
    if gait == "walk":
        strike = "heel" if direction == "forward" else "forefoot"
    elif strike is None:
        strike = "heel" if direction == "forward" else "forefoot"
    elif strike not in STRIKES:
        raise InputError("unknown strike", found=repr(strike), expected="heel, forefoot or None")
    elif direction == "backward" and strike == "heel":
        raise InputError("backward running lands toe-first (Cavagna 2011/2012); a heel strike cannot be simulated",
                         found="strike='heel' with direction='backward'", expected="strike='forefoot' or None")
    min_duration = MIN_SESSION_S if session else MIN_DURATION_S
    duration = _number("duration_s", duration_s, min_duration, MAX_DURATION_S)
    if isinstance(rotation, str) and rotation != "random":
        raise InputError("unknown rotation", found=repr(rotation), expected="'random', None or a 3x3 rotation matrix")
    return _Args(placement=placement, direction=direction,
                 cadence_spm=_cadence(cadence_spm, gait),
                 sampling_rate_hz=_number("sampling_rate_hz", sampling_rate_hz, MIN_RATE_HZ, MAX_RATE_HZ),
                 duration_s=duration, seed=int(seed), session=bool(session), gait=gait, strike=strike,
                 range_g=_number("range_g", range_g, 1.0, 1000.0, low_open=True),
                 noise_g=_number("noise_g", noise_g, 0.0, 1.0),
                 jitter=_number("jitter", jitter, 0.0, MAX_JITTER),
                 drop_fraction=_number("drop_fraction", drop_fraction, 0.0, MAX_DROP_FRACTION, high_open=True))


def _resolve_rotation(rotation, seed: int) -> np.ndarray:
    """The 3x3 matrix R mapping body-frame vectors to sensor-frame coordinates (acc_sensor = acc_body @ R.T)."""
    if rotation is None:
        return np.eye(3)
    if isinstance(rotation, str):
        return _random_rotation(np.random.default_rng([seed, STREAM_ROTATION]))
    try:
        matrix = np.array(rotation, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("rotation must be 'random', None or a 3x3 matrix", found=type(rotation).__name__) from None
    if matrix.shape != (3, 3) or not np.isfinite(matrix).all():
        raise InputError("rotation matrix has the wrong shape", found=f"shape {matrix.shape}", expected="(3, 3)")
    if not np.allclose(matrix @ matrix.T, np.eye(3), atol=1e-6) or np.linalg.det(matrix) < 0:
        raise InputError("not a rotation matrix", found=f"det {np.linalg.det(matrix):.3g}",
                         expected="orthonormal with determinant +1")
    return matrix


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A rotation uniform on SO(3): a normalised 4-D Gaussian is a uniform unit quaternion."""
    w, x, y, z = _unit(rng.normal(size=4))
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


# ======================================================================================================
# the plan: foot contacts and what happens between them
# ======================================================================================================

@dataclass
class _Plan:
    """All contacts (both feet) plus the periods of standing and turning; arrays are sorted by ic_s."""

    ic_s: np.ndarray
    contact_s: np.ndarray
    impulse_s: np.ndarray        # time the contact supports the body for: its step period
    left: np.ndarray             # bool
    direction: np.ndarray        # +1 forward, -1 backward (progression toward -AP)
    walking: np.ndarray          # bool: walking mechanics (walk, turn)
    heel: np.ndarray             # bool: heel strike
    speed_mps: np.ndarray
    intensity: np.ndarray        # step-to-step impact variability x ramps
    angle_scale: np.ndarray      # limb angle amplitude (turn steps are small)
    activity: np.ndarray         # object: "run", "walk", "turn"
    stand: list[tuple[float, float]] = field(default_factory=list)
    turns: list[tuple[float, float, float]] = field(default_factory=list)   # (start_s, end_s, sign)
    bouts: list[tuple[float, float]] = field(default_factory=list)
    schedule: list[dict] = field(default_factory=list)
    sway: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))        # (axis, amp_g, freq_hz, phase)

    @property
    def toe_off_s(self) -> np.ndarray:
        return self.ic_s + self.contact_s


class _ContactList:
    """Collects contacts in time order; feet alternate in the order they are added."""

    def __init__(self, rng: np.random.Generator, first_left: bool):
        self.rng = rng
        self.rows: list[tuple] = []
        self.next_left = first_left

    def add(self, ic_s, contact_s, direction, walking, heel, speed_mps, intensity, angle_scale, activity):
        self.rows.append((ic_s, contact_s, self.next_left, direction, walking, heel, speed_mps, intensity,
                          angle_scale, activity))
        self.next_left = not self.next_left

    def step_noise(self, n: int) -> np.ndarray:
        """Relative step-period deviations: AR(1) with marginal std STEP_CV (gait has persistence)."""
        white = self.rng.normal(size=n) * STEP_CV * math.sqrt(1 - STEP_AR1 ** 2)
        return signal.lfilter([1.0], [1.0, -STEP_AR1], white)

    def intensities(self, n: int) -> np.ndarray:
        sigma = math.sqrt(math.log(1 + INTENSITY_CV ** 2))
        return np.exp(self.rng.normal(size=n) * sigma - sigma ** 2 / 2)

    def running(self, t_s: float, period_factors, speed_factors, cadence_spm: float, direction: str,
                heel: bool, activity: str = "run") -> float:
        """Running steps from t_s with the given per-step factors; returns the time after the last step."""
        period_factors = np.asarray(period_factors, dtype=float)
        n = len(period_factors)
        # centred on its median: the requested cadence is the run's median cadence, even over a short run
        noise = self.step_noise(n)
        step_s = 60.0 / cadence_spm * period_factors * (1 + noise - np.median(noise))
        contact_noise = np.clip(self.rng.normal(size=n) * CONTACT_CV, -2.5 * CONTACT_CV, 2.5 * CONTACT_CV)
        contact_s = RUN_DUTY[direction] * step_s * (1 + contact_noise)
        speed_mps = cadence_spm / 60.0 * STEP_LENGTH_M[direction] * np.asarray(speed_factors, dtype=float)
        intensity = self.intensities(n) * np.asarray(speed_factors, dtype=float) ** 0.5
        sign = 1 if direction == "forward" else -1
        for k in range(n):
            self.add(t_s, contact_s[k], sign, False, heel, speed_mps[k], intensity[k], 1.0, activity)
            t_s += step_s[k]
        return t_s

    def walking(self, t_s: float, until_s: float, cadence_spm: float, direction: str = "forward") -> float:
        """Walking steps from t_s while they start before until_s; returns the time after the last step.
        Backward walking lands toe-first."""
        step_nominal_s = 60.0 / cadence_spm
        n = max(0, int((until_s - t_s) / step_nominal_s))
        step_s = step_nominal_s * (1 + 0.8 * self.step_noise(n))
        contact_s = WALK_DUTY_STRIDE * 2 * step_s * (1 + self.rng.normal(size=n) * CONTACT_CV)
        speed_mps = cadence_spm / 60.0 * WALK_STEP_LENGTH_M[direction]
        intensity = self.intensities(n)
        forward = direction == "forward"
        for k in range(n):
            self.add(t_s, contact_s[k], 1 if forward else -1, True, forward, speed_mps, intensity[k], 1.0, "walk")
            t_s += step_s[k]
        return t_s

    def turning(self, t_s: float, direction: str) -> float:
        """A pivot turn: a few short, slow, walking-like steps labelled 'turn'."""
        step_s = self.rng.uniform(*TURN_STEP_S, size=TURN_STEPS)
        sign = 1 if direction == "forward" else -1
        for k in range(TURN_STEPS):
            self.add(t_s, WALK_DUTY_STRIDE * 2 * step_s[k], sign, True, False, TURN_SPEED_MPS,
                     0.5 * self.intensities(1)[0], TURN_ANGLE_SCALE, "turn")
            t_s += step_s[k]
        return t_s

    def plan(self, **extra) -> _Plan:
        rows = sorted(self.rows, key=lambda r: r[0])
        cols = list(zip(*rows)) if rows else [()] * 10
        ic_s = np.array(cols[0], dtype=float)
        contact_s = np.array(cols[1], dtype=float)
        impulse_s = np.diff(ic_s, append=np.nan)
        # the last contact of a sequence carries its own nominal step (no successor to measure it by)
        walking = np.array(cols[4], dtype=bool)
        run_duty = np.where(np.array(cols[3], dtype=float) < 0, RUN_DUTY["backward"], RUN_DUTY["forward"])
        nominal = contact_s / np.where(walking, 2 * WALK_DUTY_STRIDE, run_duty)
        long_gap = ~(impulse_s < 1.6 * nominal)
        impulse_s = np.where(long_gap, nominal, impulse_s)
        return _Plan(ic_s=ic_s, contact_s=contact_s, impulse_s=impulse_s, left=np.array(cols[2], dtype=bool),
                     direction=np.array(cols[3], dtype=float), walking=np.array(cols[4], dtype=bool),
                     heel=np.array(cols[5], dtype=bool), speed_mps=np.array(cols[6], dtype=float),
                     intensity=np.array(cols[7], dtype=float), angle_scale=np.array(cols[8], dtype=float),
                     activity=np.array(cols[9], dtype=object), **extra)


def _plan_steady_run(rng: np.random.Generator, args: _Args) -> _Plan:
    """Steady running (or walking) over the whole recording: contacts start before t=0 so sample 0 is
    mid-stride."""
    contacts = _ContactList(rng, first_left=bool(rng.integers(2)))
    step_s = 60.0 / args.cadence_spm
    t0_s = -2.0 - rng.uniform(0, step_s)
    n = int((args.duration_s + 2.0 - t0_s) / step_s) + 4
    if args.gait == "walk":
        contacts.walking(t0_s, t0_s + n * step_s, args.cadence_spm, args.direction)
    else:
        contacts.running(t0_s, np.ones(n), np.ones(n), args.cadence_spm, args.direction, args.strike == "heel")
    schedule = [{"activity": args.gait, "direction": args.direction, "start_s": 0.0, "end_s": args.duration_s}]
    return contacts.plan(bouts=[(0.0, args.duration_s)], schedule=schedule, sway=_sway(rng))


def _sway(rng: np.random.Generator) -> np.ndarray:
    """Standing postural sway: a few slow sinusoids per horizontal axis (AP, ML), a few mg (assumption)."""
    rows = [(axis, STAND_SWAY_G * rng.uniform(0.3, 1.0), rng.uniform(0.1, 0.6), rng.uniform(0, 2 * np.pi))
            for axis in (0, 1) for _ in range(3)]
    return np.array(rows)


def _plan_session(rng: np.random.Generator, args: _Args) -> _Plan:
    """Warm-up walk, running bouts (with turnarounds) separated by standing rests, cool-down walk."""
    total_s = args.duration_s
    heel = args.strike == "heel"
    contacts = _ContactList(rng, first_left=bool(rng.integers(2)))
    walk_spm = rng.uniform(*WALK_CADENCE_SPM)
    warm_s = min(rng.uniform(120, 180), 0.25 * total_s)
    cool_s = min(rng.uniform(60, 90), 0.12 * total_s)
    start_s, settle_s = 1.0, 10.0
    schedule: list[dict] = []
    stand: list[tuple[float, float]] = []
    turns: list[tuple[float, float, float]] = []
    bouts: list[tuple[float, float]] = []

    def note(activity, a, b, direction=None):
        schedule.append({"activity": activity, "direction": direction, "start_s": round(a, 3), "end_s": round(b, 3)})

    stand.append((-MARGIN_S * 2, start_s))
    note("stand", 0.0, start_s)
    t = contacts.walking(start_s, start_s + warm_s, walk_spm)
    note("walk", start_s, t, "forward")
    middle_s = total_s - cool_s - 1.0 - t - 2 * settle_s
    n_bouts = max(1, int((middle_s + 45.0) // (90.0 + 45.0)))
    rests_s = rng.uniform(30.0, 60.0, size=n_bouts - 1)
    weights = rng.uniform(0.8, 1.2, size=n_bouts)
    bouts_s = (middle_s - rests_s.sum()) * weights / weights.sum()
    rest_before_s = settle_s
    for i, bout_s in enumerate(bouts_s):
        begin_s = t + rest_before_s
        stand.append((t, begin_s))
        note("stand", t, begin_s)
        t = _run_bout(contacts, rng, begin_s, begin_s + bout_s, args, heel, turns)
        bouts.append((begin_s, t))
        note("run", begin_s, t, args.direction)
        rest_before_s = rests_s[i] if i < len(rests_s) else settle_s
    begin_s = t + settle_s
    stand.append((t, begin_s))
    note("stand", t, begin_s)
    t = contacts.walking(begin_s, total_s - 1.0, walk_spm)
    note("walk", begin_s, t, "forward")
    stand.append((t, total_s + 2 * MARGIN_S))
    note("stand", t, total_s)
    for a, b, _ in turns:
        note("turn", a, b, args.direction)
    schedule.sort(key=lambda s: s["start_s"])
    plan = contacts.plan(stand=stand, turns=turns, bouts=bouts, schedule=schedule, sway=_sway(rng))
    # a rest starts when the last foot leaves the ground, not at its IC
    plan.stand = [(_after_last_contact(plan, a), b) for a, b in stand]
    return plan


def _after_last_contact(plan: _Plan, t_s: float) -> float:
    before = plan.ic_s <= t_s
    return float(plan.toe_off_s[before].max()) if before.any() and t_s > 0 else t_s


def _run_bout(contacts: _ContactList, rng, begin_s: float, end_s: float, args: _Args, heel: bool,
              turns: list) -> float:
    """Straight stretches of 25-35 s (out and back on a path) joined by pivot turns; returns the end time."""
    step_s = 60.0 / args.cadence_spm
    t = begin_s
    while True:
        stretch_s = rng.uniform(25.0, 35.0)
        last = end_s - t < stretch_s + 20.0
        if last:
            stretch_s = end_s - t
        ramp_s = step_s * (sum(p for p, _ in RAMP_UP) + sum(p for p, _ in RAMP_DOWN))
        n_steady = max(4, int((stretch_s - ramp_s) / step_s))
        factors = list(RAMP_UP) + [(1.0, 1.0)] * n_steady + list(RAMP_DOWN)
        t = contacts.running(t, [p for p, _ in factors], [s for _, s in factors], args.cadence_spm,
                             args.direction, heel)
        if last:
            return t
        turn_start_s = t
        t = contacts.turning(t, args.direction)
        turns.append((turn_start_s - 0.2, t, float(rng.choice([-1.0, 1.0]))))


# ======================================================================================================
# sampling instants
# ======================================================================================================

def _sample_instants(rng: np.random.Generator, args: _Args, plan: _Plan):
    """Output instants (s): nominal grid plus jitter, minus dropped samples and bursts. Sample 0 is at 0."""
    n = int(round(args.duration_s * args.sampling_rate_hz))
    offsets = np.clip(rng.normal(size=n) * args.jitter, -0.49, 0.49) if args.jitter > 0 else np.zeros(n)
    offsets[0] = 0.0
    time_s = (np.arange(n) + offsets) / args.sampling_rate_hz
    keep = rng.random(n) >= args.drop_fraction
    bursts: list[tuple[float, float]] = []
    if args.session and args.drop_fraction > 0 and plan.bouts:
        for _ in range(2):
            a, b = plan.bouts[int(rng.integers(len(plan.bouts)))]
            length_s = rng.uniform(0.1, 0.5)
            start_s = rng.uniform(a + 5.0, max(a + 5.0, b - 5.0 - length_s))
            bursts.append((float(start_s), float(start_s + length_s)))
            keep &= ~((time_s >= start_s) & (time_s < start_s + length_s))
    keep[0] = True
    return time_s[keep], sorted(bursts)


# ======================================================================================================
# rendering: body-frame specific force at the output instants
# ======================================================================================================

def _internal_rate_hz(args: _Args) -> float:
    return max(MIN_INTERNAL_RATE_HZ, INTERNAL_OVERSAMPLING * args.sampling_rate_hz)


def _render(plan: _Plan, args: _Args, time_s: np.ndarray):
    """Noise-free body-frame specific force at `time_s` and truth impact_g per contact, chunk by chunk."""
    fs = _internal_rate_hz(args)
    sos = signal.butter(ANTI_ALIAS_ORDER, ANTI_ALIAS_FRACTION * args.sampling_rate_hz, fs=fs, output="sos")
    out = np.empty((len(time_s), 3))
    impact_g = np.full(len(plan.ic_s), np.nan)
    legs = _LegCycles.build(plan, left=SENSOR_SIDE == "left")
    end_s = float(time_s[-1]) + 1.0 / args.sampling_rate_hz
    margin = int(MARGIN_S * fs)
    for core_start_s in np.arange(0.0, end_s, CHUNK_S):
        j0 = int(round(core_start_s * fs))
        j1 = int(round(min(core_start_s + CHUNK_S, end_s) * fs))
        grid_j = np.arange(j0 - margin, j1 + margin)
        t = grid_j / fs
        body = signal.sosfiltfilt(sos, _body_specific_force(t, fs, plan, legs, args.placement), axis=0)
        # the samples and the contacts whose time belongs to this chunk's core
        pick = (time_s >= j0 / fs) & (time_s < j1 / fs)
        for axis in range(3):
            out[pick, axis] = np.interp(time_s[pick], t, body[:, axis])
        mine = (plan.ic_s >= j0 / fs) & (plan.ic_s < j1 / fs)
        impact_g[mine] = _peak_after(np.linalg.norm(body, axis=1), t[0], fs, plan.ic_s[mine], IMPACT_WINDOW_S)
    return out, impact_g


def _peak_after(magnitude: np.ndarray, t0_s: float, fs: float, events_s: np.ndarray, window_s: float):
    """Max of `magnitude` (grid from t0_s at fs) within [event, event + window] for each event."""
    if len(events_s) == 0:
        return np.zeros(0)
    first = np.ceil((events_s - t0_s) * fs - 1e-9).astype(np.int64)
    idx = first[:, None] + np.arange(int(window_s * fs) + 1)
    return magnitude[np.clip(idx, 0, len(magnitude) - 1)].max(axis=1)


def _body_specific_force(t: np.ndarray, fs: float, plan: _Plan, legs: "_LegCycles", placement: str) -> np.ndarray:
    """Specific force (g) in the placement's body frame on the uniform grid t (before the sensor filter)."""
    if placement in TRUNK_GAINS:
        return _trunk(t, fs, plan, **TRUNK_GAINS[placement])
    trunk = _trunk(t, fs, plan, **TRUNK_GAINS["sacrum"])
    if placement in ("shank", "foot"):
        return _leg(t, fs, plan, legs, trunk, placement)
    if placement == "phone_pocket":
        return _thigh(t, fs, plan, legs, trunk)
    return _arm(t, fs, plan, legs, trunk, placement)


# ---------------------------------------------------------------------------------------------------
# helpers: shapes and scattering per-contact kernels onto the grid
# ---------------------------------------------------------------------------------------------------

def _pulse(tau_s: np.ndarray, peak_s) -> np.ndarray:
    """Unit-peak impact pulse x^2 exp(2(1-x)), x = tau/peak, zero before 0; integral e^2/4 x peak_s."""
    x = np.maximum(tau_s, 0.0) / peak_s
    return x * x * np.exp(2.0 * (1.0 - x))


PULSE_AREA = math.e ** 2 / 4
"""Integral of `_pulse` per second of peak time."""


def _smootherstep(u: np.ndarray) -> np.ndarray:
    """0 -> 1 with zero first and second derivatives at both ends (no kinks in accelerations)."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * u * (u * (6 * u - 15) + 10)


def _window(t: np.ndarray, fs: float, start_s: np.ndarray, length_s: float):
    """Grid indices (m, L) covering [start, start+length] per event, their times, and which are on the grid."""
    length = int(np.ceil(length_s * fs)) + 2
    j = np.floor((start_s - t[0]) * fs).astype(np.int64)[:, None] + np.arange(length)
    valid = (j >= 0) & (j < len(t))
    times = t[0] + j / fs
    return j, times, valid


def _scatter(n: int, j: np.ndarray, valid: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum kernel values onto a grid of n samples (overlapping kernels add)."""
    return np.bincount(j[valid], weights=values[valid], minlength=n)


def _active(plan: _Plan, t: np.ndarray, before_s: float, after_s: float, mask=None) -> np.ndarray:
    """Indices of contacts whose kernels [ic - before, ic + after] touch the grid t."""
    touch = (plan.ic_s + after_s >= t[0]) & (plan.ic_s - before_s <= t[-1])
    if mask is not None:
        touch &= mask
    return np.flatnonzero(touch)


# ---------------------------------------------------------------------------------------------------
# trunk
# ---------------------------------------------------------------------------------------------------

_RUN_SHAPE_MEAN = gamma((RUN_SHAPE_POWER + 1) / 2) / (math.sqrt(math.pi) * gamma(RUN_SHAPE_POWER / 2 + 1))
_WALK_SHAPE_MEAN = 2 / math.pi + WALK_SHAPE_3RD * 2 / (3 * math.pi)


def _trunk(t: np.ndarray, fs: float, plan: _Plan, transient: float, ap: float, ml: float) -> np.ndarray:
    """Specific force of the trunk (g, body frame): stance forces of both feet, standing support, turns.

    Each contact's vertical impulse equals its step period x 1 g, so the mean over a stride is 1 g (the
    body neither rises nor falls); AP braking and propulsion cancel (constant speed).
    """
    n = len(t)
    out = np.zeros((n, 3))
    out[:, 2] += _standing_support(t, plan.stand)
    out[:, :2] += _standing_sway(t, plan)
    out[:, 1] += _turn_centripetal(t, plan.turns)
    longest_s = float(plan.contact_s.max()) if len(plan.contact_s) else 0.0
    k = _active(plan, t, 0.0, longest_s)
    if len(k) == 0:
        return out
    j, times, valid = _window(t, fs, plan.ic_s[k], longest_s)
    u = (times - plan.ic_s[k, None]) / plan.contact_s[k, None]
    inside = valid & (u >= 0) & (u <= 1)
    walking = plan.walking[k, None]
    run_shape = np.sin(np.pi * np.clip(u, 0, 1)) ** RUN_SHAPE_POWER
    walk_shape = np.sin(np.pi * u) + WALK_SHAPE_3RD * np.sin(3 * np.pi * u)
    shape = np.where(walking, walk_shape, run_shape)
    mean = np.where(plan.walking[k], _WALK_SHAPE_MEAN, _RUN_SHAPE_MEAN)

    # heel-strike transient (vertical up, AP braking), part of the same vertical impulse
    kind = np.where(plan.walking[k], "walk", "run")
    transient_v = np.array([HEEL_TRANSIENT_G[x][0] for x in kind]) * plan.heel[k] * transient
    transient_ap = np.array([HEEL_TRANSIENT_G[x][1] for x in kind]) * plan.heel[k] * transient
    scale = plan.intensity[k] * np.where(plan.walking[k], 1.0, plan.speed_mps[k] / 3.0)
    transient_v, transient_ap = transient_v * scale, transient_ap * scale * plan.direction[k]
    transient_area_s = PULSE_AREA * TRUNK_TRANSIENT_PEAK_S
    bump_g = (plan.impulse_s[k] - transient_v * transient_area_s) / (mean * plan.contact_s[k])
    pulse = _pulse(times - plan.ic_s[k, None], TRUNK_TRANSIENT_PEAK_S)
    vertical = bump_g[:, None] * shape * inside + transient_v[:, None] * pulse * valid

    # AP: braking lobe then propulsion lobe of equal impulse; backward mirrors the sign
    braking = np.array([BRAKING_FRACTION["backward" if d < 0 else "forward"] for d in plan.direction[k]])
    b = np.where(plan.walking[k], 0.5, braking)[:, None]
    push_g = (AP_PER_SPEED_G * ap * plan.speed_mps[k])[:, None]
    brake_g = push_g * (1 - b) / b
    lobes = np.where(u < b, -brake_g * np.sin(np.pi * u / b), push_g * np.sin(np.pi * (u - b) / (1 - b)))
    # the transient's braking impulse is returned by a slightly larger push
    extra_push = (-transient_ap * transient_area_s / (plan.contact_s[k] * (1 - b[:, 0]) * 2 / np.pi))[:, None]
    lobes = lobes + np.where(u >= b, extra_push * np.sin(np.pi * (u - b) / (1 - b)), 0.0)
    sagittal = plan.direction[k, None] * lobes * inside + transient_ap[:, None] * pulse * valid

    # ML: the stance foot pushes the body toward the other side (+y is left)
    side = np.where(plan.left[k], -1.0, 1.0)[:, None]
    lateral = side * (ML_PER_SPEED_G * ml * plan.speed_mps[k])[:, None] * np.sin(np.pi * u) * inside

    out[:, 0] += _scatter(n, j, valid, sagittal)
    out[:, 1] += _scatter(n, j, valid, lateral)
    out[:, 2] += _scatter(n, j, valid, vertical)
    return out


STAND_RAMP_S = 0.2
"""Standing support fades in over the last 0.2 s of the final contact and out over the first 0.2 s of
the first one, so stopping and starting need no free fall (assumption)."""


def _standing_support(t: np.ndarray, stand: list[tuple[float, float]]) -> np.ndarray:
    """1 g while standing (between the last toe-off and the next IC), fading in and out across contacts."""
    support = np.zeros(len(t))
    for a, b in stand:
        if b + STAND_RAMP_S < t[0] or a - STAND_RAMP_S > t[-1]:
            continue
        support += (_smootherstep((t - a + STAND_RAMP_S) / STAND_RAMP_S)
                    * _smootherstep((b + STAND_RAMP_S - t) / STAND_RAMP_S))
    return support


def _standing_sway(t: np.ndarray, plan: _Plan) -> np.ndarray:
    sway = np.zeros((len(t), 2))
    if not plan.stand:
        return sway
    gate = _standing_support(t, plan.stand)
    for axis, amp_g, freq_hz, phase in plan.sway:
        sway[:, int(axis)] += amp_g * np.sin(2 * np.pi * freq_hz * t + phase)
    return sway * gate[:, None]


def _turn_centripetal(t: np.ndarray, turns) -> np.ndarray:
    """ML centripetal acceleration while pivoting (a half-sine over the turn)."""
    ml = np.zeros(len(t))
    for a, b, sign in turns:
        if b < t[0] or a > t[-1]:
            continue
        u = np.clip((t - a) / (b - a), 0.0, 1.0)
        ml += sign * TURN_CENTRIPETAL_G * np.sin(np.pi * u)
    return ml


# ---------------------------------------------------------------------------------------------------
# limbs: stride cycles of the sensor's leg
# ---------------------------------------------------------------------------------------------------

@dataclass
class _LegCycles:
    """One row per stride of the sensor leg, plus lead-in and lead-out rows at the ends of each sequence.

    kind 0: a stride from contact i to the next contact i1 of the same foot; kind 1 (entry): the swing
    that brings the leg from standing to contact i; kind 2 (exit): contact i, then the swing back to
    standing. Rows do not overlap; between them the leg stands still. rate_*_hz are the stride rates at
    the row's ends, so that the stride phase has a continuous rate across rows (no velocity steps).
    """

    start_s: np.ndarray
    end_s: np.ndarray
    kind: np.ndarray
    i: np.ndarray
    i1: np.ndarray
    stride_s: np.ndarray
    swing_start_s: np.ndarray
    swing_end_s: np.ndarray
    rate_start_hz: np.ndarray
    rate_end_hz: np.ndarray

    @classmethod
    def build(cls, plan: _Plan, left: bool) -> "_LegCycles":
        own = np.flatnonzero(plan.left == left)
        linked = [cls._linked(plan, a, b) for a, b in zip(own[:-1], own[1:])]
        strides_s = np.diff(plan.ic_s[own])
        rows = []
        for pos, i in enumerate(own):
            nominal_stride_s = 2 * plan.impulse_s[i]
            swing_s = max(nominal_stride_s - plan.contact_s[i], 0.2)
            prev_linked = pos > 0 and linked[pos - 1]
            next_linked = pos + 1 < len(own) and linked[pos]
            around = ([strides_s[pos - 1]] if prev_linked else []) + ([strides_s[pos]] if next_linked else [])
            rate_hz = len(around) / sum(around) if around else 1.0 / nominal_stride_s
            if not prev_linked:
                rows.append((plan.ic_s[i] - nominal_stride_s, plan.ic_s[i], 1, i, -1, nominal_stride_s,
                             plan.ic_s[i] - swing_s, plan.ic_s[i], rate_hz, rate_hz))
            toe_off_s = plan.ic_s[i] + plan.contact_s[i]
            if next_linked:
                i1 = own[pos + 1]
                after = [strides_s[pos]] + ([strides_s[pos + 1]] if pos + 1 < len(linked) and linked[pos + 1] else [])
                rows.append((plan.ic_s[i], plan.ic_s[i1], 0, i, i1, strides_s[pos], toe_off_s, plan.ic_s[i1],
                             rate_hz, len(after) / sum(after)))
            else:
                end_s = max(plan.ic_s[i] + nominal_stride_s, toe_off_s + swing_s)
                rows.append((plan.ic_s[i], end_s, 2, i, -1, nominal_stride_s, toe_off_s, toe_off_s + swing_s,
                             rate_hz, rate_hz))
        cols = list(zip(*rows)) if rows else [()] * 10
        integer = (2, 3, 4)
        return cls(*(np.array(c, dtype=np.int64 if n in integer else float) for n, c in enumerate(cols)))

    @staticmethod
    def _linked(plan: _Plan, i: int, i1: int) -> bool:
        """Two successive contacts of one foot belong to one movement unless a rest separates them."""
        gap_s = plan.ic_s[i1] - plan.ic_s[i]
        return bool(gap_s < 2 * plan.impulse_s[i] + 2 * plan.impulse_s[i1] + 0.2)

    def locate(self, t: np.ndarray) -> np.ndarray:
        """Row index per sample, -1 where the leg stands still."""
        row = np.searchsorted(self.start_s, t, side="right") - 1
        ok = row >= 0
        ok[ok] = t[ok] < self.end_s[row[ok]]
        return np.where(ok, row, -1)


LIMB_CONFIGS = ("run_heel", "run_forefoot", "run_backward", "walk", "walk_backward")


def _config(plan: _Plan, i: np.ndarray) -> np.ndarray:
    """Index into LIMB_CONFIGS per contact: which keyframes and arm parameters apply."""
    backward = plan.direction[i] < 0
    return np.where(plan.walking[i], np.where(_walking_backward(plan, i), 4, 3),
                    np.where(backward, 2, np.where(plan.heel[i], 0, 1)))


def _walking_backward(plan: _Plan, i: np.ndarray) -> np.ndarray:
    """Contacts of a backward walk. A turnaround's steps keep the forward walking model whatever their
    bout's direction: a pivot on the spot, not a walk."""
    return plan.walking[i] & (plan.direction[i] < 0) & (plan.activity[i] != "turn")


_SPLINES: dict[tuple[str, str], CubicSpline] = {}


def _pitch_spline(segment: str, config: str) -> CubicSpline:
    key = (segment, config)
    if key not in _SPLINES:
        frames = PITCH_KEYFRAMES_DEG[segment][config]
        phase = [p for p, _ in frames] + [1.0]
        value = [np.deg2rad(v) for _, v in frames] + [np.deg2rad(frames[0][1])]
        _SPLINES[key] = CubicSpline(phase, value, bc_type="periodic")
    return _SPLINES[key]


def _blend(x: np.ndarray, fs: float) -> np.ndarray:
    """Three passes of a 0.15 s moving average: steps become C1 ramps (no acceleration spikes)."""
    half = max(1, int(PARAMETER_BLEND_S * fs / 2))
    width = 2 * half + 1
    for _ in range(3):
        padded = np.concatenate([np.full(half + 1, x[0]), x, np.full(half, x[-1])])
        csum = np.cumsum(padded)
        x = (csum[width:] - csum[:-width]) / width
    return x


@dataclass
class _PerSample:
    """The sensor leg's stride row, stride phase, envelope and blended parameters at every grid sample."""

    row: np.ndarray
    moving: np.ndarray
    i: np.ndarray             # contact of the row (0 at rest: check `moving`)
    phase: np.ndarray         # 0 at own IC, 1 at the next, with a continuous rate
    envelope: np.ndarray      # 1 while striding, ramps in entry/exit rows, 0 at rest
    weights: np.ndarray       # (n, len(LIMB_CONFIGS)) blended share of each keyframe set
    angle_scale: np.ndarray   # blended limb angle amplitude


def _per_sample(t: np.ndarray, fs: float, plan: _Plan, legs: _LegCycles) -> _PerSample:
    n = len(t)
    row = legs.locate(t) if len(legs.start_s) else np.full(n, -1)
    moving = row >= 0
    if not moving.any():
        zeros = np.zeros(n)
        return _PerSample(row, moving, np.zeros(n, dtype=np.int64), zeros, zeros,
                          np.zeros((n, len(LIMB_CONFIGS))), zeros)
    r = np.where(moving, row, 0)
    kind, i = legs.kind[r], np.where(moving, legs.i[r], 0)
    # cubic Hermite phase 0 -> 1 over the row with end slopes set by the stride rates at its ends
    length_s = legs.end_s[r] - legs.start_s[r]
    u = np.clip((t - legs.start_s[r]) / length_s, 0.0, 1.0)
    slope0, slope1 = legs.rate_start_hz[r] * length_s, legs.rate_end_hz[r] * length_s
    phase = (u ** 3 - 2 * u ** 2 + u) * slope0 + (3 * u ** 2 - 2 * u ** 3) + (u ** 3 - u ** 2) * slope1
    phase = np.where(moving, phase, 0.0)
    envelope = np.where(kind == 1, _smootherstep(u), np.where(kind == 2, 1 - _smootherstep(u), 1.0))
    envelope = np.where(moving, envelope, 0.0)
    config = _config(plan, i)
    weights = np.column_stack([_blend(((config == c) & moving).astype(float), fs) for c in range(len(LIMB_CONFIGS))])
    angle_scale = _blend(np.where(moving, plan.angle_scale[i], 1.0), fs)
    return _PerSample(row, moving, i, phase % 1.0, envelope, weights, angle_scale)


def _pitch(segment: str, s: _PerSample) -> np.ndarray:
    """Segment pitch (rad) from the keyframes, blended across stride types, faded in and out at rest."""
    theta = np.zeros(len(s.phase))
    for c, config in enumerate(LIMB_CONFIGS):
        active = s.weights[:, c] > 0
        if active.any():
            theta[active] += s.weights[active, c] * _pitch_spline(segment, config)(s.phase[active])
    return theta * s.angle_scale * s.envelope


def _to_segment(f_world: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Specific force in a segment frame pitched by theta (distal end forward / toes up positive)."""
    c, s = np.cos(theta), np.sin(theta)
    out = np.empty_like(f_world)
    out[:, 0] = f_world[:, 0] * c + f_world[:, 2] * s
    out[:, 1] = f_world[:, 1]
    out[:, 2] = -f_world[:, 0] * s + f_world[:, 2] * c
    return out


def _rotate_point(x_m, z_m, theta):
    """A point (x, z) of a segment hanging from a joint, after the segment pitches by theta."""
    c, s = np.cos(theta), np.sin(theta)
    return x_m * c - z_m * s, x_m * s + z_m * c


def _second_derivative_g(x_m: np.ndarray, fs: float) -> np.ndarray:
    """Acceleration in g of a position in metres sampled at fs."""
    dt = 1.0 / fs
    return np.gradient(np.gradient(x_m, dt), dt) / STANDARD_GRAVITY_MPS2


def _quintic(p0, v0, p1, v1, duration_s, u):
    """Position along a quintic from (p0, v0) to (p1, v1) with zero end accelerations, u in [0, 1]."""
    u2, u3 = u * u, u * u * u
    u4, u5 = u3 * u, u3 * u2
    h0 = 1 - 10 * u3 + 15 * u4 - 6 * u5
    h1 = u - 6 * u3 + 8 * u4 - 3 * u5
    h3 = 10 * u3 - 15 * u4 + 6 * u5
    h4 = -4 * u3 + 7 * u4 - 3 * u5
    return h0 * p0 + h1 * v0 * duration_s + h3 * p1 + h4 * v1 * duration_s


def _swing_lift(u):
    """Unit-peak lift of the foot in swing with zero velocity and acceleration at lift-off and landing."""
    u = np.clip(u, 0.0, 1.0)
    return 64.0 * (u * (1 - u)) ** 3


def _foot_path(t: np.ndarray, plan: _Plan, legs: _LegCycles, s: _PerSample, scale_ap: float, scale_v: float):
    """AP and vertical position (m) of the leg sensor relative to the hip's straight-line motion.

    Stance: the foot is planted, so relative to the hip it moves backward at the running speed (forward
    when running backward). Swing: a quintic brings it to the next landing point with matching velocity,
    while it lifts and lowers. The landing point is half a contact's travel ahead of the hip.
    """
    x = np.zeros(len(t))
    z = np.zeros(len(t))
    if not s.moving.any():
        return x, z
    r = np.where(s.moving, s.row, 0)
    i = s.i
    d, v, c = plan.direction[i], plan.speed_mps[i], plan.contact_s[i]
    land_m = d * v * c / 2
    kind = legs.kind[r]
    ic_s = plan.ic_s[i]
    in_stance = s.moving & (kind != 1) & (t < ic_s + c)
    x = np.where(in_stance, land_m - d * v * (t - ic_s), x)
    sw0, sw1 = legs.swing_start_s[r], legs.swing_end_s[r]
    in_swing = s.moving & (t >= sw0) & (t < sw1)
    u = np.clip((t - sw0) / (sw1 - sw0), 0, 1)
    # start and end states of each swing: entry starts from standing, exit ends standing
    i1 = np.maximum(legs.i1[r], 0)
    p0 = np.where(kind == 1, 0.0, land_m - d * v * c)
    v0 = np.where(kind == 1, 0.0, -d * v)
    p1 = np.where(kind == 0, plan.direction[i1] * plan.speed_mps[i1] * plan.contact_s[i1] / 2,
                  np.where(kind == 1, land_m, 0.0))
    v1 = np.where(kind == 0, -plan.direction[i1] * plan.speed_mps[i1], np.where(kind == 1, -d * v, 0.0))
    x = np.where(in_swing, _quintic(p0, v0, p1, v1, sw1 - sw0, u), x)
    lift_m = SWING_HEIGHT_PER_SPEED_S * np.where(kind == 0, np.maximum(v, plan.speed_mps[i1]), v)
    z = np.where(in_swing, lift_m * _swing_lift(u) * plan.angle_scale[i], z)
    return x * scale_ap, z * scale_v


def _swing_taper(t: np.ndarray, legs: _LegCycles, s: _PerSample) -> np.ndarray:
    """1 inside a swing, easing to 0 over 20 ms at lift-off and landing (the foot is then loaded)."""
    if not s.moving.any():
        return np.zeros(len(t))
    r = np.where(s.moving, s.row, 0)
    sw0, sw1 = legs.swing_start_s[r], legs.swing_end_s[r]
    ease_s = 0.02
    taper = _smootherstep((t - sw0) / ease_s) * _smootherstep((sw1 - t) / ease_s)
    return np.where(s.moving, taper, 0.0)


def _transmitted(trunk: np.ndarray, taper: np.ndarray, row: np.ndarray, weight: float) -> np.ndarray:
    """The trunk's acceleration reaching the swinging leg, made zero-mean within each swing.

    Zero mean per swing keeps the leg's velocity consistent: the transmitted bump of the contralateral
    contact moves the shank, but does not make it drift.
    """
    accel = trunk - np.array([0.0, 0.0, 1.0])
    groups = np.where(taper > 0, row, -1) + 1
    size = int(groups.max()) + 1 if len(groups) else 1
    weights = np.bincount(groups, weights=taper, minlength=size)
    out = np.zeros_like(accel)
    for axis in range(3):
        sums = np.bincount(groups, weights=taper * accel[:, axis], minlength=size)
        mean = np.divide(sums, weights, out=np.zeros(size), where=weights > 0)
        out[:, axis] = weight * taper * (accel[:, axis] - mean[groups])
    return out


def _impact_kernels(t: np.ndarray, fs: float, plan: _Plan, placement: str) -> np.ndarray:
    """Impact pulses at the sensor leg's contacts, in the segment frame (zero net velocity change)."""
    n = len(t)
    out = np.zeros((n, 3))
    gain = IMPACT_GAIN[placement]
    peak_factor = IMPACT_PEAK_FACTOR[placement]
    # the pulse is nil 18 peak times after contact; only a plan with toe-first walking needs its longer window
    toe_walk = bool(_walking_backward(plan, np.arange(len(plan.ic_s))).any())
    after_s = 18 * max(v for x, v in IMPACT_PEAK_S.items() if toe_walk or x != "walk_toe") * peak_factor
    own = plan.left == (SENSOR_SIDE == "left")
    k = _active(plan, t, PRE_IMPACT_S, after_s, own)
    if len(k) == 0:
        return out
    kind = np.where(plan.walking[k], np.where(_walking_backward(plan, k), "walk_toe", "walk"),
                    np.where(plan.heel[k], "run_heel", "run_forefoot"))
    peak_s = np.array([IMPACT_PEAK_S[x] for x in kind])[:, None] * peak_factor
    direction = np.array([IMPACT_DIRECTION[x] for x in kind])
    direction = direction / np.linalg.norm(direction, axis=1, keepdims=True)
    direction[:, 0] *= plan.direction[k]
    amplitude_g = gain * (_tibial_resultant_g(plan, k) - 1.0) * plan.intensity[k]
    j, times, valid = _window(t, fs, plan.ic_s[k] - PRE_IMPACT_S, PRE_IMPACT_S + after_s)
    tau = times - plan.ic_s[k, None]
    rho, widen = REBOUND
    shape = _pulse(tau, peak_s) - rho * _pulse(tau - widen * peak_s, widen * peak_s)
    net_area_s = PULSE_AREA * peak_s * (1 - rho * widen)
    pre = np.where((tau >= -PRE_IMPACT_S) & (tau < 0),
                   np.sin(np.pi * (tau + PRE_IMPACT_S) / PRE_IMPACT_S) ** 2, 0.0)
    shape = shape - pre * net_area_s / (PRE_IMPACT_S / 2)
    for axis in range(3):
        out[:, axis] = _scatter(n, j, valid, (amplitude_g * direction[:, axis])[:, None] * shape)
    return out


def _tibial_resultant_g(plan: _Plan, k: np.ndarray) -> np.ndarray:
    """Target resultant tibial peak per contact (g) from speed and landing style.

    Heel strike: 10.0 g at 2.7 m/s rising 3.8 g per m/s (Sheerin 2020, via SCIENCE.md section 6).
    Toe-first (forward forefoot and all backward running): 75 % of that (assumption; no BR data).
    Walking: 1.5 g + 0.8 g per m/s; toe-first (backward) walking 75 % of that, as running (assumption).
    """
    v = plan.speed_mps[k]
    heel_g = np.maximum(10.0 + 3.8 * (v - 2.7), 4.0)
    run_g = np.where(plan.heel[k] & (plan.direction[k] > 0), heel_g, 0.75 * heel_g)
    walk_g = (1.5 + 0.8 * v) * np.where(_walking_backward(plan, k), 0.75, 1.0)
    return np.where(plan.walking[k], walk_g, run_g)


def _leg(t, fs, plan, legs, trunk, placement) -> np.ndarray:
    """Shank or foot: planted in stance, swinging (and pitching) in swing, impact pulses at own contacts."""
    s = _per_sample(t, fs, plan, legs)
    scale_ap, scale_v = LEG_SCALE[placement]
    x_m, z_m = _foot_path(t, plan, legs, s, scale_ap, scale_v)
    f_world = np.zeros((len(t), 3))
    f_world[:, 0] = _second_derivative_g(x_m, fs)
    f_world[:, 2] = _second_derivative_g(z_m, fs) + 1.0
    f_world += _transmitted(trunk, _swing_taper(t, legs, s), s.row, SWING_TRANSMISSION[placement])
    # standing still, the leg carries the trunk's small sway
    f_world[:, :2] += np.where(s.moving[:, None], 0.0, trunk[:, :2])
    f_segment = _to_segment(f_world, _pitch(placement, s))
    return f_segment + _impact_kernels(t, fs, plan, placement)


def _thigh(t, fs, plan, legs, trunk) -> np.ndarray:
    """Phone in a front trouser pocket: rotates with the thigh about the hip, which moves with the trunk."""
    s = _per_sample(t, fs, plan, legs)
    theta = _pitch("phone_pocket", s)
    x_m, z_m = _rotate_point(0.0, -THIGH_RADIUS_M, theta)
    f_world = trunk.copy()
    f_world[:, 0] += _second_derivative_g(x_m, fs)
    f_world[:, 2] += _second_derivative_g(z_m, fs)
    return _to_segment(f_world, theta) + _impact_kernels(t, fs, plan, "phone_pocket")


def _arm(t, fs, plan, legs, trunk, placement) -> np.ndarray:
    """Wrist or upper arm: the arm swings about the shoulder at stride frequency, opposite the same-side
    leg; the wrist sits at the end of a flexed elbow. The trunk's shocks, attenuated, come through the
    shoulder."""
    s = _per_sample(t, fs, plan, legs)
    swing = np.zeros(len(t))
    elbow = np.zeros(len(t))
    for c, config in enumerate(LIMB_CONFIGS):
        gait = "walk" if config.startswith("walk") else "run"
        forward_phase = {"run_backward": ARM_FORWARD_PHASE["backward"],
                         "walk_backward": WALK_DUTY_STRIDE - ARM_FORWARD_PHASE["forward"]}.get(
                             config, ARM_FORWARD_PHASE["forward"])
        swing += s.weights[:, c] * np.deg2rad(ARM_SWING_DEG[gait]) * np.cos(2 * np.pi * (s.phase - forward_phase))
        elbow += s.weights[:, c] * np.deg2rad(ELBOW_FLEXION_DEG[gait])
    alpha = swing * s.angle_scale * s.envelope
    if placement == "wrist":
        elbow = elbow * s.envelope
        x_m, z_m = _rotate_point(FOREARM_M * np.sin(elbow), -UPPER_ARM_M - FOREARM_M * np.cos(elbow), alpha)
        theta = alpha + elbow
    else:
        x_m, z_m = _rotate_point(0.0, -ARMBAND_M, alpha)
        theta = alpha
    gravity = np.array([0.0, 0.0, 1.0])
    f_world = gravity + ARM_TRANSMISSION[placement] * (trunk - gravity)
    f_world[:, 0] += _second_derivative_g(x_m, fs)
    f_world[:, 2] += _second_derivative_g(z_m, fs)
    return _to_segment(f_world, theta)


# ======================================================================================================
# truth and settings
# ======================================================================================================

def _truth_frame(plan: _Plan, impact_g: np.ndarray, bursts, last_sample_s: float) -> pd.DataFrame:
    keep = (plan.ic_s >= 0.0) & (plan.ic_s <= last_sample_s)
    ic_s = plan.ic_s[keep]
    activity = plan.activity[keep].astype(str)
    in_gap = np.zeros(len(ic_s), dtype=bool)
    for a, b in bursts:
        in_gap |= (ic_s >= a) & (ic_s < b)
    activity = np.where(in_gap, np.char.add(activity, "_in_gap"), activity)
    frame = pd.DataFrame({
        "ic_s": ic_s,
        "foot": np.where(plan.left[keep], "left", "right"),
        "toe_off_s": plan.toe_off_s[keep],
        "impact_g": impact_g[keep],
        "activity": activity.astype(object),
        "direction": np.where(plan.direction[keep] > 0, "forward", "backward").astype(object),
    }, columns=list(TRUTH_COLUMNS))
    frame["foot"] = frame["foot"].astype(object)
    return frame.sort_values("ic_s", kind="stable").reset_index(drop=True)


def _settings(args: _Args, rotation, rotation_matrix, plan: _Plan, bursts, clipped) -> dict:
    if rotation is None:
        rotation_arg = None
    elif isinstance(rotation, str):
        rotation_arg = rotation
    else:
        rotation_arg = "matrix"
    return {
        "model_version": MODEL_VERSION,
        "placement": args.placement, "direction": args.direction, "cadence_spm": args.cadence_spm,
        "sampling_rate_hz": args.sampling_rate_hz, "duration_s": args.duration_s, "seed": args.seed,
        "session": args.session, "gait": args.gait, "strike": args.strike, "rotation": rotation_arg,
        "rotation_matrix": [[round(float(v), 12) for v in row] for row in rotation_matrix],
        "range_g": args.range_g, "noise_g": args.noise_g, "jitter": args.jitter,
        "drop_fraction": args.drop_fraction,
        "sensor_side": SENSOR_SIDE if args.placement not in TRUNK_GAINS else None,
        "running_speed_mps": (round(args.cadence_spm / 60.0 * STEP_LENGTH_M[args.direction], 4)
                              if args.gait == "run" else None),
        "walking_speed_mps": (round(args.cadence_spm / 60.0 * WALK_STEP_LENGTH_M[args.direction], 4)
                              if args.gait == "walk" else None),
        "internal_rate_hz": _internal_rate_hz(args),
        "anti_alias_hz": ANTI_ALIAS_FRACTION * args.sampling_rate_hz,
        "dropped_bursts_s": [[round(a, 4), round(b, 4)] for a, b in bursts],
        "clipped_samples": int(clipped.any(axis=1).sum()),
        "schedule": plan.schedule if args.session else None,
    }
