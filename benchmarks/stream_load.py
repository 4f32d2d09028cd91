"""Two hours at 200 Hz through the StreamingDetector in 1-second chunks (issue 7 target: memory flat, under
10 % of one core).

The stream is a 10-minute simulated backward run (shank, 200 Hz) repeated 12 times with increasing time, so
the data in memory stays small and what grows, if anything, is the detector. CPU is the process time spent in
`push` as a percentage of the stream's real duration (7200 s); memory is the process's resident set size
(VmRSS) sampled every 15 minutes of stream time.
Writes benchmarks/results/stream_load.md.
    python -m benchmarks.stream_load [--hours 2]
"""
from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path


from analyzer.stream import StreamingDetector, StreamSettings
from sensors import simulate
from benchmarks.output import publish

RATE_HZ = 200.0
CHUNK_S = 1.0
SEGMENT_S = 600.0
MEMORY_EVERY_S = 900.0
TARGET_PERCENT = 10.0


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def stream_load(hours: float) -> dict:
    segment = simulate("shank", "backward", sampling_rate_hz=RATE_HZ, duration_s=SEGMENT_S, seed=0).recording
    detector = StreamingDetector("shank", RATE_HZ, StreamSettings())
    chunk_n, segment_n = int(CHUNK_S * RATE_HZ), len(segment)
    total_n = int(hours * 3600 * RATE_HZ)
    memory = [(0.0, rss_mb())]
    cpu_s, worst_push_s, steps = 0.0, 0.0, 0
    for start in range(0, total_n, chunk_n):
        lo = start % segment_n
        time_s = segment.time_s[lo:lo + chunk_n] + (start // segment_n) * (SEGMENT_S + 1.0 / RATE_HZ)
        acc_g = segment.acc_g[lo:lo + chunk_n]
        cpu0, wall0 = time.process_time(), time.perf_counter()
        steps += len(detector.push(time_s, acc_g))
        cpu_s += time.process_time() - cpu0
        worst_push_s = max(worst_push_s, time.perf_counter() - wall0)
        stream_s = (start + chunk_n) / RATE_HZ
        if stream_s % MEMORY_EVERY_S == 0:
            memory.append((stream_s, rss_mb()))
    return {"stream_s": total_n / RATE_HZ, "cpu_s": cpu_s, "worst_push_s": worst_push_s, "steps": steps,
            "memory": memory}


def report(result: dict) -> list[str]:
    percent = 100.0 * result["cpu_s"] / result["stream_s"]
    memory = result["memory"]
    after_warmup = [mb for s, mb in memory if s >= MEMORY_EVERY_S]
    growth_mb = after_warmup[-1] - after_warmup[0]
    return [
        "# Streaming detector load (python -m benchmarks.stream_load)", "",
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}; "
        f"{result['stream_s'] / 3600:g} h at {RATE_HZ:g} Hz (shank, backward, a 10-minute simulated run repeated) "
        f"pushed in {CHUNK_S:g}-s chunks; window {StreamSettings().window_s:g} s, "
        f"hop {StreamSettings().hop_s:g} s.", "",
        "| measure | value |", "|---|---|",
        f"| CPU in push | {result['cpu_s']:.1f} s for {result['stream_s']:.0f} s of stream = **{percent:.2f} % of one "
        f"core** ({'under' if percent < TARGET_PERCENT else 'over'} the {TARGET_PERCENT:g} % target) |",
        f"| slowest push (1 s chunk) | {result['worst_push_s'] * 1000:.0f} ms |",
        f"| steps emitted | {result['steps']} |",
        f"| resident memory, start / after 15 min / end | {memory[0][1]:.0f} / {after_warmup[0]:.0f} / "
        f"{after_warmup[-1]:.0f} MB (growth after warm-up {growth_mb:+.1f} MB) |", "",
        "Resident memory every 15 minutes of stream (MB): "
        + ", ".join(f"{s / 60:.0f} min {mb:.1f}" for s, mb in memory), ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=2.0)
    args = parser.parse_args()
    lines = report(stream_load(args.hours))
    publish("stream_load", lines)


if __name__ == "__main__":
    main()
