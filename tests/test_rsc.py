"""RSC foot pods: the measurement format, the cadence track and its CSV, the journal, the recorder on the
emulated pod, and cadence files through record, analyze, report, history and trends."""
from __future__ import annotations

import asyncio
import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analyzer.cli import main
from sensors.cadence import CadenceTrack, load_cadence, readings_track
from sensors.devices import PROFILES, detect_profile
from sensors.devices.base import CadenceReading, FrameError
from sensors.devices.rsc import FOOT_POD, RSC_SERVICE_UUID, decode_measurement, encode_measurement
from sensors.errors import InputError
from sensors.journal import JournalWriter, recover

# ------------------------------------------------------------------------------------------ wire format

SPEC_VECTORS = [
    # flags 0x07: stride and distance present, running; 3 m/s, 180 steps/min, 1.00 m, 1234.5 m
    (bytes.fromhex("07 0003 b4 6400 39300000"), CadenceReading(180.0, 3.0, 1.0, 1234.5, True)),
    # flags 0x00: walking, nothing optional; 640/256 = 2.5 m/s, 160 steps/min
    (bytes.fromhex("00 8002 a0"), CadenceReading(160.0, 2.5, None, None, False)),
    # flags 0x02: distance only, walking; 1 m/s, 90 steps/min, 1.0 m
    (bytes.fromhex("02 0001 5a 0a000000"), CadenceReading(90.0, 1.0, None, 1.0, False)),
    # flags 0x05: stride only, running; 0.75 m/s (192/256), 255 steps/min, 655.35 m stride
    (bytes.fromhex("05 c000 ff ffff"), CadenceReading(255.0, 0.75, 655.35, None, True)),
]


@pytest.mark.parametrize("data, reading", SPEC_VECTORS)
def test_spec_vectors_decode_and_encode(data, reading):
    assert decode_measurement(data) == reading
    assert encode_measurement(reading) == data


@pytest.mark.parametrize("data", [b"", b"\x07", b"\x00\x00\x03", bytes.fromhex("01 0003 b4 64"),
                                  bytes.fromhex("07 0003 b4 6400 393000"), bytes.fromhex("02 0001 5a 0a")])
def test_truncated_measurements_are_frame_errors(data):
    with pytest.raises(FrameError, match="RSC measurement"):
        decode_measurement(data)


def test_reserved_flag_bits_and_trailing_bytes_are_ignored():
    assert decode_measurement(bytes.fromhex("f8 0003 b4 ffff")) == CadenceReading(180.0, 3.0, None, None, False)


@pytest.mark.parametrize("reading", [CadenceReading(256, 3.0), CadenceReading(180, -0.1), CadenceReading(180, 256.0),
                                     CadenceReading(180, 3.0, stride_m=700.0), CadenceReading(180, float("nan"))])
def test_values_that_do_not_fit_are_refused(reading):
    with pytest.raises(FrameError, match="does not fit"):
        encode_measurement(reading)


@given(st.binary(max_size=24))
def test_arbitrary_bytes_decode_or_raise_frame_error_only(data):
    try:
        reading = decode_measurement(data)
    except FrameError:
        return
    assert isinstance(reading, CadenceReading) and 0 <= reading.cadence_spm <= 255


wire_readings = st.builds(
    lambda speed, cadence, stride, distance, running: CadenceReading(
        float(cadence), speed / 256, None if stride is None else stride / 100,
        None if distance is None else distance / 10, running),
    st.integers(0, 0xFFFF), st.integers(0, 0xFF), st.none() | st.integers(0, 0xFFFF),
    st.none() | st.integers(0, 0xFFFF_FFFF), st.booleans())


@given(wire_readings)
def test_encode_then_decode_is_the_identity(reading):
    data = encode_measurement(reading)
    assert decode_measurement(data) == reading
    assert encode_measurement(decode_measurement(data)) == data


def test_profile_is_registered_and_detected_by_name_or_16_bit_service():
    assert PROFILES["rsc"] is FOOT_POD and not FOOT_POD.streams_acceleration and FOOT_POD.control_uuid is None
    assert FOOT_POD.service_uuid == "00001814-0000-1000-8000-00805f9b34fb"
    for name in ("Stryd 1234", "Polar Stride 5678", "RunPod X"):
        assert detect_profile(name) is FOOT_POD
    assert detect_profile("Some pod", [RSC_SERVICE_UUID.upper()]) is FOOT_POD
    session = FOOT_POD.session()
    assert session.start_commands() == [] and session.stop_commands() == []


# ------------------------------------------------------------------------------------------ cadence track

def track_of(n=5):
    readings = [CadenceReading(170.0 + i, 3.0 + i / 256, 1.0 if i % 2 else None, 3.0 * i, [True, False, None][i % 3])
                for i in range(n)]
    return readings_track(np.arange(n) * 1.0, readings, start_time="2026-01-02T07:00:00", metadata={"device": "pod"})


def test_cadence_csv_round_trip(tmp_path):
    track = track_of()
    track.save(tmp_path / "pod.csv")
    text = (tmp_path / "pod.csv").read_text()
    assert text.startswith("# kind: cadence\n") and "time_s,cadence_spm,speed_mps,stride_m,distance_m,running\n" in text
    back = load_cadence(tmp_path / "pod.csv")
    for name in ("time_s", "cadence_spm", "speed_mps", "stride_m", "distance_m", "running"):
        np.testing.assert_array_equal(getattr(back, name), getattr(track, name))
    assert back.placement == "foot" and back.start_time == track.start_time and back.metadata["device"] == "pod"
    assert back.sampling_rate_hz == 1.0 and back.gaps == []


BAD_FILES = [
    ("time_s,acc_x,acc_y,acc_z\n0,0,0,1\n", "not a cadence file", None, None),
    ("# kind: cadence\ntime_s,cadence,speed_mps\n", "unexpected columns", 2, None),
    ("# kind: cadence\ntime_s,cadence_spm,speed_mps,stride_m,distance_m,running\n", "header only", 2, None),
    ("# kind: cadence\ntime_s,cadence_spm,speed_mps,stride_m,distance_m,running\n0,180,3,,,1\n1,fast,3,,,1\n",
     "not a number", 4, "cadence_spm"),
    ("# kind: cadence\ntime_s,cadence_spm,speed_mps,stride_m,distance_m,running\n0,180,,,,1\n", "missing value", 3,
     "speed_mps"),
    ("# kind: cadence\ntime_s,cadence_spm,speed_mps,stride_m,distance_m,running\n0,180,3,,,yes\n",
     "not a running flag", 3, "running"),
    ("# kind: cadence\ntime_s,cadence_spm,speed_mps,stride_m,distance_m,running\n0,180,3,,,1\n0,180,3,,,1\n",
     "time goes backwards or repeats", 4, "time_s"),
    ("# kind: cadence\ntime_s,cadence_spm,speed_mps,stride_m,distance_m,running\n0,-5,3,,,1\n",
     "zero or more", 3, "cadence_spm"),
    ("# kind: cadence\ntime_s,cadence_spm,speed_mps,stride_m,distance_m,running\n0,180,3,,1\n",
     "wrong number of cells", 3, None),
]


@pytest.mark.parametrize("text, what, line, column", BAD_FILES)
def test_bad_cadence_files_name_file_line_and_column(tmp_path, text, what, line, column):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=what) as err:
        load_cadence(path)
    assert err.value.path == str(path) and err.value.line == line and err.value.column == column


def test_cadence_file_is_refused_as_an_acceleration_recording(tmp_path):
    import sensors

    track_of().save(tmp_path / "pod.csv")
    with pytest.raises(InputError, match="cadence track"):
        sensors.load(tmp_path / "pod.csv")
    with pytest.raises(InputError, match="written as CSV"):
        track_of().save(tmp_path / "pod.npz")


def test_journal_readings_recover_as_a_cadence_track_even_torn(tmp_path):
    track = track_of(6)
    path = tmp_path / "pod.rrj"
    with JournalWriter(path, sampling_rate_hz=1.0, device="rsc pod") as journal:
        for t, row in zip(track.time_s, np.column_stack([track.cadence_spm, track.speed_mps, track.stride_m,
                                                         track.distance_m, track.running])):
            from sensors.emulator.rsc import reading_of
            journal.append_cadence(float(t), reading_of(row))
    recovered = recover(path)
    assert recovered.recording is None and recovered.track is recovered.cadence and recovered.clean_end
    np.testing.assert_array_equal(recovered.cadence.cadence_spm, track.cadence_spm)
    np.testing.assert_array_equal(recovered.cadence.running, track.running)
    assert recovered.cadence.placement == "foot" and recovered.cadence.metadata["device"] == "rsc pod"
    data = path.read_bytes()
    path.write_bytes(data[:-30])                     # the END record and part of the last reading torn off
    torn = recover(path)
    assert len(torn.cadence) == 5 and not torn.clean_end and torn.discarded_bytes > 0


# ------------------------------------------------------------------------------------------ recorder on the emulator

WALL_LIMIT_S = 30.0


async def record_pod(tmp_path, seconds, *, speed=10.0, fault=None, name=None):
    pytest.importorskip("bumble")
    from sensors.ble import Recorder, find_device
    from sensors.emulator.backend import BumbleClient, BumbleScanner, VirtualAir
    from sensors.emulator.rsc import EmulatedFootPod, simulated_cadence

    air = VirtualAir()
    device = EmulatedFootPod(air, FOOT_POD, simulated_cadence(seconds=seconds, seed=1), speed=speed, name=name)
    await device.start()
    found, profile = await find_device(None, None, scanner_kwargs={"backend": BumbleScanner, "air": air})
    with JournalWriter(tmp_path / "pod.rrj", sampling_rate_hz=1.0, device=profile.key) as journal:
        recorder = Recorder(profile, journal, duration_s=seconds, wall_limit_s=WALL_LIMIT_S,
                            client_kwargs={"backend": BumbleClient, "air": air}, device_speed=speed)
        task = asyncio.ensure_future(recorder.run(found))
        if fault is not None:
            await fault(device)
        result = await asyncio.wait_for(task, WALL_LIMIT_S)
    await device.stop()
    return result, device, profile, recover(tmp_path / "pod.rrj").cadence


def rows(track: CadenceTrack) -> np.ndarray:
    return np.column_stack([track.cadence_spm, track.speed_mps, track.stride_m, track.distance_m, track.running])


def test_the_recorder_journals_every_reading_the_pod_sent(tmp_path):
    result, device, profile, track = asyncio.run(record_pod(tmp_path, 60.0, name="Pod 1"))
    assert profile is FOOT_POD                         # detected from the advertised 16-bit 0x1814 alone
    _, sent = device.sent.arrays()
    assert len(track) == result.status.samples == 60 and result.status.malformed_frames == 0
    np.testing.assert_array_equal(rows(track), sent[:60])
    assert track.gaps == [] and result.status.reconnects == 0 and np.all(track.speed_mps == 3.0)
    # the simulated run behind the pod runs at 180 steps/min: the recorded cadence says so
    assert abs(np.median(track.cadence_spm) - 180.0) <= 2.0


def test_a_link_drop_is_survived_and_readings_are_never_altered(tmp_path):
    async def drop(device):
        await asyncio.wait_for(device.reached(8).wait(), WALL_LIMIT_S)
        await device.drop_link()

    result, device, _, track = asyncio.run(record_pod(tmp_path, 20.0, fault=drop))
    _, sent = device.sent.arrays()
    assert result.status.reconnects == 1
    # each received reading is one the pod sent (its distance identifies it), in order; the rest were lost
    position = {row[3]: k for k, row in enumerate(sent)}
    received = [position[d] for d in track.distance_m]
    assert received == sorted(received)
    np.testing.assert_array_equal(rows(track), sent[received])
    assert track.time_s[-1] > 12.0                     # the session went on well after the drop
    assert len(track) + device.lost_samples <= len(sent)


# ------------------------------------------------------------------------------------------ command line

@pytest.fixture(scope="module")
def pod_csv(tmp_path_factory):
    pytest.importorskip("bumble")
    path = tmp_path_factory.mktemp("pod") / "pod.csv"
    assert main(["record", "--emulate", "rsc", "--emulate-speed", "20", "--seconds", "40", "-o", str(path)]) == 0
    return path


def test_record_writes_the_cadence_csv(pod_csv, capsys):
    track = load_cadence(pod_csv)
    assert len(track) == 40 and track.placement == "foot" and track.metadata["profile"] == "rsc"
    assert not pod_csv.with_name("pod.csv.journal").exists()


def test_record_refuses_a_binary_output_for_a_cadence_profile(tmp_path, capsys):
    assert main(["record", "--emulate", "rsc", "-o", str(tmp_path / "pod.npz")]) == 2
    assert "written as CSV" in capsys.readouterr().err


def test_analyze_and_report_a_cadence_file(pod_csv, tmp_path, capsys):
    assert main(["analyze", str(pod_csv), "--json", str(tmp_path / "a.json")]) == 0
    out = capsys.readouterr().out
    assert "readings    40" in out and "no acceleration: impact not available" in out
    assert re.search(r"cadence\s+1[5-9]\d\.\d steps/min", out)
    report = tmp_path / "r.html"
    assert main(["report", str(pod_csv), "-o", str(report), "--warmup-min", "0", "--no-history"]) == 0
    page = report.read_text()
    assert 'id="fig-cadence_over_time"' in page and "No acceleration: impact not available" in page
    assert 'id="fig-impact_over_time"' not in page and "sensor range" in page


def test_history_and_trends_take_cadence_files(pod_csv, tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    assert main(["history", "add", str(pod_csv), "--db", str(db), "--warmup-min", "0", "--date", "2026-01-01"]) == 0
    from analyzer.history import History

    with History(db) as history:
        (record,) = history.sessions()
    assert math.isnan(record.stats.impact_g_median) and record.stats.impact_steps == 0
    assert 150 <= record.stats.cadence_spm <= 210 and record.stats.cadence_steps >= 25
    assert main(["trends", "--metric", "cadence", "--db", str(db), "-o", str(tmp_path / "t.html")]) == 0
    assert "1 sessions, foot sensor" in capsys.readouterr().out
    assert f"<td>{record.id}</td>" in (tmp_path / "t.html").read_text()



def test_live_refuses_a_foot_pod(tmp_path, capsys):
    assert main(["live", "--emulate", "rsc", "-o", str(tmp_path / "pod.csv")]) == 2
    assert "cadence only" in capsys.readouterr().err
