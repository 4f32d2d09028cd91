"""Whole simulated sessions (walking warm-up, running bouts with turnarounds, rests, cool-down), scored per
activity. Writes benchmarks/results/sessions.md.   python -m benchmarks.sessions
"""
from __future__ import annotations

import sys

from analyzer import analyze
from analyzer.validate import match_events
from benchmarks.grid import TOLERANCE_S
from sensors import PLACEMENTS, simulate
from benchmarks.output import publish

SESSION_S = 600.0


def main() -> int:
    lines = ["# Simulated sessions", "",
             f"{SESSION_S / 60:.0f}-minute sessions (seed 4), 100 Hz with phone-like jitter (0.2) and 1 % dropped "
             "samples; recall per activity within +-40 ms; precision over all contacts. Turn steps are pivots "
             "during turnarounds; a contact inside a dropped burst cannot be seen and is not scored.", "",
             "| placement | direction | run recall | walk recall | turn recall | precision | running cadence error (spm) |",
             "|---|---|---|---|---|---|---|"]
    for placement in PLACEMENTS:
        for direction in ("backward", "forward"):
            run = simulate(placement, direction, sampling_rate_hz=100, duration_s=SESSION_S, seed=4, session=True,
                           jitter=0.2, drop_fraction=0.01)
            result = analyze(run.recording)
            truth = run.truth[~run.truth.activity.str.endswith("_in_gap")]
            recall = {a: match_events(result.steps.time_s, truth.ic_s[truth.activity == a], TOLERANCE_S).recall
                      for a in ("run", "walk", "turn")}
            precision = match_events(result.steps.time_s, truth.ic_s, TOLERANCE_S).precision
            running = truth[truth.activity == "run"].ic_s.diff().median()
            error = abs(result.summary.cadence_spm - 60 / running)
            lines.append(f"| {placement} | {direction} | {recall['run']:.3f} | {recall['walk']:.3f} | "
                         f"{recall['turn']:.3f} | {precision:.3f} | {error:.2f} |")
            print(lines[-1], file=sys.stderr)
    publish("sessions", lines, echo=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
