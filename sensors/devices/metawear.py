"""MbientLab MetaMotion (MetaMotionR/RL/S, MetaWear boards) with a BMI160: the MetaWear accelerometer stream.

Wire format (BLE.md part B.3, read from mbientlab/MetaWear-SDK-Cpp at f67699e: metawearboard.cpp:245-251 for
the UUIDs, accelerometer_bosch_register.h, accelerometer_bosch.cpp:66-69 for ranges and scales, and the
byte-exact expectations in test/test_accelerometer_bmi160.py; summarised in docs/ble.md). All integers
little-endian. Every function here is a pure function of bytes; malformed input raises FrameError.

Every message, both ways, is [module][register][data...] (commands at most 18 bytes, constant.h
MW_CMD_MAX_LENGTH; notifications up to 20); the accelerometer is module 0x03.
Commands are written *without response* (the last of a sequence with response, see `unanswered`) and the
board answers none of them. Streamed data carries no timestamp and no counter: the SDK stamps packets with the
host clock on arrival, and so does our client (AccBatch without first_index / last_timestamp_ns).

UNVERIFIED: the SDK reads the board's module info before it configures anything; we did not check that a
board accepts these raw commands without that initialisation. BMI270 boards (MetaMotionS) use other
configuration bytes and are not covered.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from ..errors import DeviceError
from .base import AccBatch, Command, DeviceProfile, FrameError, StreamSession

METAWEAR_SERVICE_UUID = "326a9000-85cb-9195-d9dd-464cfbbae75a"
METAWEAR_COMMAND_UUID = "326a9001-85cb-9195-d9dd-464cfbbae75a"
METAWEAR_NOTIFY_UUID = "326a9006-85cb-9195-d9dd-464cfbbae75a"

ACC_MODULE = 0x03


class AccRegister(IntEnum):
    POWER_MODE = 0x01          # 01 start, 00 stop
    DATA_INTERRUPT_ENABLE = 0x02   # 01 00 enable sampling, 00 01 disable
    DATA_CONFIG = 0x03         # acc_conf, acc_range
    DATA = 0x04                # one sample per notification; 01 subscribe, 00 unsubscribe
    PACKED_DATA = 0x1C         # three samples per notification; 01 subscribe, 00 unsubscribe


ODR_CODE_BY_RATE_HZ = {12.5: 0x5, 25.0: 0x6, 50.0: 0x7, 100.0: 0x8, 200.0: 0x9, 400.0: 0xA, 800.0: 0xB, 1600.0: 0xC}
"""BMI160 output data rate codes (the low nibble of acc_conf), per the SDK's test_set_odr."""
ACC_CONF_NORMAL = 0x20
"""acc_conf bits 4-6 = 2 (normal filter mode): the SDK sets 0x2_ for every rate from 12.5 Hz up."""
RANGE_CODE_BY_G = {2.0: 0x03, 4.0: 0x05, 8.0: 0x08, 16.0: 0x0C}
LSB_PER_G = {2.0: 16384.0, 4.0: 8192.0, 8.0: 4096.0, 16.0: 2048.0}
"""BMI160_FSR_SCALE: counts per g at each range."""

OFFERED_RATES_HZ = (25.0, 50.0, 100.0, 200.0, 400.0, 800.0)
"""Of the BMI160's 12.5-1600 Hz: 12.5 Hz is too coarse for step timing; 1600 Hz (533 notifications/s) is more
than a phone's BLE link reliably carries."""
DEFAULT_RANGE_G = 16.0
"""+-16 g by default: shank and foot impacts in running reach 10 g and more and must not clip; at 2048
counts per g the resolution (0.5 mg) is still far finer than step detection needs."""

SAMPLE = struct.Struct("<3h")
PACKED_SAMPLES = 3


# --------------------------------------------------------------------------------------------- commands

def message(register: int, *data: int) -> bytes:
    """An accelerometer-module message: 03 [register] [data...]."""
    return bytes([ACC_MODULE, register, *data])


def configure_command(rate_hz: float, range_g: float) -> bytes:
    """03 03 acc_conf acc_range, e.g. 03 03 28 03 = 100 Hz, +-2 g; 03 03 29 08 = 200 Hz, +-8 g."""
    if float(rate_hz) not in ODR_CODE_BY_RATE_HZ or float(range_g) not in RANGE_CODE_BY_G:
        raise DeviceError(f"the BMI160 has no {rate_hz:g} Hz / +-{range_g:g} g setting")
    return message(AccRegister.DATA_CONFIG, ACC_CONF_NORMAL | ODR_CODE_BY_RATE_HZ[float(rate_hz)],
                   RANGE_CODE_BY_G[float(range_g)])


def decode_configure(data: bytes) -> tuple[float, float]:
    """(rate Hz, range g) of a configure command (what the emulated board reads); FrameError otherwise."""
    data = bytes(data)
    if len(data) != 4 or data[:2] != bytes([ACC_MODULE, AccRegister.DATA_CONFIG]):
        raise FrameError(f"not a MetaWear accelerometer configuration: {data[:8].hex(' ') or 'empty'}")
    rates = {ACC_CONF_NORMAL | code: rate for rate, code in ODR_CODE_BY_RATE_HZ.items()}
    ranges = {code: g for g, code in RANGE_CODE_BY_G.items()}
    if data[2] not in rates or data[3] not in ranges:
        raise FrameError(f"unknown BMI160 acc_conf 0x{data[2]:02x} or acc_range 0x{data[3]:02x}")
    return rates[data[2]], ranges[data[3]]


ENABLE_SAMPLING = message(AccRegister.DATA_INTERRUPT_ENABLE, 0x01, 0x00)
DISABLE_SAMPLING = message(AccRegister.DATA_INTERRUPT_ENABLE, 0x00, 0x01)
SUBSCRIBE_PACKED = message(AccRegister.PACKED_DATA, 0x01)
UNSUBSCRIBE_PACKED = message(AccRegister.PACKED_DATA, 0x00)
SUBSCRIBE_SINGLE = message(AccRegister.DATA, 0x01)
UNSUBSCRIBE_SINGLE = message(AccRegister.DATA, 0x00)
START = message(AccRegister.POWER_MODE, 0x01)
STOP = message(AccRegister.POWER_MODE, 0x00)


# --------------------------------------------------------------------------------------------- data

@dataclass(frozen=True)
class AccNotification:
    """One accelerometer notification: `packed` (register 0x1C, three samples) or not (0x04, one);
    samples as the i16 counts on the wire (n, 3)."""

    packed: bool
    counts: np.ndarray = field(compare=False)

    def __eq__(self, other) -> bool:
        return (isinstance(other, AccNotification) and self.packed == other.packed
                and np.array_equal(self.counts, other.counts))


def decode_notification(data: bytes) -> AccNotification:
    """03 04 x y z (8 bytes) or 03 1C + 3 x (x y z) (20 bytes) -> counts; FrameError for anything else
    (including other modules' notifications, which share the characteristic)."""
    data = bytes(data)
    if len(data) < 2 or data[0] != ACC_MODULE:
        raise FrameError(f"not a MetaWear accelerometer notification: {data[:8].hex(' ') or 'empty'}")
    register = data[1]
    if register not in (AccRegister.DATA, AccRegister.PACKED_DATA):
        raise FrameError(f"MetaWear accelerometer register 0x{register:02x}; expected 0x04 or 0x1c (data)")
    packed = register == AccRegister.PACKED_DATA
    n = PACKED_SAMPLES if packed else 1
    if len(data) != 2 + n * SAMPLE.size:
        raise FrameError(f"MetaWear register 0x{register:02x} notification of {len(data)} bytes; "
                         f"expected {2 + n * SAMPLE.size}")
    counts = np.frombuffer(data, dtype="<i2", offset=2).reshape(n, 3).astype(np.int64)
    return AccNotification(packed, counts)


def encode_notification(notification: AccNotification) -> bytes:
    counts = np.asarray(notification.counts, dtype=np.int64).reshape(-1, 3)
    n = PACKED_SAMPLES if notification.packed else 1
    if len(counts) != n or counts.min() < -32768 or counts.max() > 32767:
        raise DeviceError(f"a {'packed' if notification.packed else 'single'} MetaWear notification carries "
                          f"{n} sample(s) of int16 counts")
    register = AccRegister.PACKED_DATA if notification.packed else AccRegister.DATA
    return bytes([ACC_MODULE, register]) + counts.astype("<i2").tobytes()


def counts_to_g(counts: np.ndarray, range_g: float) -> np.ndarray:
    return counts / LSB_PER_G[float(range_g)]


# --------------------------------------------------------------------------------------------- sessions and profiles

def unanswered(*data: bytes) -> list[Command]:
    """Commands the board never answers, written without response as the SDK does, except the last.

    The last is a write request: ATT serves it after the write commands queued before it, so its response
    proves the board has them all (the SDK writes macros with response: the characteristic takes both).
    Without it a client could disconnect right after STOP with the commands still queued, and leave the
    board sampling.
    """
    return [Command(d, expects_reply=False, with_response=k == len(data) - 1) for k, d in enumerate(data)]


class MetaWearAccSession(StreamSession):
    """The packed accelerometer stream (three samples per notification, the SDK's choice for high rates,
    and a third of the notifications at any rate), placed by the host clock."""

    def __init__(self, rate_hz: float, range_g: float):
        self.rate_hz, self.range_g = rate_hz, range_g
        self._configure = configure_command(rate_hz, range_g)

    def start_commands(self) -> list[Command]:
        """Configure, enable sampling, subscribe, start (BLE.md B.3)."""
        return unanswered(self._configure, ENABLE_SAMPLING, SUBSCRIBE_PACKED, START)

    def stop_commands(self) -> list[Command]:
        """The start commands undone in reverse order."""
        return unanswered(STOP, UNSUBSCRIBE_PACKED, DISABLE_SAMPLING)

    def on_control_message(self, data: bytes) -> None:
        """Never called in a correct session: no command expects a reply."""
        raise DeviceError(f"a MetaWear board answers no command; unexpected reply {bytes(data)[:8].hex(' ')}")

    def decode(self, data: bytes) -> AccBatch:
        return AccBatch(acc_g=counts_to_g(decode_notification(data).counts, self.range_g))


METAMOTION = DeviceProfile(
    key="metamotion", family="metawear", service_uuid=METAWEAR_SERVICE_UUID, data_uuid=METAWEAR_NOTIFY_UUID,
    control_uuid=METAWEAR_COMMAND_UUID, name_prefixes=("MetaWear", "MetaMotion"), rates_hz=OFFERED_RATES_HZ,
    ranges_g=tuple(RANGE_CODE_BY_G), default_rate_hz=100.0, default_range_g=DEFAULT_RANGE_G,
    open_session=MetaWearAccSession, host_clocked=True)

PROFILES = (METAMOTION,)
