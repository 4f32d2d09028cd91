"""Polar PMD ACC: Polar's own test vectors, the documented commands, round trips and garbage."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from sensors.devices import polar_pmd as pmd
from sensors.devices.base import ControlPointError, FrameError
from sensors.errors import DeviceError, RetrorunError

# Test vectors from polarofficial/polar-ble-sdk, android-communications .../pmd/model/AccDataTest.kt.
HEADER_TS_2E9 = "02 00 94 35 77 00 00 00 00"
H10_RAW_TYPE1 = HEADER_TS_2E9 + " 01 " + (
    "F7 FF FF FF E7 03 F8 FF FE FF E5 03 F9 FF FF FF E5 03 FA FF FF FF E6 03 FA FF FE FF E6 03 F9 FF FF FF"
    " E5 03 F8 FF FF FF E6 03 F8 FF FE FF E6 03 FA FF FF FF E5 03 FA FF FF FF E7 03 FA FF FF FF E5 03 F8 FF"
    " FF FF E6 03 F7 FF FF FF E6 03 F8 FF FE FF E6 03 F9 FF FE FF E7 03 F9 FF 00 00 E6 03 F9 FF FF FF E6 03"
    " F7 FF FE FF E5 03 F9 FF FF FF E5 03 F9 FF FF FF E5 03 FA FF 00 00 E6 03 F9 FF FE FF E6 03 F8 FF FF FF"
    " E6 03 F8 FF FF FF E5 03 F9 FF FF FF E6 03 F9 FF FF FF E5 03 FA FF FF FF E6 03 F9 FF FF FF E5 03 F9 FF"
    " FF FF E5 03 F8 FF FE FF E6 03 F9 FF FF FF E6 03 F9 FF FF FF E6 03 F9 FF 00 00 E5 03 F9 FF FE FF E6 03"
    " F8 FF FE FF E6 03 F7 FF FE FF E6 03")
VERITY_COMPRESSED_TYPE0 = HEADER_TS_2E9 + " 80 " + (
    "71 07 F0 6A 9E 8D 0A 38 BE 5C BE BA 2F 96 B3 EE 4B E5 AD FB 42 B9 EB BE 4C FE BA 2F 92 BF EE 4B E4 B1 FB"
    " 12 B9 EC BD 3C 3E BB 2F 8F D3 DE 4B E3 B5 F7 D2 B8 ED BD 30 7E 7B 2F 8B E3 CE 8B E2 BA F7 A2 B8 EE BC 20"
    " BE 7B 2F 88 F3 CE CB E1 BD EF 52 F8 EF BC 18 FE 3B 2F 84 03 BF CB E0 C2 EF 32 B8 F0 BB 04 4E BC 2E 81 13"
    " AF 0B E0 C6 EF F2 F7 F1 B9 FC 7D BC 2E 7D 27 9F 4B DF CA EB C2 F7 F2 B8 EC CD 7C 2E 7B 37 8F 4B DE CE E3"
    " 92 F7 F3 B8 E0 0D FD 2D 77 4B 7F CB DD D2 DF 62 37 F5 B7 D4 4D BD 2D 74 5B 6F CB DC D7 D7 32 37 F6 B5 C8"
    " 8D 7D 2D 71 6B 4F 4B DC DC D3 F2 36 F7 B4 BC DD FD 2C 6F 7B 3F 4B DB E0 CF D2 36 F8 B2 B0 2D BE 2C 6C 8F"
    " 1F CB DA E3 C7 A2 76 F9")


def test_polar_h10_raw_vector():
    frame = pmd.decode_frame(bytes.fromhex(H10_RAW_TYPE1))
    assert frame.timestamp_ns == 2_000_000_000 and not frame.compressed and frame.frame_type == 1
    assert frame.samples.shape == (36, 3)
    assert frame.samples[:2].tolist() == [[-9, -1, 999], [-8, -2, 997]]
    assert pmd.encode_frame(frame) == bytes.fromhex(H10_RAW_TYPE1)
    batch = pmd.POLAR_H10.session().decode(bytes.fromhex(H10_RAW_TYPE1))
    np.testing.assert_allclose(batch.acc_g[0], [-0.009, -0.001, 0.999])


def test_polar_compressed_vector_and_factor():
    frame = pmd.decode_frame(bytes.fromhex(VERITY_COMPRESSED_TYPE0))
    assert frame.compressed and frame.samples.shape == (57, 3)
    assert frame.samples[0].tolist() == [1905, 27376, -29282]
    assert (frame.samples[1] - frame.samples[0]).tolist() == [190, -105, -85]
    assert pmd.decode_frame(pmd.encode_frame(frame)) == frame
    session = pmd.POLAR_VERITY_SENSE.session()
    session.on_control_message(pmd.encode_response(pmd.ControlResponse(
        pmd.OpCode.START, pmd.MeasurementType.ACC, pmd.Status.SUCCESS,
        parameters={pmd.SettingType.FACTOR: (2.44e-4,)})))
    acc_g = session.decode(bytes.fromhex(VERITY_COMPRESSED_TYPE0)).acc_g
    assert abs(acc_g).max() <= 8.0
    np.testing.assert_allclose(acc_g[0], np.float32(2.44e-4) * np.array([1905, 27376, -29282]), rtol=1e-6)


def test_documented_control_point_messages():
    assert pmd.start_acc_request(200, 8) == bytes.fromhex("02 02 00 01 C8 00 01 01 10 00 02 01 08 00")
    assert pmd.get_settings_request() == bytes.fromhex("01 02")
    assert pmd.stop_request() == bytes.fromhex("03 02")
    assert pmd.decode_features(bytes.fromhex("0f 05 00")) == {pmd.MeasurementType.ECG, pmd.MeasurementType.ACC}
    request = pmd.decode_request(bytes.fromhex("02 02 02 01 08 00 00 01 c8 00 01 01 10 00"))
    assert request.settings[pmd.SettingType.SAMPLE_RATE] == (200,) and request.settings[pmd.SettingType.RANGE] == (8,)


def test_settings_query_response_lists_what_is_available():
    offered = {pmd.SettingType.SAMPLE_RATE: (25, 50, 100, 200), pmd.SettingType.RESOLUTION: (16,),
               pmd.SettingType.RANGE: (2, 4, 8)}
    data = pmd.encode_response(pmd.ControlResponse(pmd.OpCode.GET_SETTINGS, pmd.MeasurementType.ACC,
                                                   pmd.Status.SUCCESS, parameters=offered))
    assert pmd.decode_response(data).parameters == offered
    pmd.POLAR_H10.session(100).on_control_message(data)
    with pytest.raises(ControlPointError, match="not 26"):
        pmd.PmdAccSession(26, 8).on_control_message(data)


@pytest.mark.parametrize("status", [s for s in pmd.Status if s not in (pmd.Status.SUCCESS,)])
def test_control_point_errors_name_the_code(status):
    data = pmd.encode_response(pmd.ControlResponse(pmd.OpCode.START, pmd.MeasurementType.ACC, status))
    with pytest.raises(ControlPointError) as info:
        pmd.POLAR_H10.session().on_control_message(data)
    assert info.value.status == status and status.name in str(info.value)


def test_unsupported_rate_or_range_is_refused_before_connecting():
    with pytest.raises(DeviceError, match="cannot sample at 300 Hz"):
        pmd.POLAR_H10.session(300)
    with pytest.raises(DeviceError, match="range"):
        pmd.POLAR_H10.session(200, 16)


@pytest.mark.parametrize("data, message", [
    (b"", "too short"), (bytes.fromhex(HEADER_TS_2E9 + " 01 F7 FF"), "multiple of 6"),
    (bytes.fromhex("00" * 8 + "00 01") + b"\x00" * 6, "measurement type 0"),
    (bytes.fromhex(HEADER_TS_2E9 + " 05") + b"\x00" * 6, "unknown PMD ACC frame type 5"),
    (bytes.fromhex(VERITY_COMPRESSED_TYPE0)[:-3], "truncated"),
    (bytes.fromhex(HEADER_TS_2E9 + " 80 00 00 00 00 00 00 0A"), "block header"),
    (bytes.fromhex(HEADER_TS_2E9 + " 80 00 00 00 00 00 00 00 01"), "width 0"),
])
def test_malformed_frames_say_what_is_wrong(data, message):
    with pytest.raises(FrameError, match=message):
        pmd.decode_frame(data)


int16 = st.integers(-32768, 32767)
samples_strategy = st.lists(st.tuples(int16, int16, int16), min_size=1, max_size=120)


@settings(max_examples=150, deadline=None)
@given(rows=samples_strategy, timestamp_ns=st.integers(0, 2 ** 64 - 1), frame_type=st.sampled_from([0, 1, 2]),
       compressed=st.booleans(), block=st.integers(1, 255))
def test_encode_then_decode_is_the_identity(rows, timestamp_ns, frame_type, compressed, block):
    samples = np.array(rows, dtype=np.int64)
    if compressed:
        frame_type = frame_type % 2
    elif frame_type == 0:
        samples = samples // 257            # fits int8
    frame = pmd.PmdFrame(pmd.MeasurementType.ACC, timestamp_ns, frame_type, compressed, samples)
    assert pmd.decode_frame(pmd.encode_frame(frame, block_samples=block)) == frame


settings_strategy = st.dictionaries(
    st.sampled_from([pmd.SettingType.SAMPLE_RATE, pmd.SettingType.RESOLUTION, pmd.SettingType.RANGE]),
    st.lists(st.integers(0, 65535), min_size=1, max_size=5).map(tuple))


@settings(max_examples=150, deadline=None)
@given(op=st.integers(0, 255), mtype=st.integers(0, 63), status=st.integers(0, 255), more=st.booleans(),
       parameters=settings_strategy)
def test_control_messages_round_trip(op, mtype, status, more, parameters):
    response = pmd.ControlResponse(op, mtype, status, more, parameters)
    assert pmd.decode_response(pmd.encode_response(response)) == response
    request = pmd.ControlRequest(op, mtype, parameters)
    assert pmd.decode_request(pmd.encode_request(request)) == request


@settings(max_examples=400, deadline=None)
@given(data=st.binary(max_size=300), prefix=st.sampled_from([b"", bytes.fromhex(HEADER_TS_2E9 + "80"),
                                                              bytes.fromhex(HEADER_TS_2E9 + "01"), b"\xf0\x02\x02"]))
def test_arbitrary_bytes_only_raise_our_errors(data, prefix):
    session = pmd.POLAR_VERITY_SENSE.session()
    for decode in (pmd.decode_frame, pmd.decode_response, pmd.decode_request, pmd.decode_features,
                   session.decode, session.on_control_message):
        try:
            decode(prefix + data)
        except RetrorunError:
            pass


def test_sample_times_spread_between_frames():
    np.testing.assert_allclose(pmd.sample_times_ns(1_000, 4, 600, 200.0), [700, 800, 900, 1000])
    np.testing.assert_allclose(pmd.sample_times_ns(10_000_000, 2, None, 200.0), [5_000_000, 10_000_000])


def test_every_start_stops_first_and_a_fast_verity_enters_sdk_mode():
    h10 = [c.data for c in pmd.POLAR_H10.session(200.0).start_commands()]
    assert h10 == [bytes.fromhex("01 02"), bytes.fromhex("03 02"), bytes.fromhex("02 02 00 01 c8 00 01 01 10 00 02 01 08 00")]
    verity = pmd.POLAR_VERITY_SENSE.session(208.0)
    assert [c.data for c in verity.start_commands()][0] == bytes.fromhex("02 09")
    assert [c.data for c in verity.stop_commands()] == [bytes.fromhex("03 02"), bytes.fromhex("03 09")]
    assert [c.data for c in pmd.POLAR_VERITY_SENSE.session(52.0).start_commands()][0] == bytes.fromhex("01 02")
    # a stop that finds nothing streaming, or SDK mode already on, is not an error
    session = pmd.POLAR_VERITY_SENSE.session(208.0)
    for op, mtype, status in [(3, 2, pmd.Status.INVALID_STATE), (2, 9, pmd.Status.ALREADY_IN_STATE)]:
        session.on_control_message(pmd.encode_response(pmd.ControlResponse(op, mtype, status)))
