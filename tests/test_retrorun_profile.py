"""The retrorun GATT profile: docs/ble-profile.md's worked example, every status code, hypothesis round trips and
garbage, and the recorder end to end on an emulated phone (link drops with and without its backlog replay)."""
from __future__ import annotations

import asyncio
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from sensors.devices import detect_profile, get_profile
from sensors.devices import retrorun_profile as rp
from sensors.devices.base import ControlPointError, FrameError
from sensors.errors import DeviceError, RetrorunError

PROFILE_PAGE = Path(__file__).resolve().parents[1] / "docs" / "ble-profile.md"

# the worked example of docs/ble-profile.md (the test checks the page shows exactly these bytes)
START_100HZ_16G = "02 64 00 10"
START_OK = "F0 02 00"
FRAME_4_SAMPLES = "01 E8 03 00 00 04 00 00 00 00 00 08 CD 00 9A FF CD 08 00 FC 00 10 00 02 FF 7F 00 80 00 00"
FRAME_4_SAMPLES_G = [[0, 0, 1], [205 / 2048, -102 / 2048, 2253 / 2048], [-0.5, 2, 0.25], [32767 / 2048, -16, 0]]
CAPABILITIES_RESPONSE = "F0 01 00 01 04 19 00 32 00 64 00 C8 00 04 02 04 08 10 78 00"
RESUME_2000 = "04 D0 07 00 00"
START_400HZ_16G, REFUSED_RATE = "02 90 01 10", "F0 02 03"
WORKED_EXAMPLE = (START_100HZ_16G, START_OK, FRAME_4_SAMPLES, CAPABILITIES_RESPONSE, RESUME_2000, START_400HZ_16G,
                  REFUSED_RATE)


def test_the_worked_example_of_the_profile_page():
    assert rp.start_request(100, 16) == bytes.fromhex(START_100HZ_16G)
    assert rp.decode_response(bytes.fromhex(START_OK)) == rp.Response(rp.OpCode.START, rp.Status.SUCCESS)
    frame = rp.decode_frame(bytes.fromhex(FRAME_4_SAMPLES))
    assert frame.first_index == 1000 and frame.counts.shape == (4, 3)
    session = rp.RETRORUN_PHONE.session(100, 16)
    batch = session.decode(bytes.fromhex(FRAME_4_SAMPLES))
    assert batch.first_index == 1000
    np.testing.assert_allclose(batch.acc_g, FRAME_4_SAMPLES_G)
    assert rp.encode_frame(frame) == bytes.fromhex(FRAME_4_SAMPLES)
    response = rp.decode_response(bytes.fromhex(CAPABILITIES_RESPONSE))
    assert rp.decode_capabilities(response.payload) == rp.Capabilities((25, 50, 100, 200), (2, 4, 8, 16), 120)
    assert rp.resume_request(2000) == bytes.fromhex(RESUME_2000)
    assert rp.start_request(400, 16) == bytes.fromhex(START_400HZ_16G)
    assert rp.decode_response(bytes.fromhex(REFUSED_RATE)).status_name == "UNSUPPORTED_RATE"


def test_the_profile_page_shows_the_tested_bytes_and_every_code():
    page = PROFILE_PAGE.read_text()
    flat = re.sub(r"\s+", " ", page)
    for hex_bytes in WORKED_EXAMPLE:
        assert hex_bytes in flat, f"docs/ble-profile.md does not show {hex_bytes}"
    for uuid in (rp.RETRORUN_SERVICE_UUID, rp.RETRORUN_DATA_UUID, rp.RETRORUN_CONTROL_UUID):
        assert uuid in page
    for code in (*rp.Status, *rp.OpCode):
        assert re.search(rf"`0x{code.value:02X}`.*{code.name}", page), f"{code.name} is not specified"
    assert "ble-profile.md" in (PROFILE_PAGE.parent / "ble.md").read_text()


def test_a_session_starts_once_and_resumes_by_index_after():
    session = rp.RETRORUN_PHONE.session(200, 8)
    assert [c.data for c in session.start_commands()] == [bytes([0x01]), rp.start_request(200, 8)]
    assert all(c.expects_reply for c in session.start_commands())
    session.resume_from(12345)
    assert [c.data for c in session.start_commands()] == [rp.resume_request(12345)]
    assert [c.data for c in session.stop_commands()] == [bytes([0x03])]


def test_capabilities_are_checked_before_start():
    offered = rp.encode_response(rp.Response(rp.OpCode.GET_CAPABILITIES, rp.Status.SUCCESS,
                                             rp.encode_capabilities(rp.Capabilities((50, 100), (8, 16), 0))))
    rp.RETRORUN_PHONE.session(100, 16).on_control_message(offered)
    with pytest.raises(ControlPointError, match="UNSUPPORTED_RATE") as info:
        rp.RETRORUN_PHONE.session(200, 16).on_control_message(offered)
    assert info.value.status == rp.Status.UNSUPPORTED_RATE
    with pytest.raises(ControlPointError, match="UNSUPPORTED_RANGE"):
        rp.RETRORUN_PHONE.session(100, 4).on_control_message(offered)


@pytest.mark.parametrize("status", [s for s in rp.Status if s != rp.Status.SUCCESS])
def test_refusals_name_the_status(status):
    with pytest.raises(ControlPointError) as info:
        rp.RETRORUN_PHONE.session().on_control_message(rp.encode_response(rp.Response(rp.OpCode.START, status)))
    assert info.value.status == status and info.value.status_name == status.name and status.name in str(info.value)


def test_stop_without_a_stream_is_fine_resume_without_one_is_not():
    session = rp.RETRORUN_PHONE.session()
    session.on_control_message(rp.encode_response(rp.Response(rp.OpCode.STOP, rp.Status.NOT_STREAMING)))
    session.resume_from(500)
    with pytest.raises(ControlPointError, match="no stream to resume.*index 500 on are lost: NOT_STREAMING"):
        session.on_control_message(rp.encode_response(rp.Response(rp.OpCode.RESUME, rp.Status.NOT_STREAMING)))


def test_requests_of_the_wrong_length_are_malformed_unknown_ops_decode():
    assert rp.decode_request(b"\x7f\x01\x02") == rp.Request(0x7F)
    for data in (b"", b"\x02\x64\x00", b"\x04\x00", b"\x01\x00", b"\x03\x00"):
        with pytest.raises(FrameError):
            rp.decode_request(data)


@pytest.mark.parametrize("data, message", [
    (b"", "too short"), (bytes.fromhex("01 00 00 00 00"), "too short"),
    (bytes.fromhex("02 00 00 00 00 01") + bytes(6), "unknown retrorun frame type 0x02"),
    (bytes.fromhex("01 00 00 00 00 00"), "at least one sample"),
    (bytes.fromhex(FRAME_4_SAMPLES)[:-1], "says 4 samples"), (bytes.fromhex(FRAME_4_SAMPLES) + b"\x00", "says 4"),
])
def test_malformed_frames_say_what_is_wrong(data, message):
    with pytest.raises(FrameError, match=message):
        rp.decode_frame(data)


def test_frames_fit_the_mtu_and_the_profile_is_found_by_name_or_service():
    assert rp.max_samples_per_frame(23) == 2 and rp.max_samples_per_frame(185) == 29
    assert rp.max_samples_per_frame(247) == 39
    profile = get_profile("retrorun-phone")
    assert detect_profile("retrorun Pixel 7") is profile
    assert detect_profile(None, [rp.RETRORUN_SERVICE_UUID.upper()]) is profile    # iOS in the background: no name
    with pytest.raises(DeviceError, match="cannot sample at 30 Hz"):
        profile.session(30)


int16 = st.integers(-32768, 32767)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(int16, int16, int16), min_size=1, max_size=255),
       first_index=st.integers(0, 2 ** 32 - 1))
def test_frames_round_trip(rows, first_index):
    frame = rp.AccFrame(first_index, np.array(rows, dtype=np.int64))
    assert rp.decode_frame(rp.encode_frame(frame)) == frame


@settings(max_examples=200, deadline=None)
@given(rate=st.integers(0, 0xFFFF), range_g=st.integers(0, 255), index=st.integers(0, 2 ** 32 - 1),
       op=st.integers(0, 255), status=st.integers(0, 255), payload=st.binary(max_size=40),
       rates=st.lists(st.integers(0, 0xFFFF), max_size=20).map(tuple),
       ranges=st.lists(st.integers(0, 255), max_size=20).map(tuple), backlog_s=st.integers(0, 0xFFFF))
def test_control_messages_round_trip(rate, range_g, index, op, status, payload, rates, ranges, backlog_s):
    for request in (rp.Request(rp.OpCode.START, rate_hz=rate, range_g=range_g),
                    rp.Request(rp.OpCode.RESUME, from_index=index), rp.Request(rp.OpCode.STOP),
                    rp.Request(rp.OpCode.GET_CAPABILITIES)):
        assert rp.decode_request(rp.encode_request(request)) == request
    response = rp.Response(op, status, payload)
    assert rp.decode_response(rp.encode_response(response)) == response
    capabilities = rp.Capabilities(rates, ranges, backlog_s)
    assert rp.decode_capabilities(rp.encode_capabilities(capabilities)) == capabilities


@settings(max_examples=400, deadline=None)
@given(data=st.binary(max_size=300), prefix=st.sampled_from([b"", b"\x01", b"\x01\x00\x00\x00\x00\x02", b"\xf0\x01\x00",
                                                              b"\xf0\x02", b"\xf0\x04\x06", b"\x02", b"\x04"]))
def test_arbitrary_bytes_only_raise_our_errors(data, prefix):
    session = rp.RETRORUN_PHONE.session()
    for decode in (rp.decode_frame, rp.decode_request, rp.decode_response, rp.decode_capabilities, session.decode,
                   session.on_control_message):
        try:
            decode(prefix + data)
        except RetrorunError:
            pass


# --------------------------------------------------------------------------------------------- end to end

from needs import HAVE_BUMBLE, needs_bumble  # noqa: E402

if HAVE_BUMBLE:
    from bleak import BleakClient
    from analyzer.cli import main
    from emulated_recording import (WALL_LIMIT_S, check_garbage_is_counted_and_skipped, drops_at,
                                    lost_by_gaps, record_emulated, sent_first)
    from sensors.emulator.backend import BumbleClient, VirtualAir
    from sensors.emulator.phone import DEFAULT_SAMPLES_PER_FRAME, EmulatedPhone
    from sensors.simulator import simulate

    FIVE_DROPS = drops_at(500, 1000, 1500, 2000, 2500)


@needs_bumble
def test_a_clean_session_arrives_complete(tmp_path):
    result, device, recovered = asyncio.run(record_emulated(tmp_path, rp.RETRORUN_PHONE, 100.0, 10.0))
    rec = recovered.recording
    index, sent = sent_first(device, 1000)
    assert len(rec) == 1000 == result.status.samples == len(index) and rec.gaps == []
    np.testing.assert_array_equal(rec.acc_g, sent)
    np.testing.assert_allclose(rec.time_s, np.arange(1000) / 100.0, atol=1e-9)
    np.testing.assert_allclose(rec.acc_g, np.clip(device.recording.acc_g[:1000], -16, 16), atol=0.5 / 2048)
    assert [r.op for r in device.requests] == [rp.OpCode.GET_CAPABILITIES, rp.OpCode.START, rp.OpCode.STOP]
    assert result.status.malformed_frames == 0 and result.status.reconnects == 0


@needs_bumble
def test_five_drops_lose_nothing_from_a_device_that_replays_its_backlog(tmp_path):
    result, device, recovered = asyncio.run(record_emulated(tmp_path, rp.RETRORUN_PHONE, 100.0, 30.0,
                                                            fault=FIVE_DROPS))
    rec = recovered.recording
    index, sent = sent_first(device, 3000)
    assert result.status.reconnects == 5 and [r.op for r in device.requests].count(rp.OpCode.RESUME) == 5
    assert len(rec) == 3000 == result.status.samples and rec.gaps == [] and result.status.lost_samples == 0
    assert device.lost_samples == 0
    np.testing.assert_array_equal(rec.acc_g, sent)


@needs_bumble
def test_five_drops_without_replay_are_gaps_of_the_true_outage(tmp_path):
    result, device, recovered = asyncio.run(record_emulated(tmp_path, rp.RETRORUN_PHONE, 100.0, 30.0,
                                                            fault=FIVE_DROPS, replay_backlog=False))
    rec = recovered.recording
    assert result.status.reconnects == 5 and len(rec.gaps) == 5 and device.lost_samples > 0
    # the index makes every missing sample part of a gap, exactly; beyond the samples the device never sent
    # while the link was down there can only be a frame in flight per drop
    assert lost_by_gaps(rec) == 3000 - len(rec) == result.status.lost_samples == rec.metadata["lost_samples"]
    assert device.lost_samples <= lost_by_gaps(rec) <= device.lost_samples + 5 * DEFAULT_SAMPLES_PER_FRAME
    index, sent = sent_first(device, 3000)
    received = np.round(rec.time_s * 100.0).astype(int)
    np.testing.assert_array_equal(rec.acc_g, sent[np.searchsorted(index, received)])


@needs_bumble
def test_an_unsupported_rate_is_refused_with_the_status_name(tmp_path):
    with pytest.raises(ControlPointError, match="UNSUPPORTED_RATE") as info:
        asyncio.run(record_emulated(tmp_path, rp.RETRORUN_PHONE, 200.0, 5.0, rates_hz=(50, 100)))
    assert info.value.status == rp.Status.UNSUPPORTED_RATE


@needs_bumble
def test_malformed_frames_are_counted_never_fatal(tmp_path):
    garbage = [b"", b"\x01\x00", bytes.fromhex(FRAME_4_SAMPLES)[:-2], b"\x09" + bytes(11)]
    check_garbage_is_counted_and_skipped(tmp_path, rp.RETRORUN_PHONE, 100.0, garbage, 200)


@needs_bumble
def test_the_emulated_phone_answers_every_request_as_the_page_says():
    requests = [b"\x03", rp.start_request(400, 16), rp.start_request(100, 3), b"\x02\x64", b"\x7f",
                rp.resume_request(0), rp.start_request(100, 16), rp.start_request(100, 16), rp.resume_request(0),
                rp.stop_request()]
    expected = [(rp.OpCode.STOP, rp.Status.NOT_STREAMING), (rp.OpCode.START, rp.Status.UNSUPPORTED_RATE),
                (rp.OpCode.START, rp.Status.UNSUPPORTED_RANGE), (rp.OpCode.START, rp.Status.MALFORMED),
                (0x7F, rp.Status.UNKNOWN_OP), (rp.OpCode.RESUME, rp.Status.NOT_STREAMING),
                (rp.OpCode.START, rp.Status.SUCCESS), (rp.OpCode.START, rp.Status.ALREADY_STREAMING),
                (rp.OpCode.RESUME, rp.Status.ALREADY_STREAMING), (rp.OpCode.STOP, rp.Status.SUCCESS)]

    async def scenario():
        air = VirtualAir()
        device = EmulatedPhone(air, rp.RETRORUN_PHONE, simulate("shank", "backward", sampling_rate_hz=100.0,
                                                                duration_s=5.0, seed=1).recording)
        await device.start()
        responses: asyncio.Queue = asyncio.Queue()
        answers = []
        async with BleakClient(device.address, backend=BumbleClient, air=air) as client:
            await client.start_notify(rp.RETRORUN_CONTROL_UUID, lambda _, data: responses.put_nowait(bytes(data)))
            for request in requests:
                await client.write_gatt_char(rp.RETRORUN_CONTROL_UUID, request, response=True)
                answers.append(rp.decode_response(await asyncio.wait_for(responses.get(), WALL_LIMIT_S)))
        await device.stop()
        return answers

    answers = asyncio.run(scenario())
    assert [(a.op, a.status) for a in answers] == expected
    with pytest.raises(ControlPointError, match="UNSUPPORTED_RATE"):
        rp.check_response(answers[1])


@needs_bumble
def test_record_command_on_an_emulated_phone(tmp_path, capsys):
    import sensors

    out = tmp_path / "x.csv"
    assert main(["record", "--emulate", "retrorun-phone", "--emulate-speed", "20", "--seconds", "10", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "wrote" in printed and "1000 samples at 100 Hz" in printed and "gaps 0 (0 samples lost)" in printed
    rec = sensors.load(out)
    assert len(rec) == 1000 and rec.gaps == []
