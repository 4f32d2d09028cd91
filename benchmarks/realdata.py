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


def oxford_walks(root: Path = OXFORD) -> Iterator[tuple[str, Recording, np.ndarray]]:
    """(name, recording, true step times) for the phone walking recordings with shoe foot switches.

    accelerometer.csv: t_ns (since phone boot), sensor type, x, y, z in m/s^2 with gravity (SOURCE.md).
    Truth: one step per foot-switch 0->1 transition, about 0.1 s timing resolution.
    """
    from sensors.units import to_g
    steps = pd.read_csv(root / "derived" / "footswitch_steps.csv", comment="#")
    for name, placement in OXFORD_RECORDINGS.items():
        raw = np.loadtxt(root / name / "accelerometer.csv.gz", delimiter=",")
        t_ns = raw[:, 0]
        keep = np.concatenate([[True], np.diff(t_ns) > 0])  # the phone repeats a timestamp now and then
        rec = Recording(time_s=(t_ns[keep] - t_ns[0]) * 1e-9, acc_g=to_g(raw[keep, 2:5], "m/s^2"),
                        placement=placement, metadata={"device": "Samsung phone", "source_file": str(root / name)})
        yield name, rec, np.sort(steps.loc[steps.recording == name, "t_rel_s"].to_numpy())
