"""Speed and peak memory of load (.npz) + analyse, on one core, against scikit-digital-health's gait events.

    python -m benchmarks.speed                 # everything: writes benchmarks/results/speed.json
    python -m benchmarks.speed --no-skdh       # retrorun only (under 3 minutes on a 2-core machine)

Simulated sacrum recordings of 10, 30 and 60 minutes at 100, 200 and 500 Hz (and one hour of a shank
sensor at 200 Hz), saved as .npz. Each is measured in a fresh child process pinned to one core
(sched_setaffinity to a single CPU, and OMP/OPENBLAS/MKL threads = 1): the best and median wall time of
load + analyse over REPEATS runs, and the child's peak resident memory (VmHWM of /proc/self/status: the
whole process, interpreter and libraries included) beside its resident memory after the imports.

The same files go through scikit-digital-health's gait-event step (benchmarks/skdh_events.py), in a
virtual environment of its own that this script makes on first use (SKDH_VENV; never a retrorun
dependency), also on one core; the ratio is retrorun's best time over skdh's. When skdh cannot be
installed or run, the reason is written into the results instead. The machine is shared, so figures
are the best of several runs; the growth check compares the time per minute of 60 and 10 minutes.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.output import publish_json

ROOT = Path(__file__).resolve().parents[1]
SKDH_SCRIPT = ROOT / "benchmarks" / "skdh_events.py"
SKDH_PACKAGE = "scikit-digital-health"
SKDH_VENV = Path(os.environ.get("RETRORUN_SKDH_VENV",
                                Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "retrorun" / "venv-skdh"))
"""Where skdh's own virtual environment lives: outside the repository, reused between runs."""

PLACEMENT = "sacrum"
"""Lumbar/sacral data: the placement skdh's gait events are made for, so both read the same signal."""
DURATIONS_MIN = (10, 30, 60)
RATES_HZ = (100, 200, 500)
EXTRA_CASES = (("shank", 60, 200),)
REPEATS = 5
SKDH_REPEATS = 2
SKDH_FULL_CASE = (PLACEMENT, 60, 200)
"""The one case also timed through skdh's whole GaitLumbar pipeline (20+ s, so only once)."""
ONE_CORE_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "NUMEXPR_NUM_THREADS": "1", "VECLIB_MAXIMUM_THREADS": "1"}
TARGET_HOUR_S = 1.0
TARGET_PEAK_MB = 300.0
TARGET_RATIO = 0.2
LINEAR_TOLERANCE = 1.15
"""Time per minute at 60 min may exceed that at 10 min by this factor (timing noise) and still be linear."""


@dataclass(frozen=True)
class Case:
    placement: str
    duration_min: int
    rate_hz: int
    path: str

    @property
    def name(self) -> str:
        return f"{self.placement} {self.duration_min} min {self.rate_hz} Hz"


@dataclass(frozen=True)
class RetrorunTiming:
    samples: int
    step_count: int
    load_best_s: float
    analyse_best_s: float
    total_best_s: float
    total_median_s: float
    rss_after_imports_mb: float
    peak_rss_mb: float


def pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def current_rss_mb() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return float("nan")


def peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM from /proc (ru_maxrss on Linux also counts the parent's
    memory before exec, so a child of a big process would report its parent's peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_measure(path: str, repeats: int) -> RetrorunTiming:
    """In the child process: load + analyse `repeats` times; times and memory."""
    pin_to_one_core()
    import sensors
    from analyzer import analyze

    rss_after_imports_mb = current_rss_mb()
    loads, analyses, totals = [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        recording = sensors.load(path)
        t1 = time.perf_counter()
        result = analyze(recording)
        t2 = time.perf_counter()
        samples = len(recording)
        loads.append(t1 - t0)
        analyses.append(t2 - t1)
        totals.append(t2 - t0)
        del recording
    return RetrorunTiming(samples=samples, step_count=result.summary.step_count, load_best_s=min(loads), analyse_best_s=min(analyses),
                          total_best_s=min(totals), total_median_s=statistics.median(totals),
                          rss_after_imports_mb=rss_after_imports_mb,
                          peak_rss_mb=peak_rss_mb())


def one_core_env() -> dict[str, str]:
    return {**os.environ, **ONE_CORE_ENV}


def measure_retrorun(case: Case, repeats: int) -> RetrorunTiming:
    out = subprocess.run([sys.executable, "-m", "benchmarks.speed", "--child", case.path, "--repeats", str(repeats)],
                         cwd=ROOT, env=one_core_env(), check=True, capture_output=True, text=True).stdout
    return RetrorunTiming(**json.loads(out.strip().splitlines()[-1]))


def make_recordings(folder: Path) -> list[Case]:
    """Simulate the longest recording once per placement and rate; the shorter ones are its first minutes."""
    import sensors

    cases = []
    wanted = [(PLACEMENT, d, r) for r in RATES_HZ for d in DURATIONS_MIN] + list(EXTRA_CASES)
    for placement, rate_hz in dict.fromkeys((p, r) for p, _, r in wanted):
        longest_min = max(d for p, d, r in wanted if (p, r) == (placement, rate_hz))
        run = sensors.simulate(placement, "backward", cadence_spm=180, sampling_rate_hz=rate_hz,
                               duration_s=longest_min * 60.0, seed=0)
        full = run.recording
        for p, duration_min, r in wanted:
            if (p, r) != (placement, rate_hz):
                continue
            n = int(round(duration_min * 60 * rate_hz))
            part = sensors.Recording(time_s=full.time_s[:n], acc_g=full.acc_g[:n], placement=placement,
                                     metadata=dict(full.metadata))
            path = folder / f"{placement}_{duration_min}min_{rate_hz}hz.npz"
            part.save(path)
            cases.append(Case(placement, duration_min, rate_hz, str(path)))
    return cases


# ---------------------------------------------------------------- scikit-digital-health, in its own venv

def ensure_skdh() -> tuple[Path | None, str]:
    """skdh's Python (making its virtual environment on first use), or None and why not."""
    python = SKDH_VENV / "bin" / "python"
    if not python.exists():
        made = subprocess.run([sys.executable, "-m", "venv", str(SKDH_VENV)], capture_output=True, text=True)
        if made.returncode != 0:
            return None, f"python -m venv {SKDH_VENV} failed: {_tail(made.stderr)}"
    check = subprocess.run([str(python), "-c", "import skdh; print(skdh.__version__)"], capture_output=True, text=True)
    if check.returncode == 0:
        return python, check.stdout.strip()
    installed = subprocess.run([str(python), "-m", "pip", "install", "--quiet", SKDH_PACKAGE],
                               capture_output=True, text=True)
    if installed.returncode != 0:
        return None, f"pip install {SKDH_PACKAGE} failed: {_tail(installed.stderr)}"
    check = subprocess.run([str(python), "-c", "import skdh; print(skdh.__version__)"], capture_output=True, text=True)
    if check.returncode != 0:
        return None, f"{SKDH_PACKAGE} installed but does not import: {_tail(check.stderr)}"
    return python, check.stdout.strip()


def _tail(text: str, lines: int = 3) -> str:
    return " | ".join(text.strip().splitlines()[-lines:]) or "no message"


def measure_skdh(python: Path, case: Case, full: bool) -> dict:
    cmd = [str(python), str(SKDH_SCRIPT), case.path, "--repeats", str(SKDH_REPEATS)] + (["--full"] if full else [])
    done = subprocess.run(cmd, env=one_core_env(), capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": f"skdh gait events failed on {case.name}: {_tail(done.stderr)}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- summaries

def growth(rows: list[dict]) -> list[dict]:
    """Per rate: time per minute at 60 min over that at 10 min, and the exponent k of time ~ minutes^k."""
    out = []
    for rate_hz in RATES_HZ:
        by_min = {r["duration_min"]: r["retrorun"]["total_best_s"] for r in rows
                  if r["placement"] == PLACEMENT and r["rate_hz"] == rate_hz}
        short, long_ = by_min[min(DURATIONS_MIN)], by_min[max(DURATIONS_MIN)]
        ratio = (long_ / max(DURATIONS_MIN)) / (short / min(DURATIONS_MIN))
        out.append({"rate_hz": rate_hz, "time_10_min_s": short, "time_60_min_s": long_,
                    "per_minute_60_over_10": ratio,
                    "exponent": math.log(long_ / short) / math.log(max(DURATIONS_MIN) / min(DURATIONS_MIN)),
                    "linear_or_better": ratio <= LINEAR_TOLERANCE})
    return out


def acceptance(rows: list[dict], growth_rows: list[dict], skdh_reason: str | None) -> dict:
    hour = next(r for r in rows if (r["placement"], r["duration_min"], r["rate_hz"]) == (PLACEMENT, 60, 200))
    verdict = {"hour_200hz_total_best_s": hour["retrorun"]["total_best_s"],
               "hour_200hz_under_1_s": hour["retrorun"]["total_best_s"] < TARGET_HOUR_S,
               "hour_200hz_peak_rss_mb": hour["retrorun"]["peak_rss_mb"],
               "hour_200hz_peak_under_300_mb": hour["retrorun"]["peak_rss_mb"] < TARGET_PEAK_MB,
               "growth_linear_or_better": all(g["linear_or_better"] for g in growth_rows)}
    if "ratio_to_skdh" in hour:
        verdict["hour_200hz_ratio_to_skdh"] = hour["ratio_to_skdh"]
        verdict["hour_200hz_ratio_at_most_0_2"] = hour["ratio_to_skdh"] <= TARGET_RATIO
    else:
        verdict["hour_200hz_ratio_to_skdh"] = None
        verdict["skdh_not_measured_because"] = skdh_reason or hour.get("skdh", {}).get("error")
    return verdict


def markdown_table(rows: list[dict]) -> str:
    lines = ["| recording | samples | load + analyse best (median) s | analyse s | peak RSS MB (after imports) "
             "| skdh events best s | skdh peak MB | ratio |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        rr, sk = r["retrorun"], r.get("skdh") or {}
        lines.append(f"| {r['placement']} {r['duration_min']} min {r['rate_hz']} Hz | {rr['samples']} "
                     f"| {rr['total_best_s']:.3f} ({rr['total_median_s']:.3f}) | {rr['analyse_best_s']:.3f} "
                     f"| {rr['peak_rss_mb']:.0f} ({rr['rss_after_imports_mb']:.0f}) "
                     f"| {sk.get('events_best_s', float('nan')):.2f} | {sk.get('peak_rss_mb', float('nan')):.0f} "
                     f"| {r.get('ratio_to_skdh', float('nan')):.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", metavar="NPZ", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--no-skdh", action="store_true", help="retrorun only")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(asdict(child_measure(args.child, args.repeats))))
        return 0

    started = time.perf_counter()
    python, skdh_info = (None, "skipped with --no-skdh") if args.no_skdh else ensure_skdh()
    skdh_reason = None if python else skdh_info
    print(f"skdh: {skdh_info if python else 'not measured: ' + skdh_info}", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        cases = make_recordings(Path(tmp))
        simulate_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for case in cases:
            timing = measure_retrorun(case, args.repeats)
            rows.append({"placement": case.placement, "duration_min": case.duration_min, "rate_hz": case.rate_hz,
                         "retrorun": asdict(timing)})
            print(f"{case.name}: {timing.total_best_s:.3f} s, {timing.peak_rss_mb:.0f} MB", file=sys.stderr)
        retrorun_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        if python:
            for case, row in zip(cases, rows):
                if case.placement != PLACEMENT and (case.placement, case.duration_min, case.rate_hz) != SKDH_FULL_CASE:
                    continue
                full = (case.placement, case.duration_min, case.rate_hz) == SKDH_FULL_CASE
                row["skdh"] = measure_skdh(python, case, full)
                if "events_best_s" in row["skdh"]:
                    row["ratio_to_skdh"] = row["retrorun"]["total_best_s"] / row["skdh"]["events_best_s"]
                print(f"{case.name}: skdh {row['skdh'].get('events_best_s', row['skdh'].get('error'))}", file=sys.stderr)
        skdh_s = time.perf_counter() - t0
    growth_rows = growth(rows)
    results = {
        "what": "load (.npz) + analyse on one core, best of repeats; peak memory = the child process's VmHWM (peak RSS)",
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "python": platform.python_version(), "one_core": "sched_setaffinity to one CPU + "
                    + ", ".join(f"{k}=1" for k in ONE_CORE_ENV)},
        "repeats": args.repeats, "skdh_repeats": SKDH_REPEATS,
        "skdh": {"package": SKDH_PACKAGE, "version": skdh_info if python else None, "venv": str(SKDH_VENV),
                 "step": "PreprocessGaitBout + ApCwtGaitEvents on the whole recording (GaitLumbar's gait-event "
                         "step with gait_pred=True)", "not_measured_because": skdh_reason},
        "benchmark_wall_s": {"simulate": simulate_s, "retrorun": retrorun_s, "skdh": skdh_s,
                             "total": time.perf_counter() - started},
        "rows": rows, "growth": growth_rows, "acceptance": acceptance(rows, growth_rows, skdh_reason),
    }
    publish_json("speed", results, indent=2)
    print(markdown_table(rows))
    print(json.dumps({"growth": growth_rows, "acceptance": results["acceptance"],
                      "benchmark_wall_s": results["benchmark_wall_s"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
