"""Polar Measurement Data (PMD): the accelerometer stream of the Polar H10, Verity Sense and OH1.

Wire format (BLE.md part B.1, from polarofficial/polar-ble-sdk; summarised in docs/ble.md). All integers
little-endian. Every function here is a pure function of bytes; malformed input raises FrameError (data)
or DeviceError/ControlPointError (control point), never anything else.

Data notification: measurement type u8 (& 0x3F) | timestamp u64 (ns since 2000-01-01, of the LAST sample)
| frame type u8 (bit 7 = delta-compressed, bits 0-6 = type) | payload.
Raw payload: x, y, z repeated, signed ints of 1, 2 or 3 bytes (frame type 0, 1, 2).
Compressed payload: a reference sample (3 x i16), then blocks [width u8][count u8] + count x 3 deltas of
`width` bits each, packed LSB first, channel-interleaved, two's complement; sample[n] = sample[n-1] + delta.

Control point: requests [op][measurement type][TLV settings...]; responses
0xF0 [op][measurement type][status][more][TLV parameters...]; a settings TLV is [type][count][values...].
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from ..errors import DeviceError
from .base import AccBatch, Command, ControlPointError, DeviceProfile, FrameError, StreamSession

PMD_SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
PMD_CONTROL_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
PMD_DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

VERITY_ONLINE_MAX_HZ = 52.0
"""A Verity Sense streams ACC faster than this only in SDK mode (PolarVeritySense.md)."""

PMD_EPOCH_UNIX_NS = 946_684_800_000_000_000
"""Polar time counts from 2000-01-01T00:00:00Z; add this to get Unix time in ns."""

DATA_HEADER = struct.Struct("<BQB")          # measurement type, timestamp ns, frame type
RESPONSE_CODE = 0xF0
FEATURES_CODE = 0x0F
COMPRESSED_BIT = 0x80
ACC_CHANNELS = 3
MAX_DELTA_WIDTH_BITS = 32


class MeasurementType(IntEnum):
    ECG = 0
    PPG = 1
    ACC = 2
    PPI = 3
    GYRO = 5
    MAG = 6
    SKIN_TEMP = 7
    SDK_MODE = 9
    LOCATION = 10
    PRESSURE = 11
    TEMPERATURE = 12
    OFFLINE_REC = 13
    OFFLINE_HR = 14


class OpCode(IntEnum):
    GET_SETTINGS = 1
    START = 2
    STOP = 3
    GET_SDK_MODE_SETTINGS = 4
    GET_MEASUREMENT_STATUS = 5


class SettingType(IntEnum):
    SAMPLE_RATE = 0
    RESOLUTION = 1
    RANGE = 2
    RANGE_MILLIUNIT = 3
    CHANNELS = 4
    FACTOR = 5
    SECURITY = 6


class Status(IntEnum):
    SUCCESS = 0
    INVALID_OP_CODE = 1
    INVALID_MEASUREMENT_TYPE = 2
    NOT_SUPPORTED = 3
    INVALID_LENGTH = 4
    INVALID_PARAMETER = 5
    ALREADY_IN_STATE = 6
    INVALID_RESOLUTION = 7
    INVALID_SAMPLE_RATE = 8
    INVALID_RANGE = 9
    INVALID_MTU = 10
    INVALID_NUMBER_OF_CHANNELS = 11
    INVALID_STATE = 12
    DEVICE_IN_CHARGER = 13
    DISK_FULL = 14


SETTING_FORMATS = {SettingType.SAMPLE_RATE: "<H", SettingType.RESOLUTION: "<H", SettingType.RANGE: "<H",
                   SettingType.RANGE_MILLIUNIT: "<I", SettingType.CHANNELS: "<B", SettingType.FACTOR: "<f",
                   SettingType.SECURITY: "<16s"}
"""Size and type of one value of each setting (PmdSetting.kt, typeToFieldSize)."""

Settings = dict[SettingType, tuple]
"""Setting type -> its values (one when requesting or reporting, several when listing what is available)."""


# --------------------------------------------------------------------------------------------- data frames

@dataclass(frozen=True)
class PmdFrame:
    """One PMD data notification, samples as the integers on the wire (n, 3)."""

    measurement_type: int
    timestamp_ns: int
    frame_type: int
    compressed: bool
    samples: np.ndarray = field(compare=False)

    def __eq__(self, other) -> bool:
        return (isinstance(other, PmdFrame) and (self.measurement_type, self.timestamp_ns, self.frame_type,
                self.compressed) == (other.measurement_type, other.timestamp_ns, other.frame_type, other.compressed)
                and np.array_equal(self.samples, other.samples))


def raw_value_bytes(frame_type: int) -> int:
    """Bytes per axis value of a raw ACC frame type (0: i8, 1: i16, 2: i24)."""
    if frame_type not in (0, 1, 2):
        raise FrameError(f"unknown PMD ACC frame type {frame_type}; expected 0, 1 or 2 (or 0x80/0x81 compressed)")
    return frame_type + 1


def decode_frame(data: bytes) -> PmdFrame:
    """Decode one PMD ACC data notification into integer samples."""
    data = bytes(data)
    if len(data) < DATA_HEADER.size:
        raise FrameError(f"PMD frame too short: {len(data)} bytes, expected at least {DATA_HEADER.size}")
    mtype, timestamp_ns, frame_byte = DATA_HEADER.unpack_from(data)
    mtype &= 0x3F
    if mtype != MeasurementType.ACC:
        raise FrameError(f"PMD frame of measurement type {mtype}; expected {int(MeasurementType.ACC)} (ACC)")
    compressed, frame_type = bool(frame_byte & COMPRESSED_BIT), frame_byte & 0x7F
    payload = data[DATA_HEADER.size:]
    if compressed:
        if frame_type not in (0, 1):
            raise FrameError(f"unknown compressed PMD ACC frame type {frame_type}; expected 0 or 1")
        samples = decode_delta_payload(payload)
    else:
        samples = decode_raw_payload(payload, raw_value_bytes(frame_type))
    return PmdFrame(mtype, timestamp_ns, frame_type, compressed, samples)


def decode_raw_payload(payload: bytes, value_bytes: int) -> np.ndarray:
    """x, y, z signed little-endian integers of `value_bytes` each -> (n, 3) int64."""
    sample_bytes = value_bytes * ACC_CHANNELS
    if not payload or len(payload) % sample_bytes:
        raise FrameError(f"raw PMD ACC payload of {len(payload)} bytes; expected a non-zero multiple of {sample_bytes}")
    if value_bytes in (1, 2):
        values = np.frombuffer(payload, dtype="<i1" if value_bytes == 1 else "<i2").astype(np.int64)
    else:
        b = np.frombuffer(payload, dtype=np.uint8).reshape(-1, 3).astype(np.int64)
        values = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        values = np.where(values >= 1 << 23, values - (1 << 24), values)
    return values.reshape(-1, ACC_CHANNELS)


def decode_delta_payload(payload: bytes) -> np.ndarray:
    """A reference sample (3 x i16) then bit-packed delta blocks -> (n, 3) int64."""
    ref_bytes = 2 * ACC_CHANNELS
    if len(payload) < ref_bytes:
        raise FrameError(f"compressed PMD ACC payload of {len(payload)} bytes; the reference sample needs {ref_bytes}")
    rows = [list(struct.unpack_from("<3h", payload))]
    pos = ref_bytes
    while pos < len(payload):
        if pos + 2 > len(payload):
            raise FrameError("compressed PMD ACC payload ends inside a block header")
        width, count = payload[pos], payload[pos + 1]
        if not 1 <= width <= MAX_DELTA_WIDTH_BITS or count == 0:
            raise FrameError(f"compressed PMD ACC block with width {width} bits and {count} samples; "
                             f"expected width 1-{MAX_DELTA_WIDTH_BITS} and at least one sample")
        nbytes = (width * count * ACC_CHANNELS + 7) // 8
        block = payload[pos + 2:pos + 2 + nbytes]
        if len(block) < nbytes:
            raise FrameError(f"compressed PMD ACC block truncated: {len(block)} of {nbytes} bytes")
        rows.extend(_accumulate(rows[-1], unpack_deltas(block, width, count * ACC_CHANNELS)))
        pos += 2 + nbytes
    return np.array(rows, dtype=np.int64)


def unpack_deltas(block: bytes, width_bits: int, n_values: int) -> list[int]:
    """`n_values` two's-complement integers of `width_bits` each, packed LSB first."""
    bits = int.from_bytes(block, "little")
    mask, sign = (1 << width_bits) - 1, 1 << (width_bits - 1)
    out = []
    for k in range(n_values):
        v = (bits >> (k * width_bits)) & mask
        out.append(v - (1 << width_bits) if v & sign else v)
    return out


def _accumulate(previous: list[int], deltas: list[int]) -> list[list[int]]:
    rows = []
    for k in range(0, len(deltas), ACC_CHANNELS):
        previous = [p + d for p, d in zip(previous, deltas[k:k + ACC_CHANNELS])]
        rows.append(previous)
    return rows


def encode_frame(frame: PmdFrame, *, block_samples: int = 32) -> bytes:
    """The notification bytes of a frame (compressed frames in delta blocks of `block_samples`)."""
    samples = np.asarray(frame.samples, dtype=np.int64).reshape(-1, ACC_CHANNELS)
    frame_byte = frame.frame_type | (COMPRESSED_BIT if frame.compressed else 0)
    head = DATA_HEADER.pack(frame.measurement_type, frame.timestamp_ns, frame_byte)
    if frame.compressed:
        return head + encode_delta_payload(samples, block_samples=block_samples)
    return head + encode_raw_payload(samples, raw_value_bytes(frame.frame_type))


def encode_raw_payload(samples: np.ndarray, value_bytes: int) -> bytes:
    """(n, 3) integers -> x, y, z signed little-endian integers of `value_bytes` each."""
    limit = 1 << (8 * value_bytes - 1)
    if samples.size == 0 or samples.min() < -limit or samples.max() >= limit:
        raise DeviceError(f"samples do not fit {8 * value_bytes}-bit raw PMD values (or there are none)")
    if value_bytes in (1, 2):
        return samples.astype("<i1" if value_bytes == 1 else "<i2").tobytes()
    return b"".join(int(v).to_bytes(3, "little", signed=True) for v in samples.reshape(-1))


def encode_delta_payload(samples: np.ndarray, *, block_samples: int = 32) -> bytes:
    """Reference sample plus blocks of at most `block_samples` (<= 255) deltas, each at its minimum width."""
    if len(samples) == 0 or samples[0].min() < -32768 or samples[0].max() > 32767:
        raise DeviceError("the reference sample of a compressed PMD frame must fit int16 (and exist)")
    out = [struct.pack("<3h", *(int(v) for v in samples[0]))]
    deltas = np.diff(samples, axis=0)
    for start in range(0, len(deltas), min(block_samples, 255)):
        block = deltas[start:start + min(block_samples, 255)]
        width = delta_width_bits(block)
        out.append(bytes([width, len(block)]) + pack_deltas(block.reshape(-1), width))
    return b"".join(out)


def delta_width_bits(deltas: np.ndarray) -> int:
    """The fewest two's-complement bits that hold every delta (at least 1)."""
    lo, hi = int(deltas.min()), int(deltas.max())
    width = max(1, max(hi.bit_length(), (-lo - 1).bit_length()) + 1)
    if width > MAX_DELTA_WIDTH_BITS:
        raise DeviceError(f"a delta needs {width} bits; PMD allows {MAX_DELTA_WIDTH_BITS}")
    return width


def pack_deltas(values: np.ndarray, width_bits: int) -> bytes:
    mask, bits = (1 << width_bits) - 1, 0
    for k, v in enumerate(values):
        bits |= (int(v) & mask) << (k * width_bits)
    return bits.to_bytes((width_bits * len(values) + 7) // 8, "little")


def sample_times_ns(last_timestamp_ns: int, n_samples: int, previous_timestamp_ns: int | None,
                    rate_hz: float) -> np.ndarray:
    """Per-sample device times: spread since the previous frame, or at the nominal rate for the first frame."""
    if previous_timestamp_ns is not None and last_timestamp_ns > previous_timestamp_ns:
        step_ns = (last_timestamp_ns - previous_timestamp_ns) / n_samples
    else:
        step_ns = 1e9 / rate_hz
    return last_timestamp_ns - step_ns * np.arange(n_samples - 1, -1, -1)


def counts_to_g(frame: PmdFrame, factor: float | None, *, raw_type0_in_g: bool = False) -> np.ndarray:
    """Wire integers -> g. Raw frames are mG (type 0 is G on the Verity Sense); compressed frames carry
    `factor` (from the start response): type 0 is G x factor, type 1 mG x factor."""
    counts = frame.samples.astype(np.float64)
    if frame.compressed:
        scale = 1.0 if factor is None else float(factor)
        return counts * scale if frame.frame_type == 0 else counts * scale / 1000.0
    if frame.frame_type == 0 and raw_type0_in_g:
        return counts
    return counts / 1000.0


# --------------------------------------------------------------------------------------------- control point

@dataclass(frozen=True)
class ControlRequest:
    op: int
    measurement_type: int
    settings: Settings = field(default_factory=dict)


@dataclass(frozen=True)
class ControlResponse:
    op: int
    measurement_type: int
    status: int
    more: bool = False
    parameters: Settings = field(default_factory=dict)

    @property
    def status_name(self) -> str:
        return Status(self.status).name if self.status in Status._value2member_map_ else f"UNKNOWN_{self.status}"


def encode_settings(settings: Settings) -> bytes:
    out = []
    for kind, values in settings.items():
        fmt = SETTING_FORMATS[SettingType(kind)]
        out.append(bytes([int(kind), len(values)]) + b"".join(struct.pack(fmt, v) for v in values))
    return b"".join(out)


def decode_settings(data: bytes) -> Settings:
    """TLV settings -> {type: values}; FrameError on an unknown type or a truncated value."""
    settings: Settings = {}
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise FrameError("PMD settings end inside a setting header")
        kind, count = data[pos], data[pos + 1]
        if kind not in SettingType._value2member_map_:
            raise FrameError(f"unknown PMD setting type {kind}")
        fmt = struct.Struct(SETTING_FORMATS[SettingType(kind)])
        end = pos + 2 + fmt.size * count
        if end > len(data):
            raise FrameError(f"PMD setting {SettingType(kind).name} truncated")
        settings[SettingType(kind)] = tuple(fmt.unpack_from(data, pos + 2 + k * fmt.size)[0] for k in range(count))
        pos = end
    return settings


def encode_request(request: ControlRequest) -> bytes:
    return bytes([request.op, request.measurement_type]) + encode_settings(request.settings)


def decode_request(data: bytes) -> ControlRequest:
    data = bytes(data)
    if len(data) < 2:
        raise FrameError(f"PMD control request of {len(data)} bytes; expected at least 2")
    return ControlRequest(data[0], data[1] & 0x3F, decode_settings(data[2:]))


def get_settings_request(mtype: int = MeasurementType.ACC) -> bytes:
    return encode_request(ControlRequest(OpCode.GET_SETTINGS, mtype))


def start_acc_request(rate_hz: int, range_g: int, resolution_bits: int = 16) -> bytes:
    """Start ACC: e.g. 200 Hz, 16 bit, +-8 g is 02 02 00 01 C8 00 01 01 10 00 02 01 08 00."""
    return encode_request(ControlRequest(OpCode.START, MeasurementType.ACC, {
        SettingType.SAMPLE_RATE: (int(rate_hz),), SettingType.RESOLUTION: (int(resolution_bits),),
        SettingType.RANGE: (int(range_g),)}))


def stop_request(mtype: int = MeasurementType.ACC) -> bytes:
    return encode_request(ControlRequest(OpCode.STOP, mtype))


def sdk_mode_request(op: int = OpCode.START) -> bytes:
    """Enter (op START) or leave (op STOP) SDK mode: a Verity Sense streams ACC above 52 Hz only in it."""
    return encode_request(ControlRequest(op, MeasurementType.SDK_MODE))


def encode_response(response: ControlResponse) -> bytes:
    return bytes([RESPONSE_CODE, response.op, response.measurement_type, response.status,
                  int(response.more)]) + encode_settings(response.parameters)


def decode_response(data: bytes) -> ControlResponse:
    """Decode a control-point response (0xF0 ...); FrameError when it is not one."""
    data = bytes(data)
    if len(data) < 4 or data[0] != RESPONSE_CODE:
        raise FrameError(f"not a PMD control-point response: {data[:8].hex(' ') or 'empty'}")
    more = bool(data[4]) if len(data) > 4 else False
    return ControlResponse(data[1], data[2] & 0x3F, data[3], more, decode_settings(data[5:]))


def check_response(response: ControlResponse, op: int) -> ControlResponse:
    """Raise ControlPointError unless `response` reports success for `op`."""
    if response.op != op:
        raise DeviceError(f"PMD response to op {response.op}; expected a response to op {op}")
    if response.status != Status.SUCCESS:
        raise ControlPointError(f"Polar device refused {OpCode(op).name if op in OpCode._value2member_map_ else op}: "
                                f"{response.status_name} (code {response.status})",
                                status=response.status, status_name=response.status_name)
    return response


def encode_features(types: set[int]) -> bytes:
    """The control point's read value: 0x0F then a bitmask of supported measurement types."""
    mask = sum(1 << int(t) for t in types)
    return bytes([FEATURES_CODE]) + mask.to_bytes(2, "little")


def decode_features(data: bytes) -> frozenset[int]:
    data = bytes(data)
    if len(data) < 2 or data[0] != FEATURES_CODE:
        raise FrameError(f"not a PMD features value: {data[:8].hex(' ') or 'empty'}")
    mask = int.from_bytes(data[1:3], "little")
    return frozenset(t for t in range(16) if mask >> t & 1)


# --------------------------------------------------------------------------------------------- sessions and profiles

LENIENT_STATUSES = (Status.SUCCESS, Status.ALREADY_IN_STATE, Status.INVALID_STATE)
"""A stop (or SDK-mode switch) that finds the device already there is fine."""


class PmdAccSession(StreamSession):
    """A PMD ACC stream: start/stop requests, the scale factor from the start response, frame decoding.

    Every start first stops ACC (leniently): after a link loss the device may not have noticed and still be
    streaming, and a start would then be refused with ALREADY_IN_STATE (polar-ble-sdk issue #403: PMD must be
    re-armed after a reconnect). Rates above `sdk_mode_above_hz` enter SDK mode first (Verity Sense).
    """

    def __init__(self, rate_hz: float, range_g: float, *, raw_type0_in_g: bool = False,
                 sdk_mode_above_hz: float | None = None):
        self.rate_hz, self.range_g = rate_hz, range_g
        self.factor: float | None = None
        self.started = False
        self.raw_type0_in_g = raw_type0_in_g
        self.sdk_mode = sdk_mode_above_hz is not None and rate_hz > sdk_mode_above_hz

    def start_commands(self) -> list[Command]:
        sdk = [Command(sdk_mode_request(OpCode.START))] if self.sdk_mode else []
        return sdk + [Command(get_settings_request()), Command(stop_request()),
                      Command(start_acc_request(int(self.rate_hz), int(self.range_g)))]

    def stop_commands(self) -> list[Command]:
        sdk = [Command(sdk_mode_request(OpCode.STOP))] if self.sdk_mode else []
        return [Command(stop_request())] + sdk

    def on_control_message(self, data: bytes) -> None:
        response = decode_response(data)
        if response.measurement_type == MeasurementType.SDK_MODE or response.op == OpCode.STOP:
            if response.status not in LENIENT_STATUSES:
                check_response(response, response.op)
        elif response.op == OpCode.START:
            check_response(response, OpCode.START)
            factors = response.parameters.get(SettingType.FACTOR)
            self.factor = float(factors[0]) if factors else None
            self.started = True
        elif response.op == OpCode.GET_SETTINGS:
            check_response(response, OpCode.GET_SETTINGS)
            self._check_offered(response.parameters)
        elif response.status not in LENIENT_STATUSES:
            check_response(response, response.op)

    def _check_offered(self, offered: Settings) -> None:
        rates = offered.get(SettingType.SAMPLE_RATE)
        if rates and int(self.rate_hz) not in rates:
            raise ControlPointError(f"the device offers ACC at {', '.join(map(str, rates))} Hz, not {self.rate_hz:g}",
                                    status=Status.INVALID_SAMPLE_RATE, status_name="INVALID_SAMPLE_RATE")

    def decode(self, data: bytes) -> AccBatch:
        frame = decode_frame(data)
        acc_g = counts_to_g(frame, self.factor, raw_type0_in_g=self.raw_type0_in_g)
        return AccBatch(acc_g=acc_g, last_timestamp_ns=frame.timestamp_ns)


def _profile(key: str, prefixes: tuple[str, ...], rates_hz, ranges_g, rate_hz, range_g, type0_in_g: bool,
             sdk_mode_above_hz: float | None = None):
    return DeviceProfile(key=key, family="polar-pmd", service_uuid=PMD_SERVICE_UUID, data_uuid=PMD_DATA_UUID,
                         control_uuid=PMD_CONTROL_UUID, reply_uuid=PMD_CONTROL_UUID, name_prefixes=prefixes,
                         rates_hz=rates_hz, ranges_g=ranges_g, default_rate_hz=rate_hz, default_range_g=range_g,
                         open_session=lambda r, g: PmdAccSession(r, g, raw_type0_in_g=type0_in_g,
                                                                 sdk_mode_above_hz=sdk_mode_above_hz))


POLAR_H10 = _profile("polar-h10", ("Polar H10",), (25.0, 50.0, 100.0, 200.0), (2.0, 4.0, 8.0), 200.0, 8.0, False)
"""H10: raw 16-bit frames in mG (PolarH10.md)."""
POLAR_VERITY_SENSE = _profile("verity-sense", ("Polar Sense", "Polar Verity"), (26.0, 52.0, 104.0, 208.0, 416.0),
                              (2.0, 4.0, 8.0, 16.0), 52.0, 8.0, True, sdk_mode_above_hz=VERITY_ONLINE_MAX_HZ)
"""Verity Sense: delta-compressed frames x factor; online rates above 52 Hz need SDK mode (PolarVeritySense.md)."""
POLAR_OH1 = _profile("polar-oh1", ("Polar OH1",), (26.0, 52.0), (8.0,), 52.0, 8.0, True)

PROFILES = (POLAR_H10, POLAR_VERITY_SENSE, POLAR_OH1)
