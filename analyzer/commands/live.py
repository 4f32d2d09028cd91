"""`retrorun live`: `retrorun record`, plus step events and a live terminal view while recording.

The recording path is record.py's own (`record_session` / `finalise_session`: same supervisor, journal and
gap accounting). The only addition is `LiveFeed`, which the Recorder appends to instead of the journal: it
forwards every call to the journal first, then hands a copy of the samples to a worker thread that runs the
streaming detector (analyzer.live), so detection never blocks the BLE event loop.
"""
from __future__ import annotations

import argparse
import queue
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from sensors.errors import InputError

from ..cues import SOUNDS, Cues, Metronome, check_metronome_spm, open_cues
from ..live import DEFAULT_TARGET_FRACTION, HardLandingRule, StepEvent, StepEventStream
from ..stream import StreamingDetector, StreamSettings
from .record import SessionHooks, add_recording_arguments, finalise_session, record_session

EPILOG_LIVE = """\
examples:
  retrorun live --device "Polar H10 A1B2C3D4" --events run.jsonl -o run.csv
  retrorun live --emulate polar-h10 --emulate-speed 20 --seconds 60 --events try.jsonl -o try.csv
  retrorun live --emulate polar-h10 --baseline-impact-g 6.5 -o try.csv
  retrorun live --device "Polar H10 A1B2C3D4" --metronome-spm 176 --sound bell -o run.csv
  retrorun live --emulate polar-h10 --replay run.csv --emulate-speed 5 -o again.csv

Records exactly like `retrorun record` (journal, reconnects, gaps) and at the same time detects steps with
the offline detector run incrementally: each step is final when the data reaches 4 s after its contact
and is appended to --events as one JSON line. A landing is hard when the average of the last 5 impacts is
above --target-fraction of the baseline (docs/live.md). With --sound, hard landings are cued (bell: two
rings; tone: a low double tone) and --metronome-spm beats at your target cadence (bell: one ring; tone: a
high click).
"""

RECENT_IMPACTS_SHOWN = 3
_STOP = None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("live", help="record with live step, cadence and hard-landing feedback",
                       description="Record a wearable (or an emulated one) and show steps, cadence and impact live.",
                       epilog=EPILOG_LIVE, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_recording_arguments(p)
    p.add_argument("--events", type=Path, metavar="FILE.jsonl", help="append each step event to this file")
    p.add_argument("--baseline-impact-g", type=float, metavar="G",
                   help="your baseline impact (default: median of this session's first 25 running steps)")
    p.add_argument("--target-fraction", type=float, default=DEFAULT_TARGET_FRACTION, metavar="F",
                   help=f"hard landing above F x baseline, 0.5-0.8 (default {DEFAULT_TARGET_FRACTION})")
    p.add_argument("--metronome-spm", type=float, metavar="SPM",
                   help="beat at this cadence, steps per minute (e.g. +5 to +10 %% of your usual; needs --sound)")
    p.add_argument("--sound", choices=SOUNDS, default="off",
                   help="how cues sound: the terminal bell, or tones through the sound card (needs the "
                        "sounddevice package); default off")
    p.set_defaults(func=cmd_live)


def cmd_live(args: argparse.Namespace) -> None:
    rule = HardLandingRule(baseline_impact_g=args.baseline_impact_g, target_fraction=args.target_fraction)
    speed = args.emulate_speed if args.emulate else 1.0
    if not speed > 0:
        raise InputError("--emulate-speed must be positive", found=str(args.emulate_speed))
    check_metronome_spm(args.metronome_spm)
    key = args.emulate or args.profile
    if key:
        from sensors.devices import get_profile
        if not get_profile(key).streams_acceleration:
            raise InputError(f"live landing cues need acceleration; {key} sends cadence only",
                             expected="record it with `retrorun record`")
    if args.metronome_spm is not None and args.sound == "off":
        raise InputError("--metronome-spm needs a sound to play it", expected="--sound bell or --sound tone")
    live = LiveSession(rule, speed, args.events, cues=open_cues(args.sound), metronome_spm=args.metronome_spm)
    hooks = SessionHooks(wrap_journal=live.attach, on_status=live.print_status)
    try:
        session = record_session(args, hooks)
    finally:
        live.finish()
    # detection may lag the link's last status line (a busy machine): show the final numbers once it is done
    if session.result is not None:
        live.print_status(session.result.status)
    finalise_session(args, session)        # the recording is written even if detection failed
    live.raise_error()
    print(live.view.summary(args.events, live.metronome))


class DeviceClock:
    """The device's time base, running at `speed`, anchored when the first samples arrive."""

    def __init__(self, speed: float):
        self.speed = speed
        self._anchor: tuple[float, float] | None = None   # (device time s, monotonic s)

    def anchor(self, device_time_s: float) -> None:
        if self._anchor is None:
            self._anchor = (device_time_s, time.monotonic())

    def now_s(self) -> float:
        device_s, wall_s = self._anchor or (0.0, time.monotonic())
        return device_s + (time.monotonic() - wall_s) * self.speed


class LiveView:
    """What the terminal shows: the newest state of the session, one line."""

    def __init__(self):
        self.steps = 0
        self.hard_landings = 0
        self.last_time_s = 0.0
        self.cadence_spm: float | None = None
        self.recent_impacts_g: list[float] = []
        self.target_impact_g: float | None = None
        self.last_hard = False

    def add(self, event: StepEvent) -> None:
        self.steps += 1
        self.hard_landings += event.hard_landing
        self.cadence_spm = event.cadence_spm if event.cadence_spm is not None else self.cadence_spm
        if event.impact_average_g is not None:
            self.recent_impacts_g = (self.recent_impacts_g + [event.impact_g])[-RECENT_IMPACTS_SHOWN:]
            self.last_hard = event.hard_landing
        self.target_impact_g = event.target_impact_g

    def line(self, status: Any) -> str:
        cadence = f"{self.cadence_spm:.0f} spm" if self.cadence_spm is not None else "-- spm"
        impacts = " ".join(f"{g:.1f}" for g in self.recent_impacts_g) or "--"
        target = f"target {self.target_impact_g:.1f} g" if self.target_impact_g is not None else "target: baseline"
        link = "done" if status.finished else "streaming" if status.connected else "connecting"
        from sensors.ble import clock_text
        return (f"{clock_text(self.last_time_s)}  cadence {cadence}  impact {impacts} g  {target}"
                f"{'  HARD' if self.last_hard else ''}  steps {self.steps}  gaps {status.gaps}  {link}")

    def summary(self, events_path: Path | None, metronome: Metronome | None = None) -> str:
        target = f", target {self.target_impact_g:.2f} g" if self.target_impact_g is not None else ""
        where = f" -> {events_path}" if events_path else ""
        beats = f"; metronome {60 / metronome.period_s:g} spm, {metronome.beats} beats" if metronome else ""
        return f"steps {self.steps} ({self.hard_landings} hard landings{target}){beats}{where}"


class LiveSession:
    """Step events alongside the recording: `attach` wraps the journal, a worker thread detects and writes."""

    def __init__(self, rule: HardLandingRule, speed: float, events_path: Path | None, *, cues: Cues,
                 metronome_spm: float | None = None):
        self.rule = rule
        self.clock = DeviceClock(speed)
        self.cues = cues
        self.metronome = Metronome(metronome_spm, cues, self.clock.now_s, speed) if metronome_spm else None
        self.events_path = events_path
        self.view = LiveView()
        self.error: BaseException | None = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._out: TextIO | None = None

    def attach(self, journal: Any, rate_hz: float, placement: str | None) -> "LiveFeed":
        detector = StreamingDetector(placement or "shank", rate_hz, StreamSettings())
        stream = StepEventStream(detector, self.rule, clock=self.clock.now_s)
        self._out = open(self.events_path, "a", encoding="utf-8") if self.events_path else None
        self._thread = threading.Thread(target=self._work, args=(stream,), name="retrorun-live", daemon=True)
        self._thread.start()
        return LiveFeed(journal, self)

    def offer(self, time_s: np.ndarray, acc_g: np.ndarray) -> None:
        """Called on the event loop after the samples are journaled."""
        if len(time_s):
            self.clock.anchor(float(time_s[-1]))
            if self.metronome is not None:
                self.metronome.start()          # from the first samples: the run has begun
            self._queue.put((np.array(time_s, dtype=float), np.array(acc_g, dtype=float)))

    def print_status(self, status: Any) -> None:
        print("\r" + self.view.line(status), end="", file=sys.stderr, flush=True)

    def finish(self) -> None:
        """Stop the metronome, detect the rest (every remaining step is final), close the events file."""
        if self.metronome is not None:
            self.metronome.stop()
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None
        if self._out is not None:
            self._out.close()
            self._out = None

    def raise_error(self) -> None:
        """Re-raise what stopped the worker thread, if anything did."""
        if self.error is not None:
            raise self.error

    def _work(self, stream: StepEventStream) -> None:
        try:
            while (item := self._queue.get()) is not _STOP:
                self._publish(stream.push(*item))
                self.view.last_time_s = stream.last_time_s or 0.0
            self._publish(stream.flush())
        except Exception as exc:  # noqa: BLE001 - handed to the main thread by finish()
            self.error = exc

    def _publish(self, events: list[StepEvent]) -> None:
        for event in events:
            self.view.add(event)
            if event.hard_landing:
                self.cues.alert()
            if self._out is not None:
                self._out.write(event.to_json() + "\n")
                self._out.flush()


class LiveFeed:
    """Stands in for the journal in the Recorder: every call goes to the journal; samples also go to detection."""

    def __init__(self, journal: Any, session: LiveSession):
        self._journal = journal
        self._session = session

    def append_samples(self, first_index: int, time_s: np.ndarray, acc_g: np.ndarray) -> None:
        self._journal.append_samples(first_index, time_s, acc_g)
        if self._session.error is None:
            self._session.offer(time_s, acc_g)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._journal, name)
