"""Batch analysis: 100 ten-minute recordings, 2 of them bad, with 1 and 2 processes, a rerun, and Dask.

    python -m benchmarks.batch            # writes benchmarks/results/batch.md (about 3 minutes)

The recordings are 10 simulated ten-minute runs at 200 Hz (sacrum, shank, chest, phone in the pocket,
both directions) each in 10 variants (independent extra sensor noise of 0.005 g, so every file differs),
90 as .npz and 10 as canonical CSV; 2 of the 100 are then replaced by bad files (a truncated .npz and a
CSV with the wrong columns). Each configuration runs into a fresh output folder, best of ROUNDS runs,
because the machine is shared; the rerun and the Dask run reuse the folders of the runs before them.
"""
from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import sensors
from analyzer.batch import SUMMARY_CSV, run_batch
from benchmarks.output import publish

BASE_RUNS = (("sacrum", "backward"), ("shank", "backward"), ("chest", "backward"), ("phone_pocket", "backward"),
             ("sacrum", "forward"), ("shank", "forward"), ("chest", "forward"), ("phone_pocket", "forward"),
             ("foot", "backward"), ("phone_arm", "backward"))
VARIANTS = 10
DURATION_S = 600.0
RATE_HZ = 200
EXTRA_NOISE_G = 0.005
CSV_EVERY = 10
"""Every tenth recording is written as canonical CSV, the others as .npz."""
BAD_NAMES = ("run_03_04.npz", "run_07_09.csv")
ROUNDS = 2


def make_recordings(folder: Path) -> list[Path]:
    """100 distinct ten-minute recordings, two of them made bad."""
    paths = []
    for i, (placement, direction) in enumerate(BASE_RUNS):
        base = sensors.simulate(placement, direction, sampling_rate_hz=RATE_HZ, duration_s=DURATION_S, seed=i).recording
        for j in range(VARIANTS):
            rng = np.random.default_rng([i, j])
            variant = sensors.Recording(time_s=base.time_s, acc_g=base.acc_g + rng.normal(0, EXTRA_NOISE_G, base.acc_g.shape),
                                        placement=placement, metadata={"direction": direction})
            suffix = ".csv" if (i * VARIANTS + j) % CSV_EVERY == CSV_EVERY - 1 else ".npz"
            path = folder / f"run_{i:02d}_{j:02d}{suffix}"
            variant.save(path)
            paths.append(path)
    for name in BAD_NAMES:
        bad = folder / name
        if bad.suffix == ".npz":
            bad.write_bytes(bad.read_bytes()[:5000])  # cut short, as by a full disk
        else:
            bad.write_text("timestamp;x;y;z\n" + bad.read_text().split("\n", 8)[-1][:2000])
    return paths


def timed_batch(folder: Path, outdir: Path, **kwargs):
    t0 = time.perf_counter()
    report = run_batch([folder], outdir, **kwargs)
    return time.perf_counter() - t0, report


def best_fresh_run(folder: Path, work: Path, label: str, rounds: int, **kwargs):
    """Best wall time over `rounds` runs, each into an empty folder; the last run's report and folder."""
    times = []
    for r in range(rounds):
        outdir = work / f"{label}_{r}"
        elapsed_s, report = timed_batch(folder, outdir, **kwargs)
        times.append(elapsed_s)
        print(f"{label} round {r}: {elapsed_s:.1f} s", file=sys.stderr)
    return min(times), times, report, outdir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder, work = Path(tmp) / "recordings", Path(tmp) / "out"
        folder.mkdir()
        t0 = time.perf_counter()
        make_recordings(folder)
        make_s = time.perf_counter() - t0
        one_s, one_all, one, one_dir = best_fresh_run(folder, work, "jobs1", args.rounds, jobs=1)
        two_s, two_all, two, two_dir = best_fresh_run(folder, work, "jobs2", args.rounds, jobs=2)
        rerun_s, rerun = timed_batch(folder, two_dir, jobs=2)
        same = (one_dir / SUMMARY_CSV).read_bytes() == (two_dir / SUMMARY_CSV).read_bytes()
        dask_line = "| Dask LocalCluster, 2 worker processes (`--dask local --jobs 2`) | not run (--no-dask) | | | |"
        if not args.no_dask:
            dask_s, on_dask = timed_batch(folder, work / "dask", jobs=2, dask="local")
            dask_same = (work / "dask" / SUMMARY_CSV).read_bytes() == (one_dir / SUMMARY_CSV).read_bytes()
            dask_line = (f"| Dask LocalCluster, 2 worker processes (`--dask local --jobs 2`), once, cluster start "
                         f"included | {dask_s:.1f} | {len(on_dask.analysed)} | {len(on_dask.skipped)} | "
                         f"{len(on_dask.failed)} (summary.csv {'identical' if dask_same else 'DIFFERENT'}) |")
    lines = [
        "# Batch analysis", "",
        f"`python -m benchmarks.batch` on {platform.machine()}, Python {platform.python_version()}, 2 cores shared "
        f"with other work: best of {args.rounds} runs into fresh folders (all runs: 1 process "
        f"{', '.join(f'{t:.1f}' for t in one_all)} s; 2 processes {', '.join(f'{t:.1f}' for t in two_all)} s).", "",
        f"100 ten-minute recordings at {RATE_HZ} Hz (90 .npz, 10 CSV; {len(BASE_RUNS)} simulated runs x {VARIANTS} "
        f"noise variants; made in {make_s:.0f} s), 2 of them bad: {', '.join(BAD_NAMES)}.", "",
        "| run | wall s | analysed | skipped | failed |", "|---|---|---|---|---|",
        f"| 1 process (`--jobs 1`) | {one_s:.1f} | {len(one.analysed)} | {len(one.skipped)} | {len(one.failed)} |",
        f"| 2 processes (`--jobs 2`) | {two_s:.1f} | {len(two.analysed)} | {len(two.skipped)} | {len(two.failed)} |",
        f"| rerun into the same folder (`--jobs 2`) | {rerun_s:.1f} | {len(rerun.analysed)} | {len(rerun.skipped)} "
        f"| {len(rerun.failed)} |",
        dask_line, "",
        f"Speed-up from 1 to 2 processes: **{one_s / two_s:.2f}x** (includes starting the 2 worker processes). "
        f"summary.csv of the 1- and 2-process runs: {'identical' if same else 'DIFFERENT'}.", "",
        "Reported failures:", "",
        *[f"- `{Path(f.path).name}`: {f.error.replace(str(folder) + '/', '')}" for f in two.failed], "",
    ]
    publish("batch", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
