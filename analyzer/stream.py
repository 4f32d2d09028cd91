"""The offline detector, run incrementally for live feedback.

`StreamingDetector.push(time_s, acc_g)` takes chunks of any size and returns the steps that became
final. It is not a second algorithm: at each processing point it runs `analyze` on the last `window_s`
seconds and emits the contacts at least `decision_delay_s` old that it has not emitted yet. Contacts
that old sit far enough from the window's ends that the zero-phase filters, the period estimate and the
neighbourhood checks see what they would see offline, so the streamed steps agree with `analyze` on the
whole recording (tests/test_stream.py).

Processing points: every `hop_s` of data (to find new contacts), and at the first sample at or after each
provisional contact + `decision_delay_s` (to make it final). Both are fixed by the samples, never by chunk
boundaries, so the output does not depend on how the samples were chunked.

Decision delay: a step is emitted exactly when the data reaches its initial contact + `decision_delay_s`
(default 4 s; at the start of a stream, not before one full 6-s period window of data exists), i.e. with the sample that completes its look-ahead. End to end, add the time the wearable
holds that sample before sending it (one notification's worth: 0.18 s for an H10 at 200 Hz) and the
processing. Memory is bounded by the window.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sensors import Recording
from sensors.errors import InputError

from .analysis import MIN_ANALYSIS_S, analyze
from .placement import params_for
from .steps import PERIOD_WINDOW_S


SAME_CONTACT_S = 0.1
"""Half the shortest step interval at any cadence (about 0.2 s at 300 steps/min)."""


@dataclass(frozen=True)
class StreamSettings:
    """window_s: data analysed at each processing point; hop_s: the most data between processing points
    (how soon a new contact is seen); decision_delay_s: age at which a contact is final. 4 s: the
    detector's local period at a contact is interpolated between the 6-s autocorrelation windows centred
    on either side of it, 1 s apart, so it is final once the later one is complete (3 + 1 s); that is also
    several step periods, and more than the filters' edge transients (about 1 s for the 0.5 Hz gravity
    estimate). With 3 s, walk/run calls near 130 steps/min could still change (tests/test_stream.py)."""

    window_s: float = 20.0
    hop_s: float = 0.5
    decision_delay_s: float = 4.0


class StreamingDetector:
    """Incremental step detection for one sensor at a nominal `sampling_rate_hz`."""

    def __init__(self, placement: str, sampling_rate_hz: float, settings: StreamSettings = StreamSettings(),
                 **detector_overrides):
        params_for(placement, **detector_overrides)  # validates placement and overrides now, not mid-run
        if settings.decision_delay_s >= settings.window_s / 2:
            raise InputError("decision delay too long for the window", found=f"{settings.decision_delay_s} s",
                             expected=f"less than half of window_s ({settings.window_s} s)")
        self.placement = placement
        self.sampling_rate_hz = float(sampling_rate_hz)
        self.settings = settings
        self.overrides = detector_overrides
        self._hop_n = max(1, int(round(settings.hop_s * sampling_rate_hz)))
        self._window_n = int(round(settings.window_s * sampling_rate_hz))
        capacity = self._window_n + self._hop_n
        self._t = np.empty(capacity)
        self._a = np.empty((capacity, 3))
        self._n = 0                 # samples held
        self._since_processing = 0  # samples pushed since the last processing point
        self._emitted_until_s = -np.inf
        self._next_due_s = np.inf   # the data time at which the oldest provisional contact becomes final
        self._first_time_s = np.inf

    def push(self, time_s, acc_g) -> pd.DataFrame:
        """Add samples; return the steps that became final (columns of `Analysis.steps`)."""
        time_s = np.asarray(time_s, dtype=float).reshape(-1)
        acc_g = np.asarray(acc_g, dtype=float).reshape(-1, 3)
        if len(time_s) != len(acc_g):
            raise InputError("time and acceleration chunks differ in length",
                             found=f"{len(time_s)} and {len(acc_g)}", expected="equal")
        out = []
        start = 0
        while start < len(time_s):
            take = min(len(time_s) - start, self._hop_n - self._since_processing)
            due_at = int(np.searchsorted(time_s[start:start + take], self._next_due_s))
            due = due_at < take
            if due:
                take = due_at + 1
            self._append(time_s[start:start + take], acc_g[start:start + take])
            start += take
            self._since_processing += take
            if due or self._since_processing == self._hop_n:
                self._since_processing = 0
                out.append(self._process(final=False))
        return _concat(out)

    def flush(self) -> pd.DataFrame:
        """End of the stream: every remaining step is final."""
        return self._process(final=True)

    def _append(self, time_s: np.ndarray, acc_g: np.ndarray) -> None:
        if self._n + len(time_s) > len(self._t):  # keep the newest window: the rest is already decided
            keep = self._window_n - len(time_s)
            self._t[:keep] = self._t[self._n - keep:self._n]
            self._a[:keep] = self._a[self._n - keep:self._n]
            self._n = keep
        if self._n and len(time_s) and time_s[0] <= self._t[self._n - 1]:
            raise InputError("time goes backwards in the stream", found=f"{time_s[0]!r} after {self._t[self._n - 1]!r}",
                             expected="strictly increasing time_s")
        if len(time_s) and not np.isfinite(self._first_time_s):
            self._first_time_s = float(time_s[0])
        self._t[self._n:self._n + len(time_s)] = time_s
        self._a[self._n:self._n + len(time_s)] = acc_g
        self._n += len(time_s)

    def _process(self, final: bool) -> pd.DataFrame:
        lo = max(0, self._n - self._window_n)
        t = self._t[lo:self._n]
        if len(t) < 2 or t[-1] - t[0] < MIN_ANALYSIS_S:
            return _concat([])
        # the detector's nominal rate, not one estimated from this window: a phone's jittery clock would give
        # each window a slightly different rate, and with it a different resampling grid and filters
        window = Recording(time_s=t.copy(), acc_g=self._a[lo:self._n].copy(), placement=self.placement,
                           sampling_rate_hz=self.sampling_rate_hz)
        steps = analyze(window, **self.overrides).steps
        horizon_s = np.inf if final else t[-1] - self.settings.decision_delay_s
        if not final and t[-1] - self._first_time_s < PERIOD_WINDOW_S:
            horizon_s = -np.inf   # the period estimate needs one full window of data, as offline it has
        # a contact already emitted may reappear a sample or two off in the next window: anything closer than
        # SAME_CONTACT_S to the last emitted contact is that contact
        unseen = steps[steps.time_s > self._emitted_until_s + SAME_CONTACT_S]
        new = unseen[unseen.time_s <= horizon_s]
        if len(new):
            self._emitted_until_s = float(new.time_s.iloc[-1])
        pending = unseen.time_s[unseen.time_s > horizon_s]
        self._next_due_s = (max(float(pending.iloc[0]) + self.settings.decision_delay_s,
                                self._first_time_s + PERIOD_WINDOW_S) if len(pending) else np.inf)
        return new.reset_index(drop=True)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        from .analysis import STEP_COLUMNS
        return pd.DataFrame({c: [] for c in STEP_COLUMNS})
    return pd.concat(frames, ignore_index=True)
