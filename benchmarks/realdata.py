"""Loaders of the real recordings in ../shared/data, shared by tests and benchmarks (never copied here)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from sensors import Recording

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ALCANTARA = SHARED_DATA / "alcantara-sacral-running"
ALCANTARA_RATE_HZ = 500.0


def alcantara_trials(root: Path = ALCANTARA) -> Iterator[tuple[int, Recording, np.ndarray]]:
    """(trial, recording, true contact times) for each of the 31 sacral treadmill trials.

    The sensor is biaxial (vertical, antero-posterior; SOURCE.md): acc_x = AP, acc_z = vertical, acc_y = 0.
    Truth: force-treadmill contacts (GRF crossing 0.1 BW) from derived/grf_contacts.csv.
    """
    acc = np.loadtxt(root / "Accelerometer_one_sub.csv.gz", delimiter=",")
    contacts = pd.read_csv(root / "derived" / "grf_contacts.csv", comment="#")
    half = acc.shape[1] // 2
    time_s = np.arange(half) / ALCANTARA_RATE_HZ
    for trial, row in enumerate(acc):
        vertical, ap = row[:half], row[half:]
        rec = Recording(time_s=time_s, acc_g=np.column_stack([ap, np.zeros(half), vertical]), placement="sacrum",
                        metadata={"device": "biaxial sacral accelerometer", "source_file": str(root)})
        yield trial, rec, contacts.loc[contacts.trial == trial, "contact_on_s"].to_numpy()


OXFORD = SHARED_DATA / "oxford-step-counter-walking"
OXFORD_RECORDINGS = {
    "Samsung_Dario_Hard_ArmBand_1": "phone_arm",
    "Samsung_Dario_Hard_BackPocket_1": "phone_pocket",
    "Samsung_Dario_Hard_FrontPocket_1": "phone_pocket",
}


def oxford_walks(root: Path = OXFORD, cleaned: bool = False) -> Iterator[tuple[str, Recording, np.ndarray]]:
    """(name, recording, true step times) for the phone walking recordings with shoe foot switches.

    accelerometer.csv: t_ns (since phone boot), sensor type, x, y, z in m/s^2 with gravity (SOURCE.md).
    Truth: one step per foot-switch 0->1 transition, about 0.1 s timing resolution; `cleaned`: with the
    switches' own slips mended (`clean_footswitch_steps`).
    """
    from sensors.units import to_g
    steps = pd.read_csv(root / "derived" / "footswitch_steps.csv", comment="#")
    for name, placement in OXFORD_RECORDINGS.items():
        raw = np.loadtxt(root / name / "accelerometer.csv.gz", delimiter=",")
        t_ns = raw[:, 0]
        keep = np.concatenate([[True], np.diff(t_ns) > 0])  # the phone repeats a timestamp now and then
        rec = Recording(time_s=(t_ns[keep] - t_ns[0]) * 1e-9, acc_g=to_g(raw[keep, 2:5], "m/s^2"),
                        placement=placement, metadata={"device": "Samsung phone", "source_file": str(root / name)})
        mine = steps[steps.recording == name].sort_values("t_rel_s")
        times, feet = mine["t_rel_s"].to_numpy(), mine["foot"].to_numpy()
        yield name, rec, clean_footswitch_steps(times, feet) if cleaned else times


BOUNCE_MAX_STEPS = 0.75
MISSED_STEPS = (1.5, 2.5)
"""Two contacts of the same foot in a row cannot both be steps: closer than 0.75 of the median step, the
switch bounced (one contact); 1.5-2.5 median steps apart, the other foot's switch missed the step between
(it is added at the midpoint). Anything else (a pause, a turn) is left as it is."""


def clean_footswitch_steps(times_s: np.ndarray, feet: np.ndarray) -> np.ndarray:
    """Step times with the foot switches' slips mended, from the record's own alternation of feet (walking
    alternates feet; the detector under test plays no part)."""
    step_s = float(np.median(np.diff(times_s)))
    out = [times_s[0]]
    for k in range(1, len(times_s)):
        gap = times_s[k] - times_s[k - 1]
        if feet[k] == feet[k - 1]:
            if gap < BOUNCE_MAX_STEPS * step_s:
                continue
            if MISSED_STEPS[0] * step_s <= gap <= MISSED_STEPS[1] * step_s:
                out.append(times_s[k - 1] + gap / 2)
        out.append(times_s[k])
    return np.asarray(out)


OXFORD_VALIDATION = OXFORD / "validation" / "user1_frontpocket_1506422223341.csv.gz"


def oxford_validation_walk(path: Path = OXFORD_VALIDATION) -> tuple[Recording, np.ndarray]:
    """The upstream validation recording (front pocket, 100 Hz): t_ns, x, y, z (m/s^2), cumulative steps by the
    app, cumulative steps by the ground-truth device (SOURCE.md). True steps: where that count goes up."""
    from sensors.units import to_g
    raw = np.loadtxt(path, delimiter=",")
    t_s = (raw[:, 0] - raw[0, 0]) * 1e-9
    keep = np.concatenate([[True], np.diff(t_s) > 0])
    rec = Recording(time_s=t_s[keep], acc_g=to_g(raw[keep, 1:4], "m/s^2"), placement="phone_pocket",
                    metadata={"device": "Samsung S6", "source_file": str(path)})
    return rec, t_s[np.flatnonzero(np.diff(raw[:, 5]) > 0) + 1]


MOTIONSENSE = SHARED_DATA / "motionsense-phone-pocket"
HAPT = SHARED_DATA / "uci-hapt-waist"
NON_GAIT = ("sitting", "standing", "lying", "stand_to_sit", "sit_to_stand", "sit_to_lie", "lie_to_sit",
            "stand_to_lie", "lie_to_stand")
"""Labelled activities in which nobody walks or runs."""


def is_tuning_person(person: int) -> bool:
    """The split of real people between choosing thresholds (odd numbers, benchmarks/tuning/) and scoring them
    (even numbers, benchmarks/everyday.py), in both everyday datasets."""
    return person % 2 == 1


def _canonical(path: Path, placement: str | None) -> Recording:
    frame = pd.read_csv(path)
    return Recording(time_s=frame["time_s"].to_numpy(), acc_g=frame[["acc_x", "acc_y", "acc_z"]].to_numpy(),
                     placement=placement, metadata={"source_file": str(path)})


def motionsense_segments(tuning: bool, root: Path = MOTIONSENSE) -> Iterator[tuple[str, int, Recording]]:
    """(activity, subject, recording) for each labelled pocket segment of the tuning or the scoring people
    (SOURCE.md: the first and last second cut, since segments start and end mid-activity)."""
    for path in sorted(root.glob("*/*.csv.gz")):
        subject = int(path.name.split("_sub")[1][:2])
        if is_tuning_person(subject) != tuning:
            continue
        rec = _canonical(path, "phone_pocket")
        inner = (rec.time_s >= rec.time_s[0] + 1.0) & (rec.time_s <= rec.time_s[-1] - 1.0)
        yield path.parent.name, subject, Recording(time_s=rec.time_s[inner], acc_g=rec.acc_g[inner],
                                                   placement="phone_pocket", metadata=rec.metadata)


def hapt_sessions(tuning: bool, root: Path = HAPT) -> Iterator[tuple[str, int, Recording, pd.DataFrame]]:
    """(name, user, recording, labels with start_s, end_s, activity) for each whole waist session of the tuning
    or the scoring people. The phone sat on the waist: analysed as a sacrum sensor."""
    for path in sorted((root / "sessions").glob("*.csv.gz")):
        user = int(path.name.split("_user")[1][:2])
        if is_tuning_person(user) != tuning:
            continue
        labels = pd.read_csv(str(path).replace(".csv.gz", ".labels.csv"))
        yield path.name.split(".")[0], user, _canonical(path, "sacrum"), labels
