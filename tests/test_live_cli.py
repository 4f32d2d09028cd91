"""`retrorun live --emulate` end to end in a pseudo-terminal: the screen, the events file, the recording."""
from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest

pytest.importorskip("bumble", reason="the emulator needs Google Bumble: pip install 'retrorun[test]'")

import sensors  # noqa: E402
from analyzer import analyze  # noqa: E402
from analyzer.cli import main  # noqa: E402
from analyzer.validate import match_events  # noqa: E402

TIMEOUT_S = 120.0
"""A guard against a hung process only; the session itself takes a few seconds."""


def run_in_pty(argv: list[str], cwd) -> tuple[int, str]:
    """Run `argv` with stdout and stderr on a pseudo-terminal; read until it exits; (exit code, screen text)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, close_fds=True)
    os.close(slave)
    screen = b""
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], deadline - time.monotonic())
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:          # EIO: every writer of the terminal has closed it (the process exited)
                break
            if not chunk:
                break
            screen += chunk
        return proc.wait(timeout=max(1.0, deadline - time.monotonic())), screen.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


@pytest.fixture(scope="module")
def live_session(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    code, screen = run_in_pty([sys.executable, "-m", "analyzer.cli", "live", "--emulate", "polar-h10",
                               "--emulate-speed", "20", "--seconds", "40", "--events", "ev.jsonl", "-o", "out.csv",
                               "--metronome-spm", "180", "--sound", "bell"],
                              cwd=folder)
    events = [json.loads(line) for line in (folder / "ev.jsonl").read_text().splitlines()]
    return code, screen, events, folder


def test_live_screen_shows_cadence_impacts_target_and_link(live_session):
    code, screen, events, _ = live_session
    assert code == 0, screen
    status_lines = re.findall(r"\d\d:\d\d\.\d  cadence (\d+) spm  impact ([\d. ]+) g  (target [^ ]+).*?"
                              r"steps (\d+)  gaps 0  (streaming|done)", screen)
    assert status_lines, screen
    assert status_lines[-1][4] == "done" and 170 <= int(status_lines[-1][0]) <= 195
    assert "wrote out.csv: 8000 samples at 200 Hz over 40.0 s, gaps 0" in screen
    summary = re.search(r"steps (\d+) \((\d+) hard landings, target ([\d.]+) g\); "
                        r"metronome 180 spm, (\d+) beats -> ev.jsonl", screen)
    assert summary and int(summary.group(1)) == len(events)
    hard = sum(e["hard_landing"] for e in events)
    assert int(summary.group(2)) == hard


def test_live_rings_the_metronome_and_the_hard_landing_cue(live_session):
    code, screen, events, _ = live_session
    beats = int(re.search(r"metronome 180 spm, (\d+) beats", screen).group(1))
    hard = sum(e["hard_landing"] for e in events)
    assert screen.count("\a") == beats + 2 * hard     # one ring a beat, two a hard landing, nothing else
    # 180 beats a minute of device time, from the first samples (device time ~0) until the metronome stops,
    # just before the last events are flushed (their emit time is the device clock then)
    assert beats >= 3 * 38
    assert beats <= 3 * max(e["emit_time_s"] for e in events) + 2


def test_live_events_match_the_offline_analysis_of_the_recording(live_session):
    _, _, events, folder = live_session
    offline = analyze(sensors.load(folder / "out.csv")).steps
    matched = match_events([e["time_s"] for e in events], offline.time_s, 1 / 200 + 1e-9)
    assert matched.true_positives / max(len(events), len(offline)) >= 0.99
    assert all(e["emit_time_s"] > e["time_s"] for e in events)
    observed = [e for e in events if not e["estimated"] and e["running"]]
    assert all(e["target_impact_g"] is None for e in observed[:24])   # the session's own baseline: 25 steps
    assert observed[-1]["target_impact_g"] > 0
    assert not (folder / "out.csv.journal").exists()


def test_live_refuses_a_metronome_without_sound_or_out_of_range(tmp_path, capsys):
    out = str(tmp_path / "x.csv")
    assert main(["live", "--emulate", "polar-h10", "--metronome-spm", "180", "-o", out]) == 2
    assert "--sound bell or --sound tone" in capsys.readouterr().err
    assert main(["live", "--emulate", "polar-h10", "--metronome-spm", "20", "--sound", "bell", "-o", out]) == 2
    assert "60-300 steps per minute" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_live_refuses_a_target_outside_the_studied_range(tmp_path, capsys):
    code = main(["live", "--emulate", "polar-h10", "--target-fraction", "0.95", "-o", str(tmp_path / "x.csv")])
    assert code == 2 and "target fraction" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()
