"""MetaWear (BMI160): the SDK's byte-exact vectors, round trips and garbage, and the Recorder end to end on the
emulated board, whose samples carry no time (clean session, link drop placed by the host clock, malformed
frames)."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from sensors.devices import get_profile
from sensors.devices import metawear as mw
from sensors.devices.base import FrameError
from sensors.errors import DeviceError, RetrorunError

# From mbientlab/MetaWear-SDK-Cpp, test/test_accelerometer_bmi160.py (values there rounded to 3 decimals).
SINGLE_4G = "03 04 16 c4 94 a2 2a d0"
SINGLE_4G_G = [[-1.872, -2.919, -1.495]]
PACKED_8G = "03 1c 62 b7 53 0d e9 fd 16 d0 4d 0e 57 02 8a ff a1 05 0a 01"
PACKED_8G_G = [[-4.539, 0.833, -0.131], [-2.995, 0.894, 0.146], [-0.029, 0.352, 0.065]]


# ------------------------------------------------------------------ documented bytes

def test_sdk_vectors_decode_to_g():
    np.testing.assert_allclose(mw.METAMOTION.session(100, 4).decode(bytes.fromhex(SINGLE_4G)).acc_g,
                               SINGLE_4G_G, atol=5e-4)
    batch = mw.METAMOTION.session(100, 8).decode(bytes.fromhex(PACKED_8G))
    np.testing.assert_allclose(batch.acc_g, PACKED_8G_G, atol=5e-4)
    assert batch.first_index is None and batch.last_timestamp_ns is None      # placed by the host clock


def test_documented_commands():
    assert mw.configure_command(100, 2) == bytes.fromhex("03 03 28 03")
    assert mw.configure_command(200, 8) == bytes.fromhex("03 03 29 08")
    assert mw.configure_command(100, 16) == bytes.fromhex("03 03 28 0c")
    assert [mw.configure_command(r, 4)[2] for r in (25, 50, 100, 200, 400, 800)] == [0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b]
    assert (mw.ENABLE_SAMPLING, mw.DISABLE_SAMPLING) == (bytes.fromhex("03 02 01 00"), bytes.fromhex("03 02 00 01"))
    assert (mw.SUBSCRIBE_PACKED, mw.UNSUBSCRIBE_PACKED) == (bytes.fromhex("03 1c 01"), bytes.fromhex("03 1c 00"))
    assert (mw.SUBSCRIBE_SINGLE, mw.UNSUBSCRIBE_SINGLE) == (bytes.fromhex("03 04 01"), bytes.fromhex("03 04 00"))
    assert (mw.START, mw.STOP) == (bytes.fromhex("03 01 01"), bytes.fromhex("03 01 00"))
    assert mw.decode_configure(bytes.fromhex("03 03 29 08")) == (200.0, 8.0)


def test_session_configures_enables_subscribes_starts_and_undoes_it_unanswered():
    session = get_profile("metamotion").session()
    assert (session.rate_hz, session.range_g) == (100.0, 16.0)
    start, stop = session.start_commands(), session.stop_commands()
    assert [c.data.hex(" ") for c in start] == ["03 03 28 0c", "03 02 01 00", "03 1c 01", "03 01 01"]
    assert [c.data.hex(" ") for c in stop] == ["03 01 00", "03 1c 00", "03 02 00 01"]
    assert not any(c.expects_reply for c in start + stop)
    # without response as the SDK writes them, but for the last: its response proves the others arrived
    assert [c.with_response for c in start] == [False, False, False, True]
    assert [c.with_response for c in stop] == [False, False, True]
    assert not session.is_reply(bytes.fromhex(PACKED_8G))


def test_unsupported_settings_are_refused_before_connecting():
    with pytest.raises(DeviceError, match="cannot sample at 12.5 Hz"):
        mw.METAMOTION.session(12.5)
    with pytest.raises(DeviceError, match="range"):
        mw.METAMOTION.session(100, 6)
    assert mw.METAMOTION.matches("MetaWear") and mw.METAMOTION.matches("MetaMotionRL 1234")


@pytest.mark.parametrize("data, message", [
    (b"", "not a MetaWear accelerometer"),
    (bytes.fromhex("04 04 00 00 00 00 00 00"), "not a MetaWear accelerometer"),       # another module
    (bytes.fromhex("03 05 00"), "register 0x05"),
    (bytes.fromhex(SINGLE_4G)[:-1], "expected 8"),
    (bytes.fromhex(PACKED_8G) + b"\x00", "expected 20"),
])
def test_malformed_notifications_say_what_is_wrong(data, message):
    with pytest.raises(FrameError, match=message):
        mw.decode_notification(data)


# ------------------------------------------------------------------ properties

int16 = st.integers(-32768, 32767)


@settings(max_examples=200, deadline=None)
@given(packed=st.booleans(), rows=st.lists(st.tuples(int16, int16, int16), min_size=3, max_size=3))
def test_encode_then_decode_is_the_identity(packed, rows):
    notification = mw.AccNotification(packed, np.array(rows[:3] if packed else rows[:1], dtype=np.int64))
    assert mw.decode_notification(mw.encode_notification(notification)) == notification


@settings(max_examples=100, deadline=None)
@given(rate_hz=st.sampled_from(sorted(mw.ODR_CODE_BY_RATE_HZ)), range_g=st.sampled_from(sorted(mw.RANGE_CODE_BY_G)))
def test_configuration_round_trips(rate_hz, range_g):
    assert mw.decode_configure(mw.configure_command(rate_hz, range_g)) == (rate_hz, range_g)


@settings(max_examples=400, deadline=None)
@given(data=st.binary(max_size=40), prefix=st.sampled_from([b"", b"\x03", b"\x03\x04", b"\x03\x1c", b"\x03\x03"]))
def test_arbitrary_bytes_only_raise_our_errors(data, prefix):
    session = mw.METAMOTION.session()
    for decode in (mw.decode_notification, mw.decode_configure, session.decode, session.on_control_message):
        try:
            decode(prefix + data)
        except RetrorunError:
            pass


# ------------------------------------------------------------------ end to end on the emulator

pytest.importorskip("bumble", reason="the emulator needs Google Bumble: pip install 'retrorun[test]'")

from emulated_recording import (check_garbage_is_counted_and_skipped, drops_at, gap_samples,  # noqa: E402
                                record_emulated, sent_first)


def test_a_clean_session_arrives_complete(tmp_path):
    result, device, recovered = asyncio.run(record_emulated(tmp_path, mw.METAMOTION, 100.0, 10.0))
    rec = recovered.recording
    index, sent = sent_first(device, 1000)
    assert len(rec) == 1000 == result.status.samples == len(index) and rec.gaps == []
    np.testing.assert_array_equal(rec.acc_g, sent)
    np.testing.assert_allclose(rec.acc_g, device.recording.acc_g[:1000], atol=0.5 / 2048)
    assert result.status.reconnects == 0 and result.status.malformed_frames == 0
    assert device.samples_per_frame == 3 and device.malformed_commands == 0


def first_sent_index_of(device, row):
    """The sample index whose value the emulator sent as `row` (the simulated run does not repeat itself)."""
    index, sent = device.sent.arrays()
    matches = np.flatnonzero(np.all(sent == row, axis=1))
    assert len(matches) == 1
    return int(index[matches[0]])


def test_a_link_drop_gives_one_gap_of_the_true_outage_by_the_host_clock(tmp_path):
    # slower than the other families' tests: placement rests on arrival times, so a millisecond of event-loop
    # jitter is rate x speed / 1000 samples; at 50 Hz x 5 it is a quarter of a sample
    rate_hz, seconds, speed = 50.0, 20.0, 5.0
    result, device, recovered = asyncio.run(record_emulated(tmp_path, mw.METAMOTION, rate_hz, seconds, speed=speed,
                                                            fault=drops_at(300)))
    rec = recovered.recording
    assert result.status.reconnects == 1 and device.lost_samples > 0 and len(rec.gaps) == 1
    before = int(np.sum(rec.time_s < rec.gaps[0][1]))
    index, sent = device.sent.arrays()
    np.testing.assert_array_equal(rec.acc_g[:before], sent[:before])                # nothing lost before the drop
    resumed_at = first_sent_index_of(device, rec.acc_g[before])
    true_outage = resumed_at - before                                               # samples the client never got
    assert true_outage >= device.lost_samples
    assert abs(gap_samples(rec.gaps[0], rate_hz) - true_outage) <= device.samples_per_frame
    after = rec.acc_g[before:]
    position = {i: k for k, i in enumerate(index)}
    np.testing.assert_array_equal(after, sent[[position[i] for i in range(resumed_at, resumed_at + len(after))]])


def test_a_malformed_frame_is_counted_not_fatal(tmp_path):
    garbage = [bytes.fromhex("03 1c 00 00"), bytes.fromhex("11 0a 05"), b""]
    check_garbage_is_counted_and_skipped(tmp_path, mw.METAMOTION, 100.0, garbage, 150)


def test_the_emulated_board_answers_nothing_and_streams_only_when_configured_enabled_subscribed_started():
    from emulated_recording import raw_link
    from sensors.emulator.metawear import EmulatedMetaWear

    async def scenario():
        states = []
        async with raw_link(EmulatedMetaWear, mw.METAMOTION, mw.METAWEAR_NOTIFY_UUID) as (device, client, received):
            for command in (mw.configure_command(50, 4), mw.START, mw.ENABLE_SAMPLING, mw.SUBSCRIBE_SINGLE, mw.START):
                await client.write_gatt_char(mw.METAWEAR_COMMAND_UUID, command, response=True)
                states.append(device.is_streaming)
            first = mw.decode_notification(await asyncio.wait_for(received.get(), 10))
            await client.write_gatt_char(mw.METAWEAR_COMMAND_UUID, bytes.fromhex("03 03 ff ff"), response=True)
        return states, first, device

    states, first, device = asyncio.run(scenario())
    assert states == [False, False, False, False, True]        # a start before enable + subscribe does nothing
    assert not first.packed and len(first.counts) == 1 and device.rate_hz == 50.0
    np.testing.assert_array_equal(first.counts[0], np.round(np.clip(device.recording.acc_g[0], -4, 4) * 8192))
    assert device.malformed_commands == 1
