"""Metronome schedule and cue sounds for `retrorun live` (analyzer.cues)."""
import io

import numpy as np
import pytest

from analyzer.cues import ALERT_HZ, CLICK_HZ, TONE_RATE_HZ, BellCues, Metronome, ToneCues, tone
from sensors import InputError


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_metronome_beats_on_a_fixed_schedule_and_catches_up_after_a_late_wake():
    clock, out = FakeClock(), io.StringIO()
    metronome = Metronome(180, BellCues(out), clock)
    assert metronome.tick() == pytest.approx(1 / 3)       # the first beat at once, the next a third of a second on
    clock.now += 0.2
    assert metronome.tick() == pytest.approx(1 / 3 - 0.2) and metronome.beats == 1
    clock.now += 1.0                                     # woke late: owes the beats at 1/3, 2/3 and 1 s
    metronome.tick()
    assert metronome.beats == 4 and out.getvalue() == "\a" * 4
    clock.now = 100.0 + 60.0                             # a minute on: 180 beats after the first, none skipped
    metronome.tick()
    assert metronome.beats == 181


def test_metronome_at_emulation_speed_waits_proportionally_less_wall_time():
    clock = FakeClock()
    metronome = Metronome(120, BellCues(io.StringIO()), clock, speed=10.0)
    assert metronome.tick() == pytest.approx(0.5 / 10)


def test_bell_rings_once_for_a_beat_twice_for_a_hard_landing():
    cues = BellCues(io.StringIO())
    cues.click()
    cues.alert()
    assert cues.bells == 3 and cues.out.getvalue() == "\a\a\a"


def test_tones_have_their_pitch_and_soft_edges():
    for frequency_hz in (CLICK_HZ, ALERT_HZ):
        samples = tone(frequency_hz, 0.1)
        spectrum = np.abs(np.fft.rfft(samples))
        peak_hz = np.argmax(spectrum) * TONE_RATE_HZ / len(samples)
        assert abs(peak_hz - frequency_hz) <= TONE_RATE_HZ / len(samples)
        assert abs(samples[0]) < 1e-3 and abs(samples[-1]) < 1e-2 and np.max(np.abs(samples)) <= 0.5


def test_tone_cues_play_a_short_click_and_a_longer_double_alert():
    played = []
    cues = ToneCues(play=lambda samples, rate_hz: played.append((len(samples), rate_hz)))
    cues.click()
    cues.alert()
    (click_n, rate_hz), (alert_n, _) = played
    assert rate_hz == TONE_RATE_HZ and click_n < alert_n


def test_metronome_out_of_range_is_refused():
    with pytest.raises(InputError, match="60-300"):
        Metronome(400, BellCues(io.StringIO()), FakeClock())
