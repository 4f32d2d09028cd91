"""Movesense (Suunto / Amer) over the GATT SensorData Protocol (GSP): the accelerometer stream `/Meas/Acc/{rate}`.

Wire format (BLE.md part B.2, read from alexisduque/movesense-device-lib, a mirror of movesense-device-lib:
samples/gatt_sensordata_app/GATTSensorDataClient.cpp and python_client/movesense_sensor_data.py; summarised
in docs/ble.md). GSP needs the gatt_sensordata_app firmware sample, or a firmware with GSP built in.
All integers little-endian (but see the status below). Every function here is a pure function of bytes;
malformed input raises FrameError, a refusal ControlPointError, never anything else.

Commands (written to ...0001): [u8 command][u8 client reference, not 0][payload]:
    HELLO 0 (no payload), SUBSCRIBE 1 (ASCII resource path), UNSUBSCRIBE 2 (the subscription's reference).
Notifications (on ...0002, replies and data alike): [u8 type][u8 reference][...]:
    type 1 COMMAND_RESULT: an HTTP-like status (200 OK; 507 = no free subscription slot), or, answering
           HELLO, the five ASCII bytes "Hello";
    type 2 DATA: the resource's data; for /Meas/Acc/{rate}: [u32 timestamp ms][N x (f32 x, y, z)] in m/s^2;
    type 3 DATA_PART2: in the firmware sample (at c9c1226) the second half of a logbook transfer
           (`03 ref [u32 offset][bytes]`), never of a measurement subscription: rejected as a FrameError.
The status is not consistently encoded: the firmware sample writes 507 as the bytes 01 FB (big-endian) and
answers INIT_OFFLINE with the single byte 200; other implementations write a little-endian u16. So
`decode_result` reads whichever order gives an HTTP status (100-599; for every standard code only one
does), and a single byte as it is. The firmware sample never answers a successful SUBSCRIBE (only a
full subscription table, with 507), nor UNSUBSCRIBE: see `MovesenseAccSession` for how we still learn
whether SUBSCRIBE was refused.

Timestamp: the sensor's millisecond clock at the FIRST sample of the packet. The firmware sample does not
say; MovesenseDotNet's model of the same resource (AndyCW/MovesenseDotNet, MdsLibrary Model AccData:
"Local timestamp of first measurement in the array of readings") does. Not checked on hardware.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum
from http import HTTPStatus

import numpy as np

from ..errors import DeviceError
from ..units import STANDARD_GRAVITY_MPS2
from .base import AccBatch, Command, ControlPointError, DeviceProfile, FrameError, StreamSession

GSP_SERVICE_UUID = "34802252-7185-4d5d-b431-630e7050e8f0"
GSP_COMMAND_UUID = "34800001-7185-4d5d-b431-630e7050e8f0"
GSP_DATA_UUID = "34800002-7185-4d5d-b431-630e7050e8f0"

ACC_PATH_PREFIX = "/Meas/Acc/"
ACC_RATES_HZ = (13, 26, 52, 104, 208, 416, 833, 1666)
"""The rates /Meas/Acc/{rate} accepts (BLE.md B.2)."""
ACC_RANGES_G = (2.0, 4.0, 8.0, 16.0)
STREAMED_RANGE_G = 8.0
"""The range the sensor streams at unless told otherwise. UNVERIFIED: +-8 g as the default (and 2/4/8/16 as
the choices) come from memory of the Movesense docs (BLE.md B.2). Changing it needs PUT /Meas/Acc/Config,
which GSP v1 (HELLO, SUBSCRIBE, UNSUBSCRIBE) cannot send, so any other range is refused before connecting."""

HELLO_REPLY = b"Hello"
HELLO_REF = 0x01
ACC_REF = 0x63
"""Client references we use (any non-zero byte; 0x63 is the firmware sample's Python client's)."""

DATA_HEADER = struct.Struct("<BBI")      # type, reference, timestamp ms
STATUS_LITTLE_ENDIAN = struct.Struct("<H")
STATUS_BIG_ENDIAN = struct.Struct(">H")
SAMPLE_BYTES = 12                        # f32 x, y, z
MAX_PLAUSIBLE_G = 2 * ACC_RANGES_G[-1]
"""A decoded value beyond twice the widest range is not a sample but garbage that happened to parse."""
MS_CLOCK_WRAP = 1 << 32
TIMESTAMP_RESOLUTION_NS = 1_000_000
"""A timestamp is whole ms; two of them may differ from the true times by up to this much together."""


class CommandCode(IntEnum):
    HELLO = 0
    SUBSCRIBE = 1
    UNSUBSCRIBE = 2


class MessageType(IntEnum):
    COMMAND_RESULT = 1
    DATA = 2
    DATA_PART2 = 3


# --------------------------------------------------------------------------------------------- commands

@dataclass(frozen=True)
class GspCommand:
    """One command: its code, the client's reference (1-255) and the resource path (SUBSCRIBE only)."""

    code: int
    ref: int
    path: str = ""


def encode_command(command: GspCommand) -> bytes:
    if not 1 <= command.ref <= 255:
        raise DeviceError(f"a GSP client reference is 1-255, not {command.ref}")
    return bytes([command.code, command.ref]) + command.path.encode("ascii")


def decode_command(data: bytes) -> GspCommand:
    """The command a client wrote (what the emulated sensor reads); FrameError when it is not one."""
    data = bytes(data)
    if len(data) < 2:
        raise FrameError(f"GSP command of {len(data)} bytes; expected [command][reference][payload]")
    code, ref, payload = data[0], data[1], data[2:]
    if ref == 0:
        raise FrameError("GSP command with client reference 0; references are 1-255")
    if code not in CommandCode._value2member_map_:
        raise FrameError(f"unknown GSP command {code}; expected 0 HELLO, 1 SUBSCRIBE or 2 UNSUBSCRIBE")
    try:
        path = payload.decode("ascii")
    except UnicodeDecodeError:
        raise FrameError(f"GSP {CommandCode(code).name} payload is not an ASCII resource path") from None
    return GspCommand(code, ref, path)


def hello_command(ref: int = HELLO_REF) -> bytes:
    return encode_command(GspCommand(CommandCode.HELLO, ref))


def subscribe_command(ref: int, path: str) -> bytes:
    """e.g. 01 63 "/Meas/Acc/104": subscribe to acceleration at 104 Hz under reference 0x63."""
    return encode_command(GspCommand(CommandCode.SUBSCRIBE, ref, path))


def unsubscribe_command(ref: int) -> bytes:
    return encode_command(GspCommand(CommandCode.UNSUBSCRIBE, ref))


def acc_path(rate_hz: float) -> str:
    return f"{ACC_PATH_PREFIX}{int(rate_hz)}"


def acc_rate_of(path: str) -> int | None:
    """The rate in a /Meas/Acc/{rate} path (any integer, supported or not); None for any other resource."""
    rest = path[len(ACC_PATH_PREFIX):] if path.startswith(ACC_PATH_PREFIX) else ""
    return int(rest) if rest.isdigit() else None


# --------------------------------------------------------------------------------------------- replies

@dataclass(frozen=True)
class CommandResult:
    """A COMMAND_RESULT: `status` (HTTP-like), or `hello` for the answer to HELLO (which carries no status)."""

    ref: int
    status: int | None = None
    hello: bool = False

    @property
    def ok(self) -> bool:
        return self.hello or (self.status is not None and 200 <= self.status < 300)

    @property
    def status_name(self) -> str:
        if self.status is None:
            return "HELLO"
        return HTTPStatus(self.status).name if self.status in HTTPStatus._value2member_map_ else f"HTTP_{self.status}"


def encode_result(result: CommandResult) -> bytes:
    """The bytes of a result; a status big-endian, as the firmware sample writes 507 (01 FB)."""
    head = bytes([MessageType.COMMAND_RESULT, result.ref])
    return head + (HELLO_REPLY if result.hello else STATUS_BIG_ENDIAN.pack(result.status))


def decode_result(data: bytes) -> CommandResult:
    """A COMMAND_RESULT notification; FrameError when it is not one. Bytes after the status (what a GET
    would carry) are ignored."""
    data = bytes(data)
    if len(data) < 3 or data[0] != MessageType.COMMAND_RESULT:
        raise FrameError(f"not a GSP command result: {data[:8].hex(' ') or 'empty'}")
    if data[2:] == HELLO_REPLY:
        return CommandResult(data[1], hello=True)
    if len(data) == 3:
        return CommandResult(data[1], data[2])
    return CommandResult(data[1], status_either_order(data[2:4]))


def status_either_order(two_bytes: bytes) -> int:
    """The u16 status big-endian (as the firmware sample writes it) when that is an HTTP status, else
    little-endian. Both orders give one only for 257, 258, 513 and 514, none of them a status in use."""
    big = STATUS_BIG_ENDIAN.unpack(two_bytes)[0]
    return big if is_http_status(big) else STATUS_LITTLE_ENDIAN.unpack(two_bytes)[0]


def is_http_status(value: int) -> bool:
    return 100 <= value <= 599


# --------------------------------------------------------------------------------------------- data

@dataclass(frozen=True)
class AccFrame:
    """One DATA notification of /Meas/Acc: reference, ms timestamp of the first sample, samples in m/s^2 (n, 3)."""

    ref: int
    timestamp_ms: int
    samples_mps2: np.ndarray = field(compare=False)

    def __eq__(self, other) -> bool:
        return (isinstance(other, AccFrame) and (self.ref, self.timestamp_ms) == (other.ref, other.timestamp_ms)
                and np.array_equal(self.samples_mps2, other.samples_mps2))


def message_type(data: bytes) -> int | None:
    return data[0] if data else None


def decode_acc_frame(data: bytes) -> AccFrame:
    """Decode one /Meas/Acc DATA notification; FrameError for anything else.

    DATA_PART2 (type 3) is rejected: the firmware sample uses it only to split logbook transfers, and a
    continuation we cannot place would journal wrong samples. A rejected frame is counted; were it ever part of
    our stream, the sample clock would turn the samples it held into a gap.
    """
    data = bytes(data)
    kind = message_type(data)
    if kind == MessageType.DATA_PART2:
        raise FrameError("GSP DATA_PART2 (continuation) frame: not supported; subscribe at a lower rate or "
                         "use a larger MTU so that every packet fits one notification")
    if kind != MessageType.DATA:
        raise FrameError(f"not a GSP DATA frame: type {kind if kind is not None else 'none (empty)'}, expected 2")
    if len(data) < DATA_HEADER.size + SAMPLE_BYTES or (len(data) - DATA_HEADER.size) % SAMPLE_BYTES:
        raise FrameError(f"GSP /Meas/Acc frame of {len(data)} bytes; expected 6 + a non-zero multiple of 12")
    _, ref, timestamp_ms = DATA_HEADER.unpack_from(data)
    samples = np.frombuffer(data, dtype="<f4", offset=DATA_HEADER.size).reshape(-1, 3).astype(np.float64)
    check_plausible(samples)
    return AccFrame(ref, timestamp_ms, samples)


def check_plausible(samples_mps2: np.ndarray) -> None:
    """FrameError for values no accelerometer sends (NaN, infinities, beyond MAX_PLAUSIBLE_G)."""
    limit_mps2 = MAX_PLAUSIBLE_G * STANDARD_GRAVITY_MPS2
    if not np.all(np.isfinite(samples_mps2)) or np.abs(samples_mps2).max() > limit_mps2:
        raise FrameError(f"GSP /Meas/Acc frame with values that are not accelerations (non-finite or beyond "
                         f"+-{MAX_PLAUSIBLE_G:g} g)")


def encode_acc_frame(frame: AccFrame) -> bytes:
    """The notification bytes of a frame (samples as float32: values not exactly float32 are rounded)."""
    samples = np.asarray(frame.samples_mps2, dtype=np.float64).reshape(-1, 3)
    if not len(samples):
        raise DeviceError("a GSP /Meas/Acc frame carries at least one sample")
    return (DATA_HEADER.pack(MessageType.DATA, frame.ref, frame.timestamp_ms % MS_CLOCK_WRAP)
            + samples.astype("<f4").tobytes())


def mps2_to_g(samples_mps2: np.ndarray) -> np.ndarray:
    return samples_mps2 / STANDARD_GRAVITY_MPS2


# --------------------------------------------------------------------------------------------- device time

@dataclass
class MsClock:
    """Turns the sensor's u32 ms timestamps (first sample of a packet) into ns of the packet's LAST sample.

    The sample clock (sensors.ble.SampleClock) indexes samples by rounding time x rate, and a whole-ms
    timestamp is off by up to a period above 1000 Hz, so within one link a packet that follows on from the
    previous one (its timestamp within TIMESTAMP_RESOLUTION_NS of where the previous one predicts it) is
    placed exactly there; any other timestamp (lost packets, the first one) is taken as it is. It also unwraps
    the u32 clock, which wraps after 49.7 days of sensor uptime (only within one link: a wrap during an
    outage is not detected).
    """

    rate_hz: float
    _wraps: int = 0
    _previous_ms: int | None = None
    _anchor_ns: int | None = None
    _samples_since_anchor: int = 0

    def last_sample_ns(self, timestamp_ms: int, n_samples: int) -> int:
        first_ns = self._unwrapped_ms(timestamp_ms) * 1_000_000
        predicted_ns = self._predicted_ns()
        if predicted_ns is not None and abs(first_ns - predicted_ns) <= TIMESTAMP_RESOLUTION_NS:
            first_offset = self._samples_since_anchor
        else:
            self._anchor_ns, first_offset = first_ns, 0
        self._samples_since_anchor = first_offset + n_samples
        return self._anchor_ns + round((first_offset + n_samples - 1) * 1e9 / self.rate_hz)

    def _unwrapped_ms(self, timestamp_ms: int) -> int:
        if self._previous_ms is not None and timestamp_ms < self._previous_ms - MS_CLOCK_WRAP // 2:
            self._wraps += 1
        self._previous_ms = timestamp_ms
        return timestamp_ms + self._wraps * MS_CLOCK_WRAP

    def _predicted_ns(self) -> float | None:
        if self._anchor_ns is None:
            return None
        return self._anchor_ns + self._samples_since_anchor * 1e9 / self.rate_hz


# --------------------------------------------------------------------------------------------- sessions and profiles

class MovesenseAccSession(StreamSession):
    """A /Meas/Acc subscription: SUBSCRIBE, then HELLO; UNSUBSCRIBE at the end.

    Replies arrive on the data characteristic (`is_reply`: every COMMAND_RESULT). The firmware sample answers
    a successful SUBSCRIBE with nothing at all (it just streams), so waiting for that answer would hang;
    instead SUBSCRIBE is followed by HELLO, which every GSP firmware answers. The sensor handles commands,
    and queues their answers, in order, so a refusal of SUBSCRIBE (507 when its subscription table is full)
    comes before the "Hello" and is the reply the client reads for HELLO: a ControlPointError. Firmware that
    does acknowledge SUBSCRIBE (200) is fine too: the client reads that, and the "Hello" goes unread.
    """

    def __init__(self, rate_hz: float, range_g: float):
        if range_g != STREAMED_RANGE_G:
            raise DeviceError(f"movesense: the range cannot be set over GSP (it needs PUT /Meas/Acc/Config); "
                              f"record at the sensor's +-{STREAMED_RANGE_G:g} g (leave out --range-g)")
        self.rate_hz, self.range_g = rate_hz, range_g
        self.clock = MsClock(rate_hz)
        self.hello_answered = False

    def start_commands(self) -> list[Command]:
        return [Command(subscribe_command(ACC_REF, acc_path(self.rate_hz)), expects_reply=False),
                Command(hello_command(HELLO_REF))]

    def stop_commands(self) -> list[Command]:
        """UNSUBSCRIBE gets no answer (GATTSensorDataClient.cpp sends none)."""
        return [Command(unsubscribe_command(ACC_REF), expects_reply=False)]

    def is_reply(self, data: bytes) -> bool:
        return message_type(data) == MessageType.COMMAND_RESULT

    def on_control_message(self, data: bytes) -> None:
        result = decode_result(data)
        if result.hello:
            self.hello_answered = True
        elif not result.ok:
            what = f"SUBSCRIBE {acc_path(self.rate_hz)}" if result.ref == ACC_REF else f"command ref {result.ref}"
            raise ControlPointError(f"Movesense refused {what}: {result.status_name} (status {result.status})",
                                    status=result.status, status_name=result.status_name)

    def decode(self, data: bytes) -> AccBatch:
        frame = decode_acc_frame(data)
        if frame.ref != ACC_REF:
            raise FrameError(f"GSP data for reference {frame.ref}; our subscription is {ACC_REF}")
        n = len(frame.samples_mps2)
        return AccBatch(acc_g=mps2_to_g(frame.samples_mps2),
                        last_timestamp_ns=self.clock.last_sample_ns(frame.timestamp_ms, n))


MOVESENSE = DeviceProfile(
    key="movesense", family="movesense-gsp", service_uuid=GSP_SERVICE_UUID, data_uuid=GSP_DATA_UUID,
    control_uuid=GSP_COMMAND_UUID, name_prefixes=("Movesense",), rates_hz=tuple(float(r) for r in ACC_RATES_HZ),
    ranges_g=ACC_RANGES_G, default_rate_hz=104.0, default_range_g=STREAMED_RANGE_G,
    open_session=MovesenseAccSession)
"""Replies come on the data characteristic (reply_uuid None). 104 Hz by default: ample for running steps."""

PROFILES = (MOVESENSE,)
