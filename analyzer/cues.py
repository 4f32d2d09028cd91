"""Sounds during a live run: a metronome at a target cadence and a cue on every hard landing.

Step-rate retraining uses a metronome at +5 to +10 % of the runner's preferred cadence (Heiderscheit 2011),
and tibial-shock retraining a cue when a landing is too hard, triggered at 50-80 % of the runner's own
baseline (Crowell & Davis 2011; Wood & Kipp 2014); ../shared/design/SCIENCE.md sections 0 and 6.

Two outputs: the terminal bell (no dependency: most terminals beep, Termux can vibrate) and tones through the
sound card with the optional `sounddevice` package (a short high click for the beat, a low double tone for a
hard landing, so the two are told apart by ear).
"""
from __future__ import annotations

import math
import sys
import threading
from typing import Callable, Protocol, TextIO

import numpy as np

from sensors.errors import InputError

SOUNDS = ("off", "bell", "tone")
TONE_RATE_HZ = 44100
CLICK_HZ, CLICK_S = 1500.0, 0.03
ALERT_HZ, ALERT_S = 440.0, 0.12
MIN_METRONOME_SPM, MAX_METRONOME_SPM = 60.0, 300.0


class Cues(Protocol):
    def click(self) -> None: ...
    def alert(self) -> None: ...


class SilentCues:
    def click(self) -> None:
        pass

    def alert(self) -> None:
        pass


class BellCues:
    """The terminal bell: one for a beat, two for a hard landing. Counts what it rang."""

    def __init__(self, out: TextIO | None = None):
        self.out = out or sys.stderr
        self.bells = 0
        self._lock = threading.Lock()      # the metronome and the detector ring from different threads

    def _ring(self, n: int) -> None:
        with self._lock:
            self.out.write("\a" * n)
            self.out.flush()
            self.bells += n

    def click(self) -> None:
        self._ring(1)

    def alert(self) -> None:
        self._ring(2)


def tone(frequency_hz: float, duration_s: float, rate_hz: int = TONE_RATE_HZ) -> np.ndarray:
    """A sine burst with 5 ms raised-cosine edges (no clicks at its ends), float32 in [-0.5, 0.5]."""
    n = max(1, int(round(duration_s * rate_hz)))
    t = np.arange(n) / rate_hz
    edge = min(n // 2, int(0.005 * rate_hz))
    envelope = np.ones(n)
    if edge:
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(edge) / edge)
        envelope[:edge], envelope[n - edge:] = ramp, ramp[::-1]
    return (0.5 * envelope * np.sin(2 * np.pi * frequency_hz * t)).astype(np.float32)


class ToneCues:
    """Tones through the sound card (`play(samples, rate_hz)`, by default sounddevice.play)."""

    def __init__(self, play: Callable[[np.ndarray, int], None] | None = None):
        if play is None:
            try:
                import sounddevice
            except (ImportError, OSError):
                raise InputError("--sound tone needs the sounddevice package and PortAudio "
                                 "(pip install sounddevice; on Debian: apt install libportaudio2); "
                                 "--sound bell needs nothing") from None
            play = sounddevice.play
        self._play = play
        self._click = tone(CLICK_HZ, CLICK_S)
        gap = np.zeros(int(0.06 * TONE_RATE_HZ), dtype=np.float32)
        self._alert = np.concatenate([tone(ALERT_HZ, ALERT_S), gap, tone(ALERT_HZ, ALERT_S)])

    def click(self) -> None:
        self._play(self._click, TONE_RATE_HZ)

    def alert(self) -> None:
        self._play(self._alert, TONE_RATE_HZ)


def open_cues(sound: str, out: TextIO | None = None) -> Cues:
    if sound == "off":
        return SilentCues()
    if sound == "bell":
        return BellCues(out)
    if sound == "tone":
        return ToneCues()
    raise InputError("unknown sound", found=sound, expected=", ".join(SOUNDS))


def check_metronome_spm(spm: float | None) -> None:
    if spm is not None and not MIN_METRONOME_SPM <= spm <= MAX_METRONOME_SPM:
        raise InputError("--metronome-spm out of range", found=f"{spm:g}",
                         expected=f"{MIN_METRONOME_SPM:g}-{MAX_METRONOME_SPM:g} steps per minute")


class Metronome:
    """Beats at `spm` per minute of device time, on a schedule fixed at `start` (no drift from late wakes).

    `now_s` is the device clock (an emulator running faster than real time beats faster too). A thread
    waits for each beat; a late wake plays the beats it owes at once rather than shifting the schedule.
    """

    def __init__(self, spm: float, cues: Cues, now_s: Callable[[], float], speed: float = 1.0):
        check_metronome_spm(spm)
        self.period_s = 60.0 / spm
        self.cues = cues
        self.now_s = now_s
        self.speed = speed
        self.beats = 0
        self._origin_s: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beats_due(self, now_s: float) -> int:
        """Beats owed at device time `now_s`: the first falls at the start, then one every period."""
        if self._origin_s is None:
            self._origin_s = now_s
        return int(math.floor((now_s - self._origin_s) / self.period_s)) + 1 - self.beats

    def tick(self) -> float:
        """Play the beats owed now; the wall seconds until the next one."""
        now_s = self.now_s()
        for _ in range(max(0, self.beats_due(now_s))):
            self.cues.click()
            self.beats += 1
        next_s = self._origin_s + self.beats * self.period_s
        return max(0.0, (next_s - now_s) / self.speed)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="retrorun-metronome", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.tick()):
            pass
