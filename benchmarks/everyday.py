"""Real everyday recordings (issue 16): no steps where nobody walks, no running where nobody runs, jogs called
runs at the right cadence, on the scoring half of the people (even numbers; the odd ones chose the gate's
thresholds, benchmarks/tuning/gate.py), as recorded and perturbed (50/52 Hz, 0.02/0.05 g noise, +-2 g
clipping, timestamp jitter). Writes benchmarks/results/everyday.md and everyday.json, and their tables into
docs/validation.md.

    python -m benchmarks.everyday            (about 3 minutes on 2 cores)
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np
from scipy import signal

from analyzer import analyze
from benchmarks.output import publish, publish_json
from benchmarks.realdata import (HAPT, MOTIONSENSE, NON_GAIT, OXFORD, hapt_sessions, motionsense_segments,
                                 oxford_walks)
from sensors import Recording

WALKS = ("walking", "walking_upstairs", "walking_downstairs", "stairs_up", "stairs_down")
STILL = ("sitting", "standing", "lying")
SPECTRAL_STEP_BAND_HZ = (2.0, 4.0)
"""A jog's step rate is sought in 120-240 steps/min: above a pocket's stride fundamental (about 1.4 Hz)."""
CADENCE_TOLERANCE = 0.05
BODY_DETECTORS = ("sacrum", "chest", "phone_pocket", "phone_arm", "wrist")


def perturbations(seed: int = 16):
    """(name, function of a Recording) for each perturbation of issue 16; the noise and jitter seeded."""
    rng = np.random.default_rng(seed)

    def resample(rate_hz):
        def apply(rec: Recording) -> Recording:
            t = np.arange(rec.time_s[0], rec.time_s[-1], 1.0 / rate_hz)
            acc = np.column_stack([np.interp(t, rec.time_s, rec.acc_g[:, k]) for k in range(3)])
            return Recording(time_s=t, acc_g=acc, placement=rec.placement, metadata=rec.metadata)
        return apply

    def noise(std_g):
        return lambda rec: Recording(time_s=rec.time_s, acc_g=rec.acc_g + rng.normal(0.0, std_g, rec.acc_g.shape),
                                     placement=rec.placement, metadata=rec.metadata)

    def clip(rec: Recording) -> Recording:
        return Recording(time_s=rec.time_s, acc_g=np.clip(rec.acc_g, -2.0, 2.0), placement=rec.placement,
                         metadata={**rec.metadata, "range_g": 2.0})

    def jitter(rec: Recording) -> Recording:
        period_s = float(np.median(np.diff(rec.time_s)))
        t = rec.time_s + rng.normal(0.0, 0.2 * period_s, len(rec.time_s))
        return Recording(time_s=np.sort(t), acc_g=rec.acc_g, placement=rec.placement, metadata=rec.metadata)

    return [("as recorded", lambda rec: rec), ("50 Hz", resample(50.0)), ("52 Hz", resample(52.0)),
            ("noise 0.02 g", noise(0.02)), ("noise 0.05 g", noise(0.05)), ("clipped at 2 g", clip),
            ("jitter 20 %", jitter)]


@dataclass
class Tally:
    """Minutes and steps per activity class."""

    minutes: dict = field(default_factory=dict)
    steps: dict = field(default_factory=dict)
    running: dict = field(default_factory=dict)
    cadence_ok: list = field(default_factory=list)

    def add(self, kind: str, minutes: float, steps: int, running: int) -> None:
        self.minutes[kind] = self.minutes.get(kind, 0.0) + minutes
        self.steps[kind] = self.steps.get(kind, 0) + steps
        self.running[kind] = self.running.get(kind, 0) + running

    def figures(self) -> dict:
        def per_min(d, kinds):
            m = sum(self.minutes.get(k, 0.0) for k in kinds)
            return sum(d.get(k, 0) for k in kinds) / m if m else float("nan")

        def share(kinds):
            n = sum(self.steps.get(k, 0) for k in kinds)
            return sum(self.running.get(k, 0) for k in kinds) / n if n else float("nan")

        return {"still_steps_per_min": per_min(self.steps, ["still"]),
                "non_gait_running_steps_per_min": per_min(self.running, ["still", "moves"]),
                "walk_running_share": share(["walk"]), "stairs_running_share": share(["stairs"]),
                "jog_running_share": share(["jog"]),
                "jog_cadence_within_5pct": (float(np.mean(self.cadence_ok)) if self.cadence_ok else float("nan")),
                "minutes": {k: round(v, 1) for k, v in self.minutes.items()}}


def kind_of(activity: str) -> str:
    if activity in STILL:
        return "still"
    if activity in NON_GAIT:
        return "moves"
    if activity == "jogging":
        return "jog"
    return "walk" if activity == "walking" else "stairs"


def spectral_step_rate_spm(rec: Recording) -> float:
    """The step rate the signal itself shows: the Welch peak of the magnitude within SPECTRAL_STEP_BAND_HZ."""
    fs = 1.0 / float(np.median(np.diff(rec.time_s)))
    magnitude = np.linalg.norm(rec.acc_g, axis=1)
    freq_hz, power = signal.welch(magnitude - magnitude.mean(), fs=fs, nperseg=min(len(magnitude), int(8 * fs)))
    band = (freq_hz >= SPECTRAL_STEP_BAND_HZ[0]) & (freq_hz <= SPECTRAL_STEP_BAND_HZ[1])
    return 60.0 * float(freq_hz[band][np.argmax(power[band])])


def score_motionsense(perturb, tally: Tally) -> None:
    for activity, _, rec in motionsense_segments(tuning=False):
        rec = perturb(rec)
        result = analyze(rec)
        steps = result.steps
        kind = kind_of(activity)
        tally.add(kind, rec.duration_s / 60.0, len(steps), int(steps.running.sum()))
        if kind == "jog":
            cadence = result.summary.cadence_spm
            reference = spectral_step_rate_spm(rec)
            tally.cadence_ok.append(bool(np.isfinite(cadence) and abs(cadence / reference - 1) <= CADENCE_TOLERANCE))


def score_hapt(perturb, tally: Tally, placement: str = "sacrum") -> None:
    for _, _, rec, labels in hapt_sessions(tuning=False):
        steps = analyze(perturb(rec), placement=placement).steps
        time_s, running = steps.time_s.to_numpy(), steps.running.to_numpy(dtype=bool)
        for row in labels.itertuples():
            inside = (time_s >= row.start_s) & (time_s < row.end_s)
            tally.add(kind_of(row.activity), (row.end_s - row.start_s) / 60.0, int(inside.sum()),
                      int((inside & running).sum()))


def score_oxford(perturb) -> dict:
    out = {}
    for name, rec, truth in oxford_walks(cleaned=True):
        steps = analyze(perturb(rec)).steps
        out[name] = {"placement": rec.placement, "steps": len(steps), "truth": len(truth),
                     "count_error_pct": 100.0 * (len(steps) / len(truth) - 1),
                     "walk_running_share": float(steps.running.mean()) if len(steps) else float("nan")}
    return out


def fmt(x, pct=False) -> str:
    if x is None or not np.isfinite(x):
        return "-"
    return f"{100 * x:.1f} %" if pct else f"{x:.2f}"


def main() -> int:
    if not (MOTIONSENSE.is_dir() and HAPT.is_dir() and OXFORD.is_dir()):
        print(f"skipped: real recordings not found under {MOTIONSENSE.parent}", file=sys.stderr)
        return 0
    results = {"pocket (motionsense)": {}, "waist (hapt, as sacrum)": {}, "oxford walks": {}}
    for name, perturb in perturbations():
        pocket, waist = Tally(), Tally()
        score_motionsense(perturb, pocket)
        score_hapt(perturb, waist)
        results["pocket (motionsense)"][name] = pocket.figures()
        results["waist (hapt, as sacrum)"][name] = waist.figures()
        results["oxford walks"][name] = score_oxford(perturb)
    detectors = {}
    for placement in BODY_DETECTORS:
        tally = Tally()
        score_hapt(lambda rec: rec, tally, placement)
        detectors[placement] = tally.figures()
    results["waist (hapt) under each body-worn detector"] = detectors
    publish_json("everyday", results)
    lines = ["# Real everyday recordings: the gait gate and walk/run calls (issue 16)", "",
             "Scoring half only (even-numbered people; the odd ones chose the thresholds: benchmarks/tuning/gate.py). "
             "Targets: sitting/standing/lying <= 0.2 steps/min; non-gait movements (those and the postural "
             "transitions) <= 0.5 running steps/min; walks called running <= 2 %; jogs called running >= 98 %; "
             "jogging cadence within 5 % of the signal's spectral step rate in >= 97 % of recordings.", "",
             "| data | perturbation | still steps/min | non-gait running steps/min | walks running | stairs running "
             "| jogs running | jog cadence within 5 % |", "|---|---|---|---|---|---|---|---|"]
    for data in ("pocket (motionsense)", "waist (hapt, as sacrum)"):
        for name, f in results[data].items():
            lines.append(f"| {data} | {name} | {fmt(f['still_steps_per_min'])} | "
                         f"{fmt(f['non_gait_running_steps_per_min'])} | {fmt(f['walk_running_share'], True)} | "
                         f"{fmt(f['stairs_running_share'], True)} | {fmt(f['jog_running_share'], True)} | "
                         f"{fmt(f['jog_cadence_within_5pct'], True)} |")
    lines += ["", "Oxford phone walks (foot-switch truth, mended): step count error and share called running.", "",
              "| perturbation | " + " | ".join(results["oxford walks"]["as recorded"]) + " |",
              "|---|" + "---|" * len(results["oxford walks"]["as recorded"])]
    for name, walks in results["oxford walks"].items():
        lines.append(f"| {name} | " + " | ".join(f"{w['count_error_pct']:+.1f} %, {fmt(w['walk_running_share'], True)} run"
                                                  for w in walks.values()) + " |")
    lines += ["", "The waist sessions under every body-worn detector (a wrong placement stated):", "",
              "| detector | still steps/min | non-gait running steps/min | walks running | stairs running |",
              "|---|---|---|---|---|"]
    for placement, f in detectors.items():
        lines.append(f"| {placement} | {fmt(f['still_steps_per_min'])} | {fmt(f['non_gait_running_steps_per_min'])} "
                     f"| {fmt(f['walk_running_share'], True)} | {fmt(f['stairs_running_share'], True)} |")
    publish("everyday", lines)
    from benchmarks.accuracy import write_doc
    write_doc()  # docs/validation.md shows these tables
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
