"""Child of benchmarks/speed.py, run by the Python of scikit-digital-health's own virtual environment (it
never imports retrorun): load a retrorun .npz and find gait events with skdh, on one core.

    <venv>/bin/python benchmarks/skdh_events.py RECORDING.npz --repeats 2 [--full]

Prints one JSON line: the best and every time of load + gait events (skdh's PreprocessGaitBout then
ApCwtGaitEvents, the gait-event step of its GaitLumbar pipeline, run on the whole recording as one bout,
as GaitLumbar does with gait_pred=True), the number of initial contacts, and the process's peak resident
memory (VmHWM). With --full, also the time of the whole GaitLumbar pipeline (events,
strides, turns, every gait endpoint), once.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import warnings

UNIX_EPOCH_OFFSET_S = 1.7e9
"""skdh expects unix timestamps; the recording's time_s is shifted onto a date in 2023."""


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM: unlike ru_maxrss, not the parent's before exec)."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def load(path: str):
    import numpy as np
    with np.load(path, allow_pickle=False) as npz:
        return npz["time_s"] + UNIX_EPOCH_OFFSET_S, npz["acc_g"], float(json.loads(str(npz["meta"]))["sampling_rate_hz"])


def gait_events(path: str) -> int:
    """Load, then skdh's gait-event substeps on the whole recording; the number of initial contacts."""
    from skdh import Pipeline
    from skdh.gait import substeps

    time_s, acc_g, fs_hz = load(path)
    pipeline = Pipeline(flatten_results=True)
    pipeline.add(substeps.PreprocessGaitBout())
    pipeline.add(substeps.ApCwtGaitEvents())
    result = pipeline.run(time=time_s, accel=acc_g, fs=fs_hz)
    return int(len(result["initial_contacts"]))


def full_pipeline(path: str) -> int:
    from skdh.gait import GaitLumbar

    time_s, acc_g, fs_hz = load(path)
    result = GaitLumbar().predict(time=time_s, accel=acc_g, fs=fs_hz, gait_pred=True)
    return int(len(result["IC Timestamp"]))


def timed(fn, path: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    count = fn(path)
    return time.perf_counter() - t0, count


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("recording")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    pin_to_one_core()
    warnings.simplefilter("ignore")  # skdh warns about missing height etc.
    import skdh

    times_s, contacts = [], 0
    for _ in range(args.repeats):
        elapsed_s, contacts = timed(gait_events, args.recording)
        times_s.append(elapsed_s)
    out = {"skdh_version": skdh.__version__, "events_s": times_s, "events_best_s": min(times_s),
           "initial_contacts": contacts}
    if args.full:
        try:
            out["full_pipeline_s"], out["full_pipeline_initial_contacts"] = timed(full_pipeline, args.recording)
        except Exception as exc:  # the events figure stands on its own
            out["full_pipeline_error"] = f"{type(exc).__name__}: {exc}"
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
