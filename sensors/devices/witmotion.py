"""WitMotion BWT901BLE / WT901BLECL / WT9011DCL (BLE 5.0): 20-byte packets on a byte stream, FF AA register writes.

Wire format (BLE.md part B.4, from WITMOTION/WitBluetooth_BWT901BLE5_0 `Python/BWT901BLE5.0_python_sdk/
device_model.py` and rubenmuehlhans/esphome-witmotion `components/witmotion/witmotion_struct.h`). All
integers little-endian. Every function here is a pure function of bytes; malformed input raises FrameError
(notifications) or DeviceError (commands), never anything else.

Notifications (characteristic FFE4) are a byte stream of 20-byte packets, not one packet per notification:
a packet may straddle two notifications (the SDK's `onDataReceived` collects bytes until it has 20), so
`reassemble` is a pure function over a buffer that returns whole packets and the unfinished tail.

* `55 61` + 9 x i16: acceleration x, y, z (raw / 32768 x 16 g: the range is fixed at +-16 g), angular
  rate x, y, z (raw / 32768 x 2000 deg/s), angles roll, pitch, yaw (raw / 32768 x 180 deg). Decoded;
  the recorder keeps only the acceleration (retrorun analyses acceleration).
* `55 71` <register u16> + 8 x u16: the answer to a register read (`FF AA 27 <reg> 00`), registers
  reg .. reg+7 (e.g. 0x64 battery in 1/100 V). Parsed and remembered, never samples.

There is **no timestamp and no sample counter**: batches are placed by the host's arrival clock (an outage
is measured to within a notification's worth of samples, not exactly).

Commands (characteristic FFE9), 5 bytes `FF AA <register> <value u16>`: unlock `FF AA 69 88 B5`, return
rate `FF AA 03 <code> 00`, save `FF AA 00 00 00`. The SDK unlocks, writes, pauses about 100 ms and saves
(`writeReg`); the sensor answers none of them. It streams from the moment notifications are enabled and has
no stop command: it streams until the link goes.

Gotcha: the UUID base is `...-00805f9a34fb` (9**a**), not the SIG base `...9b34fb`, so bleak's short forms
("ffe4") do not match: always use the full strings below.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from ..errors import DeviceError
from .base import I16_FULL_SCALE, AccBatch, Command, DeviceProfile, FrameError, StreamSession, i16_counts_to_g

WIT_SERVICE_UUID = "0000ffe5-0000-1000-8000-00805f9a34fb"
WIT_DATA_UUID = "0000ffe4-0000-1000-8000-00805f9a34fb"
WIT_WRITE_UUID = "0000ffe9-0000-1000-8000-00805f9a34fb"

PACKET_BYTES = 20
PACKET_START = 0x55
IMU_FLAG = 0x61
REGISTER_FLAG = 0x71
PACKET_FLAGS = (IMU_FLAG, REGISTER_FLAG)
"""The second byte of a packet: the SDK drops a 0x55 followed by anything else and resynchronises."""

ACC_RANGE_G = 16.0
GYRO_RANGE_DPS = 2000.0
ANGLE_RANGE_DEG = 180.0
"""Full scale of +-32768 raw counts for each quantity of a 55 61 packet."""

COMMAND_PREFIX = b"\xff\xaa"
COMMAND = struct.Struct("<2sBH")          # FF AA, register, value
REGISTER_REPLY = struct.Struct("<2sH8H")  # 55 71, register, 8 register values
WRITE_PAUSE_S = 0.1
"""The SDK's pause after unlock and after a register write, before the next write (device_model.py, writeReg)."""


class Register(IntEnum):
    """Registers the sensor has and retrorun uses or documents (witmotion_struct.h)."""

    SAVE = 0x00
    """Value 0 saves the configuration, 1 restores the factory defaults."""
    CALIBRATE = 0x01
    RETURN_RATE = 0x03
    READ = 0x27
    """Value = the register to read; answered by a 55 71 packet."""
    TIME = 0x30
    MAGNETOMETER = 0x3A
    TEMPERATURE = 0x40
    QUATERNION = 0x51
    BATTERY = 0x64
    """1/100 V."""
    UNLOCK = 0x69


UNLOCK_VALUE = 0xB588
"""`FF AA 69 88 B5`: the key that lets the next writes through."""

RATE_CODES_HZ = {0x01: 0.2, 0x02: 0.5, 0x03: 1.0, 0x04: 2.0, 0x05: 5.0, 0x06: 10.0, 0x07: 20.0, 0x08: 50.0,
                 0x09: 100.0, 0x0A: 200.0}
"""Return-rate register codes (witmotion_struct.h). The factory default is 0x06, 10 Hz."""
RUNNING_RATES_HZ = (50.0, 100.0, 200.0)
"""The rates retrorun offers: slower ones do not resolve a foot contact (analyzer.placement)."""


# --------------------------------------------------------------------------------------------- commands

@dataclass(frozen=True)
class RegisterWrite:
    """One 5-byte command: write `value` (u16) to `register`."""

    register: int
    value: int


def encode_write(write: RegisterWrite) -> bytes:
    """`FF AA <register> <value lo> <value hi>`."""
    if not 0 <= write.register <= 0xFF or not 0 <= write.value <= 0xFFFF:
        raise DeviceError(f"WitMotion register 0x{write.register:X} = {write.value} does not fit u8 = u16")
    return COMMAND.pack(COMMAND_PREFIX, write.register, write.value)


def decode_write(data: bytes) -> RegisterWrite:
    """The register write in a command (what the emulated sensor receives); FrameError when it is not one."""
    data = bytes(data)
    if len(data) != COMMAND.size or not data.startswith(COMMAND_PREFIX):
        raise FrameError(f"not a WitMotion command (FF AA <register> <lo> <hi>): {data[:8].hex(' ') or 'empty'}")
    _, register, value = COMMAND.unpack(data)
    return RegisterWrite(register, value)


UNLOCK = encode_write(RegisterWrite(Register.UNLOCK, UNLOCK_VALUE))
SAVE = encode_write(RegisterWrite(Register.SAVE, 0))
RESTORE_DEFAULTS = encode_write(RegisterWrite(Register.SAVE, 1))


def rate_code(rate_hz: float) -> int:
    """The return-rate register code of `rate_hz`; DeviceError for a rate the sensor does not have."""
    for code, hz in RATE_CODES_HZ.items():
        if hz == float(rate_hz):
            return code
    raise DeviceError(f"WitMotion has no return rate of {rate_hz:g} Hz; it has "
                      + ", ".join(f"{hz:g}" for hz in RATE_CODES_HZ.values()))


def rate_command(rate_hz: float) -> bytes:
    """`FF AA 03 <code> 00`, e.g. 200 Hz: FF AA 03 0A 00."""
    return encode_write(RegisterWrite(Register.RETURN_RATE, rate_code(rate_hz)))


def read_command(register: int) -> bytes:
    """`FF AA 27 <register> 00`: ask for registers `register` .. +7 (a 55 71 packet answers)."""
    return encode_write(RegisterWrite(Register.READ, register))


# --------------------------------------------------------------------------------------------- packets

@dataclass(frozen=True)
class ImuPacket:
    """One `55 61` packet as the raw i16 values on the wire: acceleration, angular rate, angles (x, y, z)."""

    acc: tuple[int, int, int]
    gyro: tuple[int, int, int] = (0, 0, 0)
    angle: tuple[int, int, int] = (0, 0, 0)

    @property
    def acc_g(self) -> np.ndarray:
        return i16_counts_to_g(np.array(self.acc), ACC_RANGE_G)

    @property
    def gyro_dps(self) -> np.ndarray:
        return np.array(self.gyro, dtype=np.float64) * (GYRO_RANGE_DPS / I16_FULL_SCALE)

    @property
    def angle_deg(self) -> np.ndarray:
        """Roll, pitch, yaw."""
        return np.array(self.angle, dtype=np.float64) * (ANGLE_RANGE_DEG / I16_FULL_SCALE)


@dataclass(frozen=True)
class RegisterReply:
    """One `55 71` packet: the values of registers `register` .. `register` + 7."""

    register: int
    values: tuple[int, ...]


def _packet_of(data: bytes, flag: int) -> bytes:
    data = bytes(data)
    if len(data) != PACKET_BYTES or data[0] != PACKET_START or data[1] != flag:
        raise FrameError(f"not a WitMotion 55 {flag:02x} packet of {PACKET_BYTES} bytes: {data[:8].hex(' ') or 'empty'}")
    return data


def decode_imu_packet(data: bytes) -> ImuPacket:
    values = struct.unpack_from("<9h", _packet_of(data, IMU_FLAG), 2)
    return ImuPacket(values[0:3], values[3:6], values[6:9])


def encode_imu_packet(packet: ImuPacket) -> bytes:
    values = (*packet.acc, *packet.gyro, *packet.angle)
    if any(not -32768 <= int(v) <= 32767 for v in values):
        raise DeviceError("a WitMotion 55 61 packet carries int16 values only")
    return bytes([PACKET_START, IMU_FLAG]) + struct.pack("<9h", *(int(v) for v in values))


def decode_register_reply(data: bytes) -> RegisterReply:
    _, register, *values = REGISTER_REPLY.unpack(_packet_of(data, REGISTER_FLAG))
    return RegisterReply(register, tuple(values))


def encode_register_reply(reply: RegisterReply) -> bytes:
    if len(reply.values) != 8 or any(not 0 <= v <= 0xFFFF for v in (reply.register, *reply.values)):
        raise DeviceError("a WitMotion 55 71 packet carries a u16 register and 8 u16 values")
    return REGISTER_REPLY.pack(bytes([PACKET_START, REGISTER_FLAG]), reply.register, *reply.values)


def imu_acc_counts(packets: list[bytes]) -> np.ndarray:
    """The acceleration counts (n, 3) of whole `55 61` packets, in one vectorised step."""
    if not packets:
        return np.zeros((0, 3), dtype=np.int64)
    words = np.frombuffer(b"".join(packets), dtype="<i2").reshape(-1, PACKET_BYTES // 2)
    return words[:, 1:4].astype(np.int64)            # word 0 is the 55 61 header


# --------------------------------------------------------------------------------------------- reassembly

@dataclass(frozen=True)
class Reassembly:
    """What a byte buffer holds: whole packets in order, the unfinished packet at its end, bytes skipped."""

    packets: tuple[bytes, ...]
    rest: bytes
    skipped_bytes: int


def reassemble(buffer: bytes) -> Reassembly:
    """Cut `buffer` into 20-byte packets that start `55 61` or `55 71`, as the SDK does.

    Bytes before a packet start (or a 0x55 not followed by 61/71) are skipped and counted; an incomplete
    packet at the end is returned as `rest`, to be prefixed to the next notification's bytes.
    """
    buffer = bytes(buffer)
    packets: list[bytes] = []
    pos = skipped = 0
    while pos < len(buffer):
        start = buffer.find(PACKET_START, pos)
        if start < 0:
            skipped += len(buffer) - pos
            pos = len(buffer)
            break
        skipped += start - pos
        pos = start
        if pos + 1 < len(buffer) and buffer[pos + 1] not in PACKET_FLAGS:
            skipped += 1
            pos += 1
            continue
        if pos + PACKET_BYTES > len(buffer):
            break
        packets.append(buffer[pos:pos + PACKET_BYTES])
        pos += PACKET_BYTES
    return Reassembly(tuple(packets), buffer[pos:], skipped)


# --------------------------------------------------------------------------------------------- session and profile

class WitMotionSession(StreamSession):
    """A WitMotion stream: unlock, rate, save; then a byte stream reassembled into packets across notifications."""

    def __init__(self, rate_hz: float, range_g: float = ACC_RANGE_G):
        if float(range_g) != ACC_RANGE_G:
            raise DeviceError(f"WitMotion's range is fixed at +-{ACC_RANGE_G:g} g, not +-{range_g:g} g")
        self.rate_hz, self.range_g = float(rate_hz), ACC_RANGE_G
        self.pending = b""
        """The start of a packet whose end is in the next notification."""
        self.discarded_bytes = 0
        self.registers: dict[int, int] = {}
        """Register values the sensor reported in 55 71 packets (e.g. Register.BATTERY, 1/100 V)."""

    def start_commands(self) -> list[Command]:
        """Unlock, set the return rate, save, with the SDK's pause after each write (none is answered)."""
        return [Command(UNLOCK, expects_reply=False, settle_s=WRITE_PAUSE_S),
                Command(rate_command(self.rate_hz), expects_reply=False, settle_s=WRITE_PAUSE_S),
                Command(SAVE, expects_reply=False)]

    def stop_commands(self) -> list[Command]:
        return []          # there is no stop: the sensor streams until the link goes

    def on_control_message(self, data: bytes) -> None:
        """A register reply (the sensor answers nothing else); remember its values."""
        self._remember(decode_register_reply(data))

    def _remember(self, reply: RegisterReply) -> None:
        for offset, value in enumerate(reply.values):
            self.registers[reply.register + offset] = value

    def decode(self, data: bytes) -> AccBatch:
        """The samples completed by this notification (maybe none: half a packet, or a register reply).

        FrameError for a notification that is empty or whose bytes are no packet at all; it leaves nothing
        behind, so garbage cannot glue onto the next packet. Bytes skipped inside an otherwise good
        notification are counted in `discarded_bytes`.
        """
        data = bytes(data)
        if not data:
            raise FrameError("empty WitMotion notification")
        split = reassemble(self.pending + data)
        if split.skipped_bytes and not split.packets:
            self.pending = b""
            self.discarded_bytes += split.skipped_bytes + len(split.rest)
            raise FrameError(f"WitMotion notification of {len(data)} bytes holds no 55 61 / 55 71 packet: "
                             f"{data[:8].hex(' ')}")
        self.pending = split.rest
        self.discarded_bytes += split.skipped_bytes
        imu = [p for p in split.packets if p[1] == IMU_FLAG]
        for packet in split.packets:
            if packet[1] == REGISTER_FLAG:
                self._remember(decode_register_reply(packet))
        return AccBatch(acc_g=i16_counts_to_g(imu_acc_counts(imu), ACC_RANGE_G))


WITMOTION = DeviceProfile(
    key="witmotion", family="witmotion", service_uuid=WIT_SERVICE_UUID, data_uuid=WIT_DATA_UUID,
    control_uuid=WIT_WRITE_UUID, name_prefixes=("WT901", "BWT901"), rates_hz=RUNNING_RATES_HZ,
    ranges_g=(ACC_RANGE_G,), default_rate_hz=100.0, default_range_g=ACC_RANGE_G, open_session=WitMotionSession, host_clocked=True)
"""BWT901BLE, WT901BLECL and WT9011DCL (BLE 5.0): one protocol, fixed +-16 g, host-clocked."""

PROFILES = (WITMOTION,)
