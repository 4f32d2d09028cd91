"""`retrorun record --emulate` and `retrorun recover`, end to end (emulated device, real process for kill -9)."""
from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("bumble", reason="the emulator needs Google Bumble: pip install 'retrorun[test]'")

import sensors  # noqa: E402
from analyzer import analyze  # noqa: E402
from analyzer.cli import main  # noqa: E402
from analyzer.validate import match_events  # noqa: E402
from sensors.journal import JournalWriter, recover  # noqa: E402
from sensors.simulator import simulate  # noqa: E402

TIMEOUT_S = 30.0


def test_record_emulated_h10_writes_the_simulated_run(tmp_path, capsys):
    out = tmp_path / "run.csv"
    assert main(["record", "--emulate", "polar-h10", "--seconds", "3", "--emulate-speed", "10", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "wrote" in captured.out and "600 samples" in captured.out and "gaps 0" in captured.out
    assert re.search(r"\d+ samples .* Hz .*gaps 0", captured.err)        # the live status line
    rec = sensors.load(out)
    served = simulate("shank", "backward", sampling_rate_hz=200.0, duration_s=5.0, seed=0).recording.acc_g
    assert len(rec) == 600 and rec.placement == "shank" and rec.gaps == []
    np.testing.assert_allclose(rec.acc_g, np.clip(served[:600], -8, 8), atol=0.0006)
    assert not (tmp_path / "run.csv.journal").exists()


SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "backward_shank_200hz.csv"


def test_record_replays_a_recording_file_through_the_emulated_device(tmp_path, capsys):
    out = tmp_path / "again.csv"
    assert main(["record", "--emulate", "polar-h10", "--replay", str(SAMPLE), "--emulate-speed", "40",
                 "-o", str(out)]) == 0
    original, replayed = sensors.load(SAMPLE), sensors.load(out)
    n = len(replayed)
    assert n >= len(original) - 1 and replayed.placement == original.placement and replayed.gaps == []
    np.testing.assert_allclose(replayed.acc_g, np.clip(original.acc_g[:n], -8, 8), atol=0.0006)  # mG on the wire
    before, after = analyze(original).steps.time_s, analyze(replayed).steps.time_s
    assert len(after) == len(before)
    np.testing.assert_allclose(after, before, atol=1 / 200 + 1e-9)


def test_replay_at_another_rate_is_resampled_and_keeps_the_steps(tmp_path):
    out = tmp_path / "again.csv"
    assert main(["record", "--emulate", "verity-sense", "--replay", str(SAMPLE), "--seconds", "20",
                 "--emulate-speed", "40", "-o", str(out)]) == 0
    replayed = sensors.load(out)
    assert replayed.sampling_rate_hz == pytest.approx(52, rel=1e-4) and replayed.duration_s == pytest.approx(20, abs=0.05)
    original = sensors.load(SAMPLE)
    within = original.time_s <= 20
    truth = analyze(sensors.Recording(time_s=original.time_s[within], acc_g=original.acc_g[within],
                                      placement="shank")).steps.time_s
    found = match_events(analyze(replayed).steps.time_s, truth, 0.04)
    assert found.true_positives >= len(truth) - 2


def test_replay_needs_emulate(tmp_path, capsys):
    assert main(["record", "--replay", str(SAMPLE), "-o", str(tmp_path / "x.csv")]) == 2
    assert "--replay needs --emulate" in capsys.readouterr().err


def test_record_refuses_an_unsupported_rate_with_exit_2(tmp_path, capsys):
    code = main(["record", "--emulate", "polar-h10", "--rate-hz", "300", "--seconds", "1", "-o", str(tmp_path / "x.csv")])
    assert code == 2 and "cannot sample at 300 Hz" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_recover_command_rebuilds_a_journal(tmp_path, capsys):
    journal = tmp_path / "run.csv.journal"
    writer = JournalWriter(journal, sampling_rate_hz=100.0, placement="wrist")
    writer.append_samples(0, np.arange(50) / 100.0, np.tile([0.0, 0.0, 1.0], (50, 1)))
    assert main(["recover", str(journal), "-o", str(tmp_path / "run.csv")]) == 0
    printed = capsys.readouterr().out
    assert "50 samples" in printed and "not closed" in printed
    assert len(sensors.load(tmp_path / "run.csv")) == 50
    writer.close()
    assert main(["recover", str(tmp_path / "missing.journal"), "-o", str(tmp_path / "x.csv")]) == 2


async def signal_after_status(out, signum, min_samples: int = 200) -> tuple[int, int]:
    """Run `retrorun record --emulate` in a real process, send `signum` once the status line counts
    `min_samples`; (samples last reported, exit code)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "analyzer.cli", "record", "--emulate", "polar-h10", "--seconds", "120",
        "-o", str(out), stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL)
    seen, reported = "", 0
    try:
        while reported < min_samples:
            chunk = await asyncio.wait_for(proc.stderr.read(4096), TIMEOUT_S)
            assert chunk, f"recorder ended early: {seen}"
            seen += chunk.decode()
            counts = re.findall(r"(\d+) samples", seen)
            reported = int(counts[-1]) if counts else 0
        proc.send_signal(signum)
        await asyncio.wait_for(proc.communicate(), TIMEOUT_S)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return reported, proc.returncode


def test_kill_9_then_recover_keeps_everything_reported(tmp_path):
    """The status line is printed after samples are journaled, so a kill -9 right after it loses none of them."""
    out = tmp_path / "run.csv"
    reported, code = asyncio.run(signal_after_status(out, signal.SIGKILL))
    assert code == -signal.SIGKILL and not out.exists()
    journal = tmp_path / "run.csv.journal"
    recovered = recover(journal)
    assert not recovered.clean_end
    assert len(recovered.recording) >= reported
    assert main(["recover", str(journal), "-o", str(out)]) == 0 and len(sensors.load(out)) >= reported


def test_ctrl_c_stops_cleanly_and_finalises(tmp_path):
    out = tmp_path / "run.csv"
    reported, code = asyncio.run(signal_after_status(out, signal.SIGINT))
    assert code == 0 and not (tmp_path / "run.csv.journal").exists()
    assert len(sensors.load(out)) >= reported


def test_record_never_replaces_an_earlier_session_unless_told(tmp_path, capsys):
    out = tmp_path / "run.csv"
    out.write_text("an earlier session\n")
    assert main(["record", "--emulate", "polar-h10", "--seconds", "1", "--emulate-speed", "10", "-o", str(out)]) == 2
    assert "output file exists" in capsys.readouterr().err and out.read_text() == "an earlier session\n"
    assert main(["record", "--emulate", "polar-h10", "--seconds", "1", "--emulate-speed", "10", "--overwrite",
                 "-o", str(out)]) == 0
    assert len(sensors.load(out)) == 200
