"""Step events for live feedback: each step the StreamingDetector makes final, with a hard-landing flag.

`StepEventStream` wraps `analyzer.stream.StreamingDetector` (the offline detector run incrementally) and turns
every final step into a `StepEvent`: its time, cadence, impact, whether it was a hard landing, and when the
event was emitted. It adds no detection of its own.

The hard-landing rule (docs/live.md), from the tibial-shock feedback studies summarised in
../shared/design/SCIENCE.md (sections 0, 5.2, 6 and 7):

- target: `target_fraction` x the runner's baseline impact. Feedback studies set the trigger at 50-80 % of the
  runner's own baseline peak acceleration and achieved reductions of 26-50 %; the default, 0.8, is the
  gentlest end of that range (Van den Berghe 2021; Crowell & Davis 2011).
- baseline: the value the caller gives (`baseline_impact_g`, for example a previous session's median), else
  the median impact of this session's first `baseline_steps` (25) observed running steps (SCIENCE.md: at
  least 25 steps per summary value, Oliveira & Pirscoveanu 2021). No step is flagged before a baseline exists.
- a step is a hard landing when the moving average of the last `moving_average_peaks` (5) observed impacts,
  this one included, is above the target: the 5-peak moving average used for live feedback (Van den Berghe
  2021), so a single noisy peak does not trigger a cue.

Only observed, running steps with a measured impact count (a shank or foot sensor's other foot is
estimated, not observed); the others are reported with `hard_landing` false.
"""
from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import pandas as pd

from sensors.errors import InputError

from .stream import StreamingDetector

DEFAULT_TARGET_FRACTION = 0.8
"""Trigger at 80 % of baseline: the upper end of the 50-80 % used by feedback studies (SCIENCE.md sections 0, 6)."""
TARGET_FRACTION_RANGE = (0.5, 0.8)
DEFAULT_BASELINE_STEPS = 25
"""At least 25 steps per summary value (SCIENCE.md section 5.2, Oliveira & Pirscoveanu 2021)."""
DEFAULT_MOVING_AVERAGE_PEAKS = 5
"""5-peak moving average for live feedback (SCIENCE.md sections 5.2 and 7, Van den Berghe 2021)."""


@dataclass(frozen=True)
class HardLandingRule:
    """When a landing counts as hard; see the module docstring for the sources."""

    baseline_impact_g: float | None = None
    baseline_steps: int = DEFAULT_BASELINE_STEPS
    target_fraction: float = DEFAULT_TARGET_FRACTION
    moving_average_peaks: int = DEFAULT_MOVING_AVERAGE_PEAKS

    def __post_init__(self):
        lo, hi = TARGET_FRACTION_RANGE
        if not lo <= self.target_fraction <= hi:
            raise InputError("hard-landing target fraction outside the studied range",
                             found=str(self.target_fraction), expected=f"{lo} to {hi} of baseline")
        if self.baseline_impact_g is not None and not (math.isfinite(self.baseline_impact_g)
                                                       and self.baseline_impact_g > 0):
            raise InputError("baseline impact must be a positive number of g", found=str(self.baseline_impact_g))
        if self.baseline_steps < 1 or self.moving_average_peaks < 1:
            raise InputError("baseline steps and moving-average peaks must be at least 1",
                             found=f"{self.baseline_steps} and {self.moving_average_peaks}")


@dataclass(frozen=True)
class StepEvent:
    """One final step, as written to the events JSONL (docs/live.md)."""

    time_s: float
    foot: str
    estimated: bool
    running: bool
    cadence_spm: float | None
    impact_g: float | None
    impact_average_g: float | None
    target_impact_g: float | None
    hard_landing: bool
    emit_time_s: float

    @property
    def latency_s(self) -> float:
        return self.emit_time_s - self.time_s

    def to_json(self) -> str:
        return json.dumps(asdict(self), allow_nan=False)


class HardLandingJudge:
    """Keeps the baseline and the moving average of impacts; judges one step at a time."""

    def __init__(self, rule: HardLandingRule):
        self.rule = rule
        self._baseline_impacts_g: list[float] = []
        self._recent_impacts_g: deque[float] = deque(maxlen=rule.moving_average_peaks)

    @property
    def baseline_impact_g(self) -> float | None:
        if self.rule.baseline_impact_g is not None:
            return self.rule.baseline_impact_g
        if len(self._baseline_impacts_g) < self.rule.baseline_steps:
            return None
        return float(np.median(self._baseline_impacts_g))

    @property
    def target_impact_g(self) -> float | None:
        baseline_g = self.baseline_impact_g
        return None if baseline_g is None else baseline_g * self.rule.target_fraction

    def judge(self, impact_g: float | None, counts: bool) -> tuple[float | None, bool]:
        """(moving average of impacts, hard landing) after this step; `counts`: observed running step."""
        if not counts or impact_g is None:
            return None, False
        if len(self._baseline_impacts_g) < self.rule.baseline_steps:
            self._baseline_impacts_g.append(impact_g)
        self._recent_impacts_g.append(impact_g)
        average_g = float(np.mean(self._recent_impacts_g))
        target_g = self.target_impact_g
        full = len(self._recent_impacts_g) == self._recent_impacts_g.maxlen
        return average_g, bool(target_g is not None and full and average_g > target_g)


class StepEventStream:
    """StreamingDetector + HardLandingJudge: push samples, get StepEvents.

    `clock()` gives the emit time in the stream's time base (for example the device clock during a live
    session); without one, an event is stamped with the time of the newest sample pushed (or, at `flush`,
    the last sample).
    """

    def __init__(self, detector: StreamingDetector, rule: HardLandingRule = HardLandingRule(),
                 clock: Callable[[], float] | None = None):
        self.detector = detector
        self.judge = HardLandingJudge(rule)
        self.clock = clock
        self.last_time_s: float | None = None

    def push(self, time_s, acc_g) -> list[StepEvent]:
        time_s = np.asarray(time_s, dtype=float).reshape(-1)
        steps = self.detector.push(time_s, acc_g)
        if len(time_s):
            self.last_time_s = float(time_s[-1])
        return self._events(steps)

    def flush(self) -> list[StepEvent]:
        return self._events(self.detector.flush())

    def _events(self, steps: pd.DataFrame) -> list[StepEvent]:
        if not len(steps):
            return []
        emit_time_s = self.clock() if self.clock is not None else self.last_time_s
        return [self._event(row, emit_time_s) for row in steps.itertuples(index=False)]

    def _event(self, step, emit_time_s: float) -> StepEvent:
        impact_g = _finite_or_none(step.impact_g)
        counts = bool(step.running) and not bool(step.estimated)
        average_g, hard = self.judge.judge(impact_g, counts)
        return StepEvent(time_s=float(step.time_s), foot=str(step.foot), estimated=bool(step.estimated),
                         running=bool(step.running), cadence_spm=_finite_or_none(step.cadence_spm),
                         impact_g=impact_g, impact_average_g=average_g, target_impact_g=self.judge.target_impact_g,
                         hard_landing=hard, emit_time_s=float(emit_time_s))


def _finite_or_none(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None
