"""Running Speed and Cadence (RSC, Bluetooth SIG service 0x1814): the foot pods (Stryd, Polar Stride, Zwift
RunPod). They send derived values about once a second, never acceleration.

RSC Measurement 0x2A53 (BLE.md part B.5; summarised in docs/ble.md), little-endian::

    u8  flags: bit0 stride length present, bit1 total distance present, bit2 1 = running, 0 = walking
    u16 instantaneous speed, 1/256 m/s
    u8  instantaneous cadence, steps/min
    [u16 stride length, 1/100 m]     if bit0
    [u32 total distance, 1/10 m]     if bit1

The stream needs no command: subscribing to the measurement starts it. Flag bits 3-7 are reserved for
future use and bytes after the fields the flags announce are ignored (a later revision may append
fields); a frame shorter than its flags announce raises FrameError.
"""
from __future__ import annotations

import struct

from .base import CadenceReading, Command, DeviceProfile, FrameError, StreamSession

RSC_SERVICE_UUID = "00001814-0000-1000-8000-00805f9b34fb"
RSC_MEASUREMENT_UUID = "00002a53-0000-1000-8000-00805f9b34fb"

FLAG_STRIDE = 0x01
FLAG_DISTANCE = 0x02
FLAG_RUNNING = 0x04
HEAD = struct.Struct("<BHB")            # flags, speed (1/256 m/s), cadence (1/min)
STRIDE = struct.Struct("<H")            # 1/100 m
DISTANCE = struct.Struct("<I")          # 1/10 m
SPEED_SCALE = 256.0
STRIDE_SCALE = 100.0
DISTANCE_SCALE = 10.0
NOMINAL_RATE_HZ = 1.0


def decode_measurement(data: bytes) -> CadenceReading:
    """The reading one RSC Measurement notification carries; FrameError when it is truncated."""
    data = bytes(data)
    if len(data) < HEAD.size:
        raise FrameError(f"RSC measurement of {len(data)} bytes; at least {HEAD.size} expected")
    flags, speed, cadence = HEAD.unpack_from(data)
    expected = HEAD.size + STRIDE.size * bool(flags & FLAG_STRIDE) + DISTANCE.size * bool(flags & FLAG_DISTANCE)
    if len(data) < expected:
        raise FrameError(f"RSC measurement with flags 0x{flags:02x} of {len(data)} bytes; {expected} expected")
    pos, stride_m, distance_m = HEAD.size, None, None
    if flags & FLAG_STRIDE:
        stride_m = STRIDE.unpack_from(data, pos)[0] / STRIDE_SCALE
        pos += STRIDE.size
    if flags & FLAG_DISTANCE:
        distance_m = DISTANCE.unpack_from(data, pos)[0] / DISTANCE_SCALE
    return CadenceReading(cadence_spm=float(cadence), speed_mps=speed / SPEED_SCALE, stride_m=stride_m,
                          distance_m=distance_m, running=bool(flags & FLAG_RUNNING))


def encode_measurement(reading: CadenceReading) -> bytes:
    """The notification a pod sends for `reading` (values rounded to the wire's units); FrameError when a
    value does not fit its field."""
    flags = (FLAG_STRIDE * (reading.stride_m is not None) | FLAG_DISTANCE * (reading.distance_m is not None)
             | FLAG_RUNNING * bool(reading.running))
    out = HEAD.pack(flags, _wire(reading.speed_mps, SPEED_SCALE, 0xFFFF, "speed"),
                    _wire(reading.cadence_spm, 1.0, 0xFF, "cadence"))
    if reading.stride_m is not None:
        out += STRIDE.pack(_wire(reading.stride_m, STRIDE_SCALE, 0xFFFF, "stride length"))
    if reading.distance_m is not None:
        out += DISTANCE.pack(_wire(reading.distance_m, DISTANCE_SCALE, 0xFFFF_FFFF, "total distance"))
    return out


def _wire(value: float, scale: float, largest: int, what: str) -> int:
    counts = round(value * scale) if value == value else -1          # NaN never fits
    if not 0 <= counts <= largest:
        raise FrameError(f"RSC {what} {value!r} does not fit its field (0 to {largest / scale:g})")
    return counts


class RscSession(StreamSession):
    """An RSC stream: no commands (notifications start on subscription), one reading per notification."""

    def __init__(self, rate_hz: float, range_g: float):
        self.rate_hz, self.range_g = rate_hz, range_g

    def start_commands(self) -> list[Command]:
        return []

    def stop_commands(self) -> list[Command]:
        return []

    def on_control_message(self, data: bytes) -> None:
        """RSC has no control exchange the recorder uses (the SC Control Point is calibration only)."""

    def decode(self, data: bytes) -> CadenceReading:
        return decode_measurement(data)


FOOT_POD = DeviceProfile(
    key="rsc", family="rsc", service_uuid=RSC_SERVICE_UUID, data_uuid=RSC_MEASUREMENT_UUID, control_uuid=None,
    name_prefixes=("Stryd", "Polar Stride", "RunPod"), rates_hz=(NOMINAL_RATE_HZ,), ranges_g=(0.0,),
    default_rate_hz=NOMINAL_RATE_HZ, default_range_g=0.0, open_session=RscSession, streams_acceleration=False,
    host_clocked=True)
"""Any RSC foot pod. It measures no acceleration (range 0 g); readings are timed by their arrival."""

PROFILES = (FOOT_POD,)
