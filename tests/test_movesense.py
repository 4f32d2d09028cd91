"""Movesense GSP: the documented bytes, the sample clock from ms timestamps, round trips and garbage, and the
Recorder end to end on the emulated sensor (clean session, link drop, malformed frames, refusal)."""
from __future__ import annotations

import asyncio
import struct

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from sensors.ble import SampleClock
from sensors.devices import get_profile
from sensors.devices import movesense as gsp
from sensors.devices.base import ControlPointError, FrameError
from sensors.errors import DeviceError, RetrorunError
from sensors.units import STANDARD_GRAVITY_MPS2

G = STANDARD_GRAVITY_MPS2


def data_frame(ref: int, timestamp_ms: int, rows_mps2) -> bytes:
    """A /Meas/Acc DATA notification built by hand from the documented layout (not with our encoder)."""
    return bytes([2, ref]) + struct.pack("<I", timestamp_ms) + b"".join(struct.pack("<3f", *r) for r in rows_mps2)


# ------------------------------------------------------------------ documented bytes

def test_documented_commands():
    # BLE.md B.2: `01 63 "/Meas/Acc/104"` subscribes at 104 Hz with reference 0x63; `02 63` unsubscribes
    assert gsp.subscribe_command(0x63, "/Meas/Acc/104") == b"\x01\x63/Meas/Acc/104"
    assert gsp.unsubscribe_command(0x63) == bytes.fromhex("02 63")
    assert gsp.hello_command(1) == bytes.fromhex("00 01")
    subscribe = gsp.GspCommand(gsp.CommandCode.SUBSCRIBE, 0x63, "/Meas/Acc/104")
    assert gsp.decode_command(b"\x01\x63/Meas/Acc/104") == subscribe
    assert gsp.acc_rate_of("/Meas/Acc/104") == 104 and gsp.acc_rate_of("/Meas/Gyro/104") is None
    with pytest.raises(DeviceError):
        gsp.hello_command(0)                      # references are never 0


@pytest.mark.parametrize("reply, ok, status", [
    ("01 01 48 65 6c 6c 6f", True, None),       # 01 ref "Hello"
    ("01 63 01 fb", False, 507),                # the firmware sample's "no free datasub slot", as written there
    ("01 63 fb 01", False, 507),                # the same little-endian
    ("01 63 00 c8", True, 200), ("01 63 c8 00", True, 200),
    ("01 63 c8", True, 200),                    # INIT_OFFLINE's single-byte 200u
    ("01 63 01 94 00 00", False, 404),          # trailing bytes (a GET's payload) ignored
    ("01 63 02 01", False, 513),                # both orders are in 100-599: big-endian, as our encoder writes
])
def test_command_results(reply, ok, status):
    result = gsp.decode_result(bytes.fromhex(reply))
    assert result.ok == ok and result.status == status
    session = gsp.MOVESENSE.session()
    if ok:
        session.on_control_message(bytes.fromhex(reply))
    else:
        with pytest.raises(ControlPointError) as info:
            session.on_control_message(bytes.fromhex(reply))
        assert info.value.status == status and info.value.status_name in str(info.value)


def test_refusal_names_the_status_and_the_subscription():
    with pytest.raises(ControlPointError, match=r"SUBSCRIBE /Meas/Acc/104: INSUFFICIENT_STORAGE \(status 507\)"):
        gsp.MOVESENSE.session().on_control_message(bytes.fromhex("01 63 01 fb"))


def test_handshake_subscribes_then_says_hello_and_unsubscribes_unanswered():
    session = gsp.MOVESENSE.session(208)
    subscribe, hello = session.start_commands()
    assert subscribe.data == b"\x01\x63/Meas/Acc/208" and not subscribe.expects_reply
    assert hello.data == bytes.fromhex("00 01") and hello.expects_reply
    assert [(c.data, c.expects_reply) for c in session.stop_commands()] == [(bytes.fromhex("02 63"), False)]
    assert session.is_reply(bytes.fromhex("01 01 48 65 6c 6c 6f"))
    assert not session.is_reply(data_frame(0x63, 0, [(0, 0, 0)]))


def test_data_vector_in_g_and_the_timestamp_marks_the_first_sample():
    data = data_frame(0x63, 1000, [(0.0, 0.0, G), (G / 2, -G, 2 * G)])
    frame = gsp.decode_acc_frame(data)
    assert frame.ref == 0x63 and frame.timestamp_ms == 1000 and frame.samples_mps2.shape == (2, 3)
    batch = gsp.MOVESENSE.session(104).decode(data)
    np.testing.assert_allclose(batch.acc_g, [[0, 0, 1], [0.5, -1, 2]], rtol=1e-6)
    # the client's clock wants the LAST sample's time: the first's plus one period at 104 Hz
    assert batch.last_timestamp_ns == 1_000_000_000 + round(1e9 / 104)
    assert batch.first_index is None


def test_range_cannot_be_set_and_rates_are_checked():
    assert get_profile("movesense").session().range_g == 8.0
    with pytest.raises(DeviceError, match="cannot be set over GSP"):
        gsp.MOVESENSE.session(104, 16)
    with pytest.raises(DeviceError, match="cannot sample at 100 Hz"):
        gsp.MOVESENSE.session(100)


@pytest.mark.parametrize("data, message", [
    (b"", "not a GSP DATA frame"),
    (bytes.fromhex("03 63 00 00"), "DATA_PART2"),
    (bytes.fromhex("01 63 00 c8"), "type 1"),
    (bytes.fromhex("02 63 00 00 00 00"), "multiple of 12"),
    (data_frame(0x63, 0, [(0, 0, 1)])[:-1], "multiple of 12"),
    (data_frame(0x63, 0, [(np.nan, 0, 1)]), "non-finite"),
    (data_frame(0x63, 0, [(1e6, 0, 1)]), "beyond"),
])
def test_malformed_frames_say_what_is_wrong(data, message):
    with pytest.raises(FrameError, match=message):
        gsp.decode_acc_frame(data)


def test_data_of_another_subscription_is_rejected():
    with pytest.raises(FrameError, match="reference 7"):
        gsp.MOVESENSE.session().decode(data_frame(7, 0, [(0, 0, G)]))


# ------------------------------------------------------------------ device time -> sample index

def place_all(rate_hz, frames):
    """Decode (timestamp_ms, n) frames through one session and place them: first index of each."""
    session, clock = gsp.MOVESENSE.session(rate_hz), SampleClock(rate_hz)
    firsts = []
    for timestamp_ms, n in frames:
        batch = session.decode(data_frame(0x63, timestamp_ms, [(0.0, 0.0, G)] * n))
        firsts.append(clock.place(batch).first_index)
    return firsts


@pytest.mark.parametrize("rate_hz, n", [(104, 8), (833, 16), (1666, 16)])
def test_whole_ms_timestamps_still_give_consecutive_indices(rate_hz, n):
    """At 1666 Hz a sample lasts 0.6 ms, less than the timestamp's resolution: without the session's
    continuation the rounding would invent gaps and duplicates."""
    start_ms = 5_000
    frames = [(start_ms + round(k * n * 1000 / rate_hz), n) for k in range(200)]
    assert place_all(rate_hz, frames) == [k * n for k in range(200)]


@pytest.mark.parametrize("rate_hz, n, tolerance", [(104, 8, 0), (1666, 16, 2)])
def test_a_jump_in_the_timestamps_is_a_gap_of_that_many_samples(rate_hz, n, tolerance):
    kept = [k for k in range(60) if not 20 <= k < 25]          # five packets never arrive
    frames = [(round(k * n * 1000 / rate_hz), n) for k in kept]
    firsts = place_all(rate_hz, frames)
    assert firsts[:20] == [k * n for k in range(20)]
    assert abs(firsts[20] - 25 * n) <= tolerance                 # exact where a period exceeds a ms
    assert np.all(np.diff(firsts[20:]) == n)


def test_the_u32_ms_clock_wraps_without_a_jump():
    start_ms = 2 ** 32 - 200
    frames = [((start_ms + round(k * 8 * 1000 / 104)) % 2 ** 32, 8) for k in range(60)]
    assert place_all(104, frames) == [k * 8 for k in range(60)]


# ------------------------------------------------------------------ properties

finite32 = st.floats(-150.0, 150.0, width=32)


@settings(max_examples=200, deadline=None)
@given(ref=st.integers(1, 255), timestamp_ms=st.integers(0, 2 ** 32 - 1),
       rows=st.lists(st.tuples(finite32, finite32, finite32), min_size=1, max_size=20))
def test_encode_then_decode_is_the_identity(ref, timestamp_ms, rows):
    frame = gsp.AccFrame(ref, timestamp_ms, np.array(rows, dtype=np.float64))
    assert gsp.decode_acc_frame(gsp.encode_acc_frame(frame)) == frame


@settings(max_examples=200, deadline=None)
@given(ref=st.integers(0, 255), status=st.integers(100, 599), hello=st.booleans(),
       code=st.sampled_from(list(gsp.CommandCode)), command_ref=st.integers(1, 255),
       path=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
def test_commands_and_results_round_trip(ref, status, hello, code, command_ref, path):
    result = gsp.CommandResult(ref, hello=True) if hello else gsp.CommandResult(ref, status)
    assert gsp.decode_result(gsp.encode_result(result)) == result
    command = gsp.GspCommand(code, command_ref, path)
    assert gsp.decode_command(gsp.encode_command(command)) == command


@settings(max_examples=400, deadline=None)
@given(data=st.binary(max_size=200), prefix=st.sampled_from([b"", b"\x02\x63", b"\x01\x63", b"\x03\x63", b"\x01"]))
def test_arbitrary_bytes_only_raise_our_errors(data, prefix):
    session = gsp.MOVESENSE.session()
    assert isinstance(session.is_reply(prefix + data), bool)
    for decode in (gsp.decode_acc_frame, gsp.decode_result, gsp.decode_command, session.decode,
                   session.on_control_message):
        try:
            decode(prefix + data)
        except RetrorunError:
            pass


# ------------------------------------------------------------------ end to end on the emulator

pytest.importorskip("bumble", reason="the emulator needs Google Bumble: pip install 'retrorun[test]'")

from emulated_recording import (check_garbage_is_counted_and_skipped, drops_at, gap_samples,  # noqa: E402
                                received_indices, record_emulated, sent_first)


@pytest.mark.parametrize("rate_hz, ack_subscribe, per_packet",
                         [(104.0, False, 8), (104.0, True, 8), (416.0, False, 12)],
                         ids=["firmware-sample", "acknowledging", "416Hz"])
def test_a_clean_session_arrives_complete(tmp_path, rate_hz, ack_subscribe, per_packet):
    n = int(rate_hz * 10)
    result, device, recovered = asyncio.run(record_emulated(tmp_path, gsp.MOVESENSE, rate_hz, 10.0,
                                                            ack_subscribe=ack_subscribe))
    rec = recovered.recording
    index, sent = sent_first(device, n)
    assert len(rec) == n == result.status.samples == len(index) and rec.gaps == []
    np.testing.assert_array_equal(rec.acc_g, sent)
    np.testing.assert_allclose(rec.acc_g, np.clip(device.recording.acc_g[:n], -8, 8), atol=1e-6)
    np.testing.assert_allclose(rec.time_s, np.arange(n) / rate_hz, atol=1e-9)
    assert result.status.reconnects == 0 and result.status.malformed_frames == 0
    assert device.samples_per_frame == per_packet


def test_a_link_drop_gives_one_gap_of_the_true_outage(tmp_path):
    rate_hz, seconds = 104.0, 30.0
    result, device, recovered = asyncio.run(record_emulated(tmp_path, gsp.MOVESENSE, rate_hz, seconds,
                                                            fault=drops_at(600)))
    rec, total = recovered.recording, int(rate_hz * seconds)
    index, sent = sent_first(device, total)
    assert result.status.reconnects == 1 and device.lost_samples > 0 and len(rec.gaps) == 1
    # placed by the sensor's own clock: every sample lands at the index it was sent with
    position = {i: k for k, i in enumerate(index)}
    np.testing.assert_array_equal(rec.acc_g, sent[[position[i] for i in received_indices(rec, rate_hz)]])
    missing = total - len(rec)            # never sent while the link was down, plus any frames in flight
    assert missing >= device.lost_samples
    assert abs(gap_samples(rec.gaps[0], rate_hz) - missing) <= device.samples_per_frame
    assert result.status.lost_samples == missing


def test_a_malformed_frame_is_counted_not_fatal(tmp_path):
    garbage = [bytes.fromhex("03 63 00 00 00 00"), bytes.fromhex("02 63 00"), data_frame(9, 0, [(0, 0, G)])]
    check_garbage_is_counted_and_skipped(tmp_path, gsp.MOVESENSE, 104.0, garbage, 200)


def test_a_refused_subscription_stops_with_the_status(tmp_path):
    with pytest.raises(ControlPointError, match="INSUFFICIENT_STORAGE"):
        asyncio.run(record_emulated(tmp_path, gsp.MOVESENSE, 104.0, 5.0, refuse_subscribe=507))


def test_the_emulated_sensor_answers_as_the_firmware_does():
    from emulated_recording import raw_link
    from sensors.emulator.movesense import EmulatedMovesense

    async def scenario():
        answers = []
        async with raw_link(EmulatedMovesense, gsp.MOVESENSE, gsp.GSP_DATA_UUID) as (device, client, replies):
            for command in (gsp.hello_command(5), gsp.subscribe_command(6, "/Meas/Gyro/104"),
                            gsp.subscribe_command(7, "/Meas/Acc/100")):
                await client.write_gatt_char(gsp.GSP_COMMAND_UUID, command, response=True)
                answers.append(gsp.decode_result(await asyncio.wait_for(replies.get(), 10)))
            await client.write_gatt_char(gsp.GSP_COMMAND_UUID, gsp.subscribe_command(8, "/Meas/Acc/13"), response=True)
            first = gsp.decode_acc_frame(await asyncio.wait_for(replies.get(), 10))     # data, no answer first
            subscribed = device.subscription_ref
        unsubscribed_on_disconnect = device.subscription_ref is None and not device.is_streaming
        return answers, first, subscribed, unsubscribed_on_disconnect

    answers, first, subscribed, unsubscribed = asyncio.run(scenario())
    assert [(a.ref, a.hello, a.status) for a in answers] == [(5, True, None), (6, False, 404), (7, False, 400)]
    assert first.ref == 8 and len(first.samples_mps2) == 1 and subscribed == 8 and unsubscribed


def test_retrorun_record_emulates_a_movesense(tmp_path, capsys):
    from analyzer.cli import main
    from sensors import load

    out = tmp_path / "x.csv"
    assert main(["record", "--emulate", "movesense", "--emulate-speed", "20", "--seconds", "10", "-o", str(out)]) == 0
    assert "1040 samples at 104 Hz" in capsys.readouterr().out
    rec = load(out)
    assert len(rec) == 1040 and rec.gaps == [] and rec.metadata["profile"] == "movesense"


def test_retrorun_record_refuses_another_movesense_range_with_exit_2(tmp_path, capsys):
    from analyzer.cli import main

    code = main(["record", "--emulate", "movesense", "--range-g", "16", "--seconds", "1",
                 "-o", str(tmp_path / "x.csv")])
    assert code == 2 and "cannot be set over GSP" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()
