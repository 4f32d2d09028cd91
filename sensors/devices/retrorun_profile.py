"""The retrorun GATT profile: an open accelerometer stream for phones and DIY boards (nRF52, ESP32).

Specified in docs/ble-profile.md (the page a peripheral is implemented from); designed after BLE.md B.6's
suggested open profile. All integers little-endian. Every function here is a pure function of bytes;
malformed input raises FrameError (and a refusal ControlPointError), never anything else.

Why it looks like this:
* Every data frame carries the index of its first sample, counted from START on the device's sample clock
  (whether or not the sample was kept or sent), so the client finds every gap exactly.
* A phone can keep sampling and buffering while the link is down. After a reconnect the client says which
  index it needs next (RESUME) and the device resends from there: notifications lost in flight when the
  link dropped, which the device cannot know about, are recovered too. So a buffering device loses nothing.
* Samples are i16 at a full scale of +-range g (counts per g = 32768 / range_g): 6 bytes per sample, 4-10
  per notification (BLE.md B.6: batch, do not send one notification per sample).

Data frame (notify):  [0] frame type 0x01 | [1..4] u32 first_sample_index | [5] u8 n | n x (i16 x, y, z)
Control point (write, indicate): requests [op][parameters]; responses [0xF0][op][status][payload].
  01 GET_CAPABILITIES                  -> payload: u8 version, u8 n + n x u16 rates_hz, u8 m + m x u8 ranges_g,
                                          u16 backlog_s
  02 START  u16 rate_hz, u8 range_g    (a new stream, first index 0)
  03 STOP
  04 RESUME u32 from_index             (continue the stream after a reconnect, from that index)
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from ..errors import DeviceError
from .base import (AccBatch, Command, ControlPointError, DeviceProfile, FrameError, StreamSession, g_to_i16_counts,
                   i16_counts_to_g)

RETRORUN_SERVICE_UUID = "034b8c58-c517-4860-be01-3501ff7de3d6"
RETRORUN_DATA_UUID = "034b8c59-c517-4860-be01-3501ff7de3d6"
RETRORUN_CONTROL_UUID = "034b8c5a-c517-4860-be01-3501ff7de3d6"
"""A random 128-bit UUID (generated once for this profile); the characteristics count on from it."""
NAME_PREFIX = "retrorun"

PROTOCOL_VERSION = 1
FRAME_ACC_I16 = 0x01
"""Byte 0 of a data frame: version 1, three i16 axes. Other values are reserved (a client rejects them)."""
FRAME_HEADER = struct.Struct("<BIB")        # frame type, first sample index, sample count
SAMPLE = struct.Struct("<3h")
MAX_SAMPLES_PER_FRAME = 255
RESPONSE_CODE = 0xF0
ATT_HEADER_BYTES = 3


class OpCode(IntEnum):
    GET_CAPABILITIES = 0x01
    START = 0x02
    STOP = 0x03
    RESUME = 0x04


class Status(IntEnum):
    SUCCESS = 0x00
    UNKNOWN_OP = 0x01
    MALFORMED = 0x02
    """The request's length does not fit its op code."""
    UNSUPPORTED_RATE = 0x03
    UNSUPPORTED_RANGE = 0x04
    ALREADY_STREAMING = 0x05
    """START or RESUME while this connection already receives the stream."""
    NOT_STREAMING = 0x06
    """STOP or RESUME without a stream (never started, stopped, or the device restarted)."""
    INVALID_INDEX = 0x07
    """RESUME from an index the stream has not reached (not this stream)."""


REQUEST_PARAMETERS = {OpCode.GET_CAPABILITIES: struct.Struct("<"), OpCode.START: struct.Struct("<HB"),
                      OpCode.STOP: struct.Struct("<"), OpCode.RESUME: struct.Struct("<I")}
"""The parameters after the op byte of each request (a request of any other length is MALFORMED)."""


def max_samples_per_frame(att_mtu: int) -> int:
    """The most samples one notification can carry at a negotiated ATT MTU (payload = MTU - 3)."""
    return max(0, min(MAX_SAMPLES_PER_FRAME, (att_mtu - ATT_HEADER_BYTES - FRAME_HEADER.size) // SAMPLE.size))


# --------------------------------------------------------------------------------------------- data frames

@dataclass(frozen=True)
class AccFrame:
    """One data notification: samples as the i16 counts on the wire (n, 3), the first numbered `first_index`."""

    first_index: int
    counts: np.ndarray = field(compare=False)

    def __eq__(self, other) -> bool:
        return (isinstance(other, AccFrame) and self.first_index == other.first_index
                and np.array_equal(self.counts, other.counts))


def encode_frame(frame: AccFrame) -> bytes:
    counts = np.asarray(frame.counts, dtype=np.int64).reshape(-1, 3)
    if not 1 <= len(counts) <= MAX_SAMPLES_PER_FRAME:
        raise DeviceError(f"a retrorun frame carries 1-{MAX_SAMPLES_PER_FRAME} samples, not {len(counts)}")
    if counts.min() < -32768 or counts.max() > 32767 or not 0 <= frame.first_index <= 0xFFFFFFFF:
        raise DeviceError("a retrorun frame carries int16 samples and a u32 first index")
    return FRAME_HEADER.pack(FRAME_ACC_I16, frame.first_index, len(counts)) + counts.astype("<i2").tobytes()


def decode_frame(data: bytes) -> AccFrame:
    """Decode one data notification; FrameError when it is not a whole version-1 frame."""
    data = bytes(data)
    if len(data) < FRAME_HEADER.size:
        raise FrameError(f"retrorun frame too short: {len(data)} bytes, expected at least {FRAME_HEADER.size}")
    frame_type, first_index, n = FRAME_HEADER.unpack_from(data)
    if frame_type != FRAME_ACC_I16:
        raise FrameError(f"unknown retrorun frame type 0x{frame_type:02x}; expected 0x{FRAME_ACC_I16:02x}")
    expected = FRAME_HEADER.size + n * SAMPLE.size
    if n == 0 or len(data) != expected:
        raise FrameError(f"retrorun frame of {len(data)} bytes says {n} samples; expected {expected} bytes "
                         "and at least one sample")
    counts = np.frombuffer(data, dtype="<i2", offset=FRAME_HEADER.size).reshape(n, 3).astype(np.int64)
    return AccFrame(first_index, counts)


def counts_to_g(counts: np.ndarray, range_g: float) -> np.ndarray:
    return i16_counts_to_g(counts, range_g)


def g_to_counts(acc_g: np.ndarray, range_g: float) -> np.ndarray:
    """What a device sends for `acc_g` at +-`range_g`: the nearest count, clipped to int16."""
    return g_to_i16_counts(acc_g, range_g)


# --------------------------------------------------------------------------------------------- control point

@dataclass(frozen=True)
class Request:
    """A control-point request; the parameters its op code carries, None otherwise."""

    op: int
    rate_hz: int | None = None
    range_g: int | None = None
    from_index: int | None = None


@dataclass(frozen=True)
class Response:
    op: int
    status: int
    payload: bytes = b""

    @property
    def status_name(self) -> str:
        return Status(self.status).name if self.status in Status._value2member_map_ else f"UNKNOWN_STATUS_{self.status}"


@dataclass(frozen=True)
class Capabilities:
    """What a device offers: rates (Hz) and ranges (+-g) it accepts in START, and how long it buffers."""

    rates_hz: tuple[int, ...]
    ranges_g: tuple[int, ...]
    backlog_s: int
    """Seconds of samples kept for RESUME while the link is down (0: the device does not buffer)."""
    version: int = PROTOCOL_VERSION


def _parameters_of(request: Request) -> tuple:
    if request.op == OpCode.START:
        return request.rate_hz, request.range_g
    if request.op == OpCode.RESUME:
        return (request.from_index,)
    return ()


def encode_request(request: Request) -> bytes:
    if request.op not in REQUEST_PARAMETERS:
        return bytes([request.op])
    try:
        return bytes([request.op]) + REQUEST_PARAMETERS[OpCode(request.op)].pack(*_parameters_of(request))
    except struct.error as exc:
        raise DeviceError(f"retrorun {OpCode(request.op).name} request does not fit its fields: {exc}") from None


def decode_request(data: bytes) -> Request:
    """A request (what the device receives). An unknown op decodes with no parameters (the device answers
    UNKNOWN_OP); a known op of the wrong length is a FrameError (the device answers MALFORMED)."""
    data = bytes(data)
    if not data:
        raise FrameError("empty retrorun control-point request")
    op = data[0]
    if op not in REQUEST_PARAMETERS:
        return Request(op)
    layout = REQUEST_PARAMETERS[OpCode(op)]
    if len(data) != 1 + layout.size:
        raise FrameError(f"retrorun {OpCode(op).name} request of {len(data)} bytes; expected {1 + layout.size}")
    values = layout.unpack_from(data, 1)
    if op == OpCode.START:
        return Request(op, rate_hz=values[0], range_g=values[1])
    if op == OpCode.RESUME:
        return Request(op, from_index=values[0])
    return Request(op)


def get_capabilities_request() -> bytes:
    return encode_request(Request(OpCode.GET_CAPABILITIES))


def start_request(rate_hz: int, range_g: int) -> bytes:
    """START, e.g. 100 Hz at +-16 g: 02 64 00 10."""
    return encode_request(Request(OpCode.START, rate_hz=int(rate_hz), range_g=int(range_g)))


def stop_request() -> bytes:
    return encode_request(Request(OpCode.STOP))


def resume_request(from_index: int) -> bytes:
    return encode_request(Request(OpCode.RESUME, from_index=int(from_index)))


def encode_response(response: Response) -> bytes:
    return bytes([RESPONSE_CODE, response.op, response.status]) + bytes(response.payload)


def decode_response(data: bytes) -> Response:
    """A control-point response (0xF0 ...); FrameError when it is not one."""
    data = bytes(data)
    if len(data) < 3 or data[0] != RESPONSE_CODE:
        raise FrameError(f"not a retrorun control-point response: {data[:8].hex(' ') or 'empty'}")
    return Response(data[1], data[2], data[3:])


def encode_capabilities(capabilities: Capabilities) -> bytes:
    rates, ranges = capabilities.rates_hz, capabilities.ranges_g
    if len(rates) > 255 or len(ranges) > 255:
        raise DeviceError("a retrorun device lists at most 255 rates and 255 ranges")
    try:
        return (struct.pack("<BB", capabilities.version, len(rates)) + struct.pack(f"<{len(rates)}H", *rates)
                + struct.pack("<B", len(ranges)) + struct.pack(f"<{len(ranges)}B", *ranges)
                + struct.pack("<H", capabilities.backlog_s))
    except struct.error as exc:
        raise DeviceError(f"retrorun capabilities do not fit their fields: {exc}") from None


def decode_capabilities(payload: bytes) -> Capabilities:
    """The payload of a GET_CAPABILITIES response; FrameError when truncated or too long."""
    payload = bytes(payload)

    def need(end: int) -> None:
        if len(payload) < end:
            raise FrameError(f"retrorun capabilities truncated: {len(payload)} bytes, need {end}")

    need(2)
    version, n_rates = payload[0], payload[1]
    pos = 2 + 2 * n_rates
    need(pos + 1)
    rates = struct.unpack_from(f"<{n_rates}H", payload, 2)
    n_ranges = payload[pos]
    ranges = tuple(payload[pos + 1:pos + 1 + n_ranges])
    pos += 1 + n_ranges
    need(pos + 2)
    if len(payload) != pos + 2:
        raise FrameError(f"retrorun capabilities of {len(payload)} bytes; the lists say {pos + 2}")
    (backlog_s,) = struct.unpack_from("<H", payload, pos)
    return Capabilities(tuple(rates), ranges, backlog_s, version)


def check_response(response: Response) -> Response:
    """Raise ControlPointError naming the status unless `response` reports success."""
    if response.status != Status.SUCCESS:
        op = OpCode(response.op).name if response.op in OpCode._value2member_map_ else f"op {response.op}"
        raise ControlPointError(f"retrorun device refused {op}: {response.status_name} (code {response.status})",
                                status=response.status, status_name=response.status_name)
    return response


# --------------------------------------------------------------------------------------------- session and profile

class RetrorunSession(StreamSession):
    """One stream: capabilities + START on the first connection, RESUME from the next index after a reconnect."""

    def __init__(self, rate_hz: float, range_g: float):
        self.rate_hz, self.range_g = float(rate_hz), float(range_g)
        self.capabilities: Capabilities | None = None
        self.resume_index: int | None = None

    def resume_from(self, next_index: int) -> None:
        self.resume_index = int(next_index)

    def start_commands(self) -> list[Command]:
        if self.resume_index is not None:
            return [Command(resume_request(self.resume_index))]
        return [Command(get_capabilities_request()), Command(start_request(int(self.rate_hz), int(self.range_g)))]

    def stop_commands(self) -> list[Command]:
        return [Command(stop_request())]

    def on_control_message(self, data: bytes) -> None:
        response = decode_response(data)
        if response.op == OpCode.STOP and response.status == Status.NOT_STREAMING:
            return                                  # already stopped: what STOP wanted
        if response.op == OpCode.RESUME and response.status == Status.NOT_STREAMING:
            raise ControlPointError(
                f"the retrorun device has no stream to resume (stopped, or the app restarted); samples from "
                f"index {self.resume_index} on are lost: NOT_STREAMING (code {response.status})",
                status=response.status, status_name=response.status_name)
        check_response(response)
        if response.op == OpCode.GET_CAPABILITIES:
            self.capabilities = decode_capabilities(response.payload)
            self._check_offered(self.capabilities)

    def _check_offered(self, offered: Capabilities) -> None:
        """Refuse before START what the device says it cannot do (its list, not the profile's, is the truth)."""
        if int(self.rate_hz) not in offered.rates_hz:
            raise ControlPointError(f"the retrorun device offers {', '.join(map(str, offered.rates_hz))} Hz, not "
                                    f"{self.rate_hz:g}: UNSUPPORTED_RATE", status=Status.UNSUPPORTED_RATE,
                                    status_name=Status.UNSUPPORTED_RATE.name)
        if int(self.range_g) not in offered.ranges_g:
            raise ControlPointError(f"the retrorun device offers +-{', '.join(map(str, offered.ranges_g))} g, not "
                                    f"+-{self.range_g:g}: UNSUPPORTED_RANGE", status=Status.UNSUPPORTED_RANGE,
                                    status_name=Status.UNSUPPORTED_RANGE.name)

    def decode(self, data: bytes) -> AccBatch:
        frame = decode_frame(data)
        return AccBatch(acc_g=counts_to_g(frame.counts, self.range_g), first_index=frame.first_index)


RETRORUN_PHONE = DeviceProfile(
    key="retrorun-phone", family="retrorun-profile", service_uuid=RETRORUN_SERVICE_UUID,
    data_uuid=RETRORUN_DATA_UUID, control_uuid=RETRORUN_CONTROL_UUID, reply_uuid=RETRORUN_CONTROL_UUID,
    name_prefixes=(NAME_PREFIX,),
    rates_hz=(25.0, 26.0, 50.0, 52.0, 100.0, 104.0, 200.0, 208.0, 400.0, 416.0),
    ranges_g=(2.0, 4.0, 8.0, 16.0), default_rate_hz=100.0, default_range_g=16.0, open_session=RetrorunSession)
"""A phone or DIY board speaking the retrorun profile. The rates cover phones (25-200 Hz; Android caps at 200)
and common IMU output rates (26/52/104/208/416 Hz); the device's GET_CAPABILITIES says which it has."""

PROFILES = (RETRORUN_PHONE,)
