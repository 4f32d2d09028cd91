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
