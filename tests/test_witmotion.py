"""WitMotion BWT901BLE: BLE.md B.4's documented bytes, reassembly across notifications, garbage, and the recorder
end to end on the emulated sensor (host-clocked: a drop is measured to within a notification)."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest
from bleak.uuids import normalize_uuid_str
from hypothesis import given, settings, strategies as st

from sensors.devices import detect_profile, get_profile
from sensors.devices import witmotion as wit
from sensors.devices.base import FrameError
from sensors.errors import DeviceError, RetrorunError

# 55 61 | acc 2048, 0, -2048 (1, 0, -1 g) | gyro 16384, 0, 0 (1000 deg/s) | angles 8192, -8192, 0 (45, -45, 0 deg)
IMU_VECTOR = "55 61 00 08 00 00 00 F8 00 40 00 00 00 00 00 20 00 E0 00 00"
# 55 71 | register 0x0064 (battery) | 395 (3.95 V), then 7 more registers
BATTERY_REPLY = "55 71 64 00 8B 01" + " 00" * 14


def imu_stream(n: int) -> tuple[bytes, np.ndarray]:
    """n consecutive 55 61 packets with distinct accelerations, and those accelerations in counts."""
    counts = np.arange(n * 3, dtype=np.int64).reshape(n, 3) * 7 - 300
    return b"".join(wit.encode_imu_packet(wit.ImuPacket(tuple(int(v) for v in row))) for row in counts), counts


def test_documented_commands():
    assert wit.UNLOCK == bytes.fromhex("FF AA 69 88 B5")
    assert wit.SAVE == bytes.fromhex("FF AA 00 00 00")
    assert wit.RESTORE_DEFAULTS == bytes.fromhex("FF AA 00 01 00")
    assert [wit.rate_command(hz) for hz in (50, 100, 200)] == [bytes.fromhex(f"FF AA 03 {c} 00") for c in ("08", "09", "0A")]
    assert wit.read_command(wit.Register.BATTERY) == bytes.fromhex("FF AA 27 64 00")
    assert wit.decode_write(bytes.fromhex("FF AA 03 0A 00")) == wit.RegisterWrite(0x03, 0x0A)
    with pytest.raises(DeviceError, match="no return rate of 300 Hz"):
        wit.rate_command(300)


def test_handshake_is_unlock_rate_save_with_the_sdk_pause():
    commands = wit.WITMOTION.session(200).start_commands()
    assert [c.data for c in commands] == [wit.UNLOCK, bytes.fromhex("FF AA 03 0A 00"), wit.SAVE]
    assert not any(c.expects_reply for c in commands)
    assert [c.settle_s for c in commands] == [0.1, 0.1, 0.0]
    assert wit.WITMOTION.session().stop_commands() == []


def test_imu_packet_vector_scales_acc_gyro_and_angles():
    packet = wit.decode_imu_packet(bytes.fromhex(IMU_VECTOR))
    assert packet == wit.ImuPacket((2048, 0, -2048), (16384, 0, 0), (8192, -8192, 0))
    np.testing.assert_allclose(packet.acc_g, [1.0, 0.0, -1.0])
    np.testing.assert_allclose(packet.gyro_dps, [1000.0, 0.0, 0.0])
    np.testing.assert_allclose(packet.angle_deg, [45.0, -45.0, 0.0])
    assert wit.encode_imu_packet(packet) == bytes.fromhex(IMU_VECTOR)
    batch = wit.WITMOTION.session().decode(bytes.fromhex(IMU_VECTOR))
    np.testing.assert_allclose(batch.acc_g, [[1.0, 0.0, -1.0]])
    assert batch.first_index is None and batch.last_timestamp_ns is None        # host-clocked


def test_register_reply_is_remembered_never_a_sample():
    reply = wit.decode_register_reply(bytes.fromhex(BATTERY_REPLY))
    assert reply == wit.RegisterReply(0x64, (395,) + (0,) * 7)
    session = wit.WITMOTION.session()
    batch = session.decode(bytes.fromhex(IMU_VECTOR + BATTERY_REPLY + IMU_VECTOR))
    assert len(batch) == 2 and session.registers[wit.Register.BATTERY] == 395
    session.on_control_message(bytes.fromhex(BATTERY_REPLY))


@pytest.mark.parametrize("cut", range(1, 40))
def test_a_packet_straddling_two_notifications_is_reassembled(cut):
    stream, counts = imu_stream(2)
    session = wit.WITMOTION.session()
    first, second = session.decode(stream[:cut]), session.decode(stream[cut:])
    assert len(first) == cut // 20 and len(first) + len(second) == 2 and session.pending == b""
    np.testing.assert_array_equal(np.vstack([first.acc_g, second.acc_g]), counts / 2048.0)


def test_reassembly_skips_bytes_that_are_no_packet_start():
    stream, _ = imu_stream(2)
    split = wit.reassemble(b"\x00\x55\x62\x55" + stream[:20] + b"\xaa" + stream[20:] + stream[:5])
    assert split.packets == (stream[:20], stream[20:]) and split.rest == stream[:5] and split.skipped_bytes == 5


@pytest.mark.parametrize("data, message", [
    (b"", "empty"), (b"\x00\x01\x02", "no 55 61"), (b"\xaa" * 25, "no 55 61"), (b"\x55\x62" + bytes(18), "no 55 61"),
])
def test_garbage_notifications_are_frame_errors_and_leave_nothing_behind(data, message):
    session = wit.WITMOTION.session()
    with pytest.raises(FrameError, match=message):
        session.decode(data)
    assert session.pending == b""
    assert len(session.decode(bytes.fromhex(IMU_VECTOR))) == 1


@pytest.mark.parametrize("data", [bytes.fromhex(IMU_VECTOR)[:19], bytes.fromhex(BATTERY_REPLY), b"\x55\x61" + bytes(19)])
def test_packet_decoders_check_length_and_type(data):
    with pytest.raises(FrameError, match="not a WitMotion 55 61 packet"):
        wit.decode_imu_packet(data)


def test_profile_range_rates_uuids_and_names():
    profile = get_profile("witmotion")
    assert profile is wit.WITMOTION and profile.ranges_g == (16.0,) and profile.rates_hz == (50.0, 100.0, 200.0)
    with pytest.raises(DeviceError, match="range"):
        profile.session(100, 8)
    with pytest.raises(DeviceError, match="cannot sample at 10 Hz"):
        profile.session(10)
    # the ...9a34fb base: bleak's short form expands to the SIG base (...9b34fb) and would never match
    assert wit.WIT_DATA_UUID.endswith("9a34fb") and normalize_uuid_str("ffe4") != wit.WIT_DATA_UUID
    for name in ("WT901BLE68", "BWT901BLECL5.0", "WT9011DCL-BT50"):
        assert detect_profile(name) is profile
    assert detect_profile(None, [wit.WIT_SERVICE_UUID.upper()]) is profile


int16 = st.integers(-32768, 32767)
triple = st.tuples(int16, int16, int16)


@settings(max_examples=200, deadline=None)
@given(acc=triple, gyro=triple, angle=triple, register=st.integers(0, 0xFFFF),
       values=st.tuples(*[st.integers(0, 0xFFFF)] * 8), write_register=st.integers(0, 255),
       write_value=st.integers(0, 0xFFFF))
def test_encode_then_decode_is_the_identity(acc, gyro, angle, register, values, write_register, write_value):
    packet = wit.ImuPacket(acc, gyro, angle)
    assert wit.decode_imu_packet(wit.encode_imu_packet(packet)) == packet
    reply = wit.RegisterReply(register, values)
    assert wit.decode_register_reply(wit.encode_register_reply(reply)) == reply
    write = wit.RegisterWrite(write_register, write_value)
    assert wit.decode_write(wit.encode_write(write)) == write


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 12), cuts=st.lists(st.integers(1, 60), max_size=20))
def test_any_cutting_of_the_stream_into_notifications_gives_every_sample_once(n, cuts):
    stream, counts = imu_stream(n)
    session, received, pos = wit.WITMOTION.session(), [], 0
    for size in cuts + [len(stream)]:
        if pos < len(stream):
            received.append(session.decode(stream[pos:pos + size]).acc_g)
            pos += size
    np.testing.assert_array_equal(np.vstack(received), counts / 2048.0)
    assert session.pending == b"" and session.discarded_bytes == 0


@settings(max_examples=400, deadline=None)
@given(chunks=st.lists(st.binary(max_size=60), min_size=1, max_size=5),
       prefix=st.sampled_from([b"", b"\x55", b"\x55\x61", b"\x55\x71", b"\xff\xaa"]))
def test_arbitrary_bytes_only_raise_our_errors(chunks, prefix):
    session = wit.WITMOTION.session()
    for data in [prefix + chunks[0], *chunks[1:]]:
        for decode in (wit.decode_imu_packet, wit.decode_register_reply, wit.decode_write, wit.reassemble,
                       session.decode, session.on_control_message):
            try:
                decode(data)
            except RetrorunError:
                pass


# --------------------------------------------------------------------------------------------- end to end

from needs import HAVE_BUMBLE, needs_bumble  # noqa: E402

if HAVE_BUMBLE:
    from bleak import BleakClient
    from emulated_recording import (WALL_LIMIT_S, check_garbage_is_counted_and_skipped, drops_at,
                                    lost_by_gaps, record_emulated, sent_first)
    from sensors.emulator.backend import BumbleClient, VirtualAir
    from sensors.emulator.witmotion import EmulatedWitMotion
    from sensors.simulator import simulate


@needs_bumble
@pytest.mark.parametrize("samples_per_frame, notification_bytes", [(5, None), (4, 17)],
                         ids=["whole packets", "packets straddling notifications"])
def test_a_clean_session_arrives_complete(tmp_path, samples_per_frame, notification_bytes):
    result, device, recovered = asyncio.run(record_emulated(
        tmp_path, wit.WITMOTION, 100.0, 10.0, speed=10.0, samples_per_frame=samples_per_frame,
        notification_bytes=notification_bytes))
    rec = recovered.recording
    index, sent = sent_first(device, 1000)
    assert len(rec) == 1000 == result.status.samples == len(index) and rec.gaps == []
    np.testing.assert_array_equal(rec.acc_g, sent)
    np.testing.assert_allclose(rec.acc_g, np.clip(device.recording.acc_g[:1000], -16, 16), atol=0.5 / 2048)
    assert result.status.malformed_frames == 0 and device.ignored_writes == 0 and device.rate_hz == 100.0


def first_position_of(rows: np.ndarray, sent: np.ndarray) -> int:
    """Where the run of `rows` starts within `sent` (values are unique enough that the whole run decides)."""
    for start in np.flatnonzero((sent == rows[0]).all(axis=1)):
        if len(sent) - start >= len(rows) and np.array_equal(sent[start:start + len(rows)], rows):
            return int(start)
    raise AssertionError("the samples after the gap are not a run of what the device sent")


@needs_bumble
def test_one_drop_gives_one_gap_within_one_notification_of_the_outage(tmp_path):
    samples_per_frame, rate_hz, seconds = 10, 50.0, 16.0
    result, device, recovered = asyncio.run(record_emulated(
        tmp_path, wit.WITMOTION, rate_hz, seconds, speed=4.0, samples_per_frame=samples_per_frame,
        fault=drops_at(300)))
    rec = recovered.recording
    assert result.status.reconnects == 1 and device.lost_samples > 0 and len(rec.gaps) == 1
    # no counter on the wire: find where the samples after the gap really were by their values
    index, sent = device.sent.arrays()
    before = int(np.sum(rec.time_s <= rec.gaps[0][0]))
    np.testing.assert_array_equal(rec.acc_g[:before], sent[:before])
    after = first_position_of(rec.acc_g[before:], sent)
    true_outage = int(index[after] - index[before - 1] - 1)
    assert true_outage >= device.lost_samples
    assert abs(lost_by_gaps(rec) - true_outage) <= samples_per_frame
    assert result.status.lost_samples == lost_by_gaps(rec) == rec.metadata["lost_samples"]


@needs_bumble
def test_malformed_notifications_are_counted_never_fatal(tmp_path):
    garbage = [b"", b"\x00\x01\x02", b"\xaa" * 25, b"\x55\x62" + bytes(18)]
    check_garbage_is_counted_and_skipped(tmp_path, wit.WITMOTION, 100.0, garbage, 200, speed=10.0, samples_per_frame=5)


@needs_bumble
def test_the_emulated_sensor_ignores_writes_before_unlock_and_answers_register_reads():
    async def scenario():
        air = VirtualAir()
        run = simulate("shank", "backward", sampling_rate_hz=50.0, duration_s=2.0, seed=1).recording
        device = EmulatedWitMotion(air, wit.WITMOTION, run, speed=10.0)
        await device.start()
        session, received, battery_read = wit.WITMOTION.session(50), [], asyncio.Event()

        def on_data(_, data: bytearray) -> None:
            received.append(session.decode(data))
            if wit.Register.BATTERY in session.registers:
                battery_read.set()

        async with BleakClient(device.address, backend=BumbleClient, air=air) as client:
            await client.start_notify(wit.WIT_DATA_UUID, on_data)
            await client.write_gatt_char(wit.WIT_WRITE_UUID, wit.rate_command(50), response=True)
            await client.write_gatt_char(wit.WIT_WRITE_UUID, wit.SAVE, response=True)
            await client.write_gatt_char(wit.WIT_WRITE_UUID, b"\x01\x02", response=True)
            await client.write_gatt_char(wit.WIT_WRITE_UUID, wit.read_command(wit.Register.BATTERY), response=True)
            await asyncio.wait_for(battery_read.wait(), WALL_LIMIT_S)
            streaming_before_unlock = device.is_streaming
            for command in session.start_commands():
                await client.write_gatt_char(wit.WIT_WRITE_UUID, command.data, response=True)
            await asyncio.wait_for(device.finished.wait(), WALL_LIMIT_S)
        await device.stop()
        return device, session, streaming_before_unlock, received

    device, session, streaming_before_unlock, received = asyncio.run(scenario())
    assert not streaming_before_unlock and device.ignored_writes == 2 and device.malformed_commands == 1
    assert session.registers[wit.Register.BATTERY] == device.battery_centivolts
    assert sum(len(b) for b in received) == len(device.recording) == len(device.sent.arrays()[0])
