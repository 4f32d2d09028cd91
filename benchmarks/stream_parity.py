"""Streaming vs offline detection on the simulator grid and the real recordings (issue 7 parity target:
>= 99 % of steps within one sample, for any chunk size from 1 to 1000 samples).

For every recording, `analyze` of the whole recording is compared with the StreamingDetector fed in chunks
of 1, 37 and 1000 samples (plus the flush at the end). A step agrees when a streamed and an offline step
are within one sample of each other (one-to-one matching); parity = agreeing / max(streamed, offline).
The detector's processing points depend on the samples only, never on the chunking, so the three chunk
sizes are also checked to give identical steps.
Writes benchmarks/results/stream_parity.md.
    python -m benchmarks.stream_parity [--quick]
"""
from __future__ import annotations

import argparse
import itertools
import platform
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from analyzer import analyze
from analyzer.placement import params_for
from analyzer.stream import StreamingDetector
from analyzer.validate import match_events
from sensors import Recording
from sensors.recording import PLACEMENTS
from sensors.simulator import simulate
from benchmarks.output import publish

CHUNKS = (1, 37, 1000)
TARGET = 0.99


def streamed_steps(rec: Recording, chunk: int) -> pd.DataFrame:
    detector = StreamingDetector(rec.placement, rec.sampling_rate_hz)
    out = [detector.push(rec.time_s[i:i + chunk], rec.acc_g[i:i + chunk]) for i in range(0, len(rec), chunk)]
    return pd.concat(out + [detector.flush()], ignore_index=True)


def parity(name: str, rec: Recording) -> dict:
    offline = analyze(rec).steps.time_s.to_numpy()
    tolerance_s = 1.0 / rec.sampling_rate_hz + 1e-9
    row = {"recording": name, "offline_steps": len(offline)}
    by_chunk = {}
    for chunk in CHUNKS:
        streamed = streamed_steps(rec, chunk).time_s.to_numpy()
        by_chunk[chunk] = streamed
        matched = match_events(streamed, offline, tolerance_s).true_positives
        row[f"parity_{chunk}"] = matched / max(len(streamed), len(offline), 1)
    row["chunk_invariant"] = all(np.array_equal(by_chunk[CHUNKS[0]], s) for s in by_chunk.values())
    return row


def grid_case(case: tuple) -> dict:
    placement, direction, cadence_spm, rate_hz = case
    rec = simulate(placement, direction, cadence_spm=cadence_spm, sampling_rate_hz=rate_hz, duration_s=30,
                   seed=11).recording      # random orientation by default
    return parity(f"sim {placement} {direction} {cadence_spm:g} spm {rate_hz:g} Hz", rec)


def walk_case(case: tuple) -> dict:
    placement, direction = case
    rec = simulate(placement, direction, gait="walk", cadence_spm=115, sampling_rate_hz=100, duration_s=30,
                   seed=11).recording
    return parity(f"walk {placement} {direction} 115 spm 100 Hz", rec)


def real_case(item: tuple[str, Recording]) -> dict:
    return parity(*item)


def real_recordings() -> list[tuple[str, Recording]]:
    from .realdata import alcantara_trials, oxford_walks
    items = [(f"alcantara trial {trial}", rec) for trial, rec, _ in alcantara_trials()]
    return items + [(f"oxford {name}", rec) for name, rec, _ in oxford_walks()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few grid cases and real recordings only")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    grid = [case for case in itertools.product(PLACEMENTS, ("forward", "backward"), (140.0, 180.0, 220.0),
                                               (50.0, 100.0, 200.0, 500.0))
            if case[3] >= params_for(case[0]).min_sampling_rate_hz]     # slower rates are refused, not analysed
    walks = list(itertools.product(PLACEMENTS, ("forward", "backward")))
    real = real_recordings()
    if args.quick:
        grid, walks, real = grid[::17], walks[::5], real[::10]
    with ProcessPoolExecutor(args.workers) as pool:
        rows = (list(pool.map(grid_case, grid)) + list(pool.map(walk_case, walks))
                + list(pool.map(real_case, real)))
    table = pd.DataFrame(rows)
    columns = [f"parity_{c}" for c in CHUNKS]
    table["min_parity"] = table[columns].min(axis=1)
    worst = table.nsmallest(5, "min_parity")
    sim = table[table.recording.str.startswith("sim")]
    walkrows = table[table.recording.str.startswith("walk")]
    realrows = table[~table.recording.str.startswith(("sim", "walk"))]
    lines = [
        "# Streaming vs offline detection (python -m benchmarks.stream_parity)", "",
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}. Steps agree within one "
        f"sample; parity = agreeing / max(streamed, offline). Chunk sizes {', '.join(map(str, CHUNKS))}.", "",
        "| set | recordings | steps (offline) | min parity | median parity | chunk-invariant |",
        "|---|---|---|---|---|---|",
    ]
    for label, part in (("simulator grid (7 placements x 2 directions x 140/180/220 spm x 50/100/200/500 Hz where the "
                         "placement allows the rate, random orientation, 30 s)", sim),
                        ("simulated walks (7 placements x forward/backward, 115 spm, 100 Hz, 30 s)", walkrows),
                        ("real: alcantara sacral running (31) + oxford phone walking (3)", realrows)):
        if len(part):
            lines.append(f"| {label} | {len(part)} | {int(part.offline_steps.sum())} | {part.min_parity.min():.4f} | "
                         f"{part.min_parity.median():.4f} | {int(part.chunk_invariant.sum())} of {len(part)} |")
    verdict = "met" if table.min_parity.min() >= TARGET else "not met"
    lines += ["", f"Target >= {TARGET:.2f} on every recording: {verdict}.", "", "Lowest five:", "",
              "| recording | offline steps | " + " | ".join(columns) + " |", "|---|---|" + "---|" * len(columns)]
    for _, r in worst.iterrows():
        lines.append(f"| {r.recording} | {r.offline_steps} | " + " | ".join(f"{r[c]:.4f}" for c in columns) + " |")
    publish("stream_parity", lines)


if __name__ == "__main__":
    main()
