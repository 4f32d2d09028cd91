"""The shape every wearable family plugs into: a profile (what to look for, which characteristics) and a
stream session (the bytes to send, what the bytes received mean).

A family module (polar_pmd, later movesense, metawear, witmotion, the retrorun GATT profile) keeps its wire
format as pure functions of bytes and exposes one `DeviceProfile` per model. The BLE client and the
emulator only ever talk to these two types, so a new family is one new module and no edits elsewhere.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import DeviceError


I16_FULL_SCALE = 32768
"""A signed 16-bit accelerometer value spans +-32768 counts over +-range_g (Polar compressed, WitMotion, retrorun)."""


def i16_counts_to_g(counts: np.ndarray, range_g: float) -> np.ndarray:
    """Signed 16-bit counts at full scale +-`range_g` -> g (counts per g = 32768 / range_g)."""
    return np.asarray(counts, dtype=np.float64) * (float(range_g) / I16_FULL_SCALE)


def g_to_i16_counts(acc_g: np.ndarray, range_g: float) -> np.ndarray:
    """g -> the nearest signed 16-bit count at full scale +-`range_g`, clipped (+range_g itself reads 32767)."""
    counts = np.round(np.asarray(acc_g, dtype=np.float64) * (I16_FULL_SCALE / float(range_g)))
    return np.clip(counts, -I16_FULL_SCALE, I16_FULL_SCALE - 1).astype(np.int64)


class FrameError(DeviceError):
    """A notification that is not a valid frame of the device's format (truncated, unknown type, ...)."""


class ControlPointError(DeviceError):
    """The device refused a command: `status` is its error code, `status_name` what the protocol calls it."""

    def __init__(self, message: str, *, status: int, status_name: str):
        self.status = status
        self.status_name = status_name
        super().__init__(message)


@dataclass(frozen=True)
class AccBatch:
    """Samples decoded from one notification, in g, oldest first.

    `last_timestamp_ns` is the device clock at the last sample when the device sends one; `first_index`
    the device's sample counter of the first sample when it sends one. Either lets the client find gaps
    exactly; a batch with neither (MetaWear, WitMotion) is placed by the host's arrival clock.
    """

    acc_g: np.ndarray
    last_timestamp_ns: int | None = None
    first_index: int | None = None

    def __len__(self) -> int:
        return len(self.acc_g)


@dataclass(frozen=True)
class CadenceReading:
    """One derived reading of a profile that streams no acceleration (an RSC foot pod): steps per minute,
    speed in m/s, and where the device sends them, stride length in m, total distance in m and whether it
    calls the movement running (None: not stated)."""

    cadence_spm: float
    speed_mps: float
    stride_m: float | None = None
    distance_m: float | None = None
    running: bool | None = None


@dataclass(frozen=True)
class Command:
    """One write to the device's command characteristic.

    `expects_reply`: the device answers it (on the profile's reply characteristic) and the client waits for
    that answer; `with_response`: a GATT write request rather than a write command; `settle_s`: how long to
    leave the device before the next command when it sends no answer (WitMotion needs ~0.1 s after unlock).
    """

    data: bytes
    expects_reply: bool = True
    with_response: bool = True
    settle_s: float = 0.0


class StreamSession(ABC):
    """One configured stream: knows the commands to start and stop it and decodes its notifications.

    Stateful where the protocol is (a Polar start response carries the scale factor of later frames).
    """

    rate_hz: float
    range_g: float

    @abstractmethod
    def start_commands(self) -> list[Command]:
        """Writes that configure and start the stream, in order."""

    @abstractmethod
    def stop_commands(self) -> list[Command]:
        """Writes that stop the stream."""

    def resume_from(self, next_index: int) -> None:
        """Called before start_commands() on a reconnection: the client holds every sample before `next_index`.

        A device that buffers while the link is down and numbers its samples (the retrorun profile) can then
        resend exactly what the client lacks, so notifications lost in flight are recovered too. Default: ignored.
        """

    def is_reply(self, data: bytes) -> bool:
        """True when a notification on the data characteristic is a command reply, not samples (Movesense)."""
        return False

    @abstractmethod
    def on_control_message(self, data: bytes) -> None:
        """Digest a control-point response or indication; raise ControlPointError on a refusal."""

    @abstractmethod
    def decode(self, data: bytes) -> AccBatch | CadenceReading:
        """Decode one data notification (samples, or a reading when the profile streams no acceleration);
        raise FrameError when it is malformed."""


@dataclass(frozen=True)
class DeviceProfile:
    """A supported model: how to recognise it and which GATT characteristics carry its stream."""

    key: str
    """Stable identifier used on the command line (`--profile`, `--emulate`), e.g. `polar-h10`."""
    family: str
    service_uuid: str
    data_uuid: str
    control_uuid: str | None
    """Where commands are written (None: the stream needs no command, e.g. RSC)."""
    name_prefixes: tuple[str, ...]
    rates_hz: tuple[float, ...]
    ranges_g: tuple[float, ...]
    default_rate_hz: float
    default_range_g: float
    open_session: Callable[[float, float], StreamSession] = field(repr=False, compare=False)
    reply_uuid: str | None = None
    """Where the device answers commands when that is not the data characteristic (Polar: its control point)."""
    extra_service_uuids: tuple[str, ...] = ()
    """Other services whose advertisement identifies the model (e.g. RSC's 0x1814 on a foot pod)."""
    streams_acceleration: bool = True
    """False for a profile that delivers derived values only (RSC foot pods: cadence and speed)."""
    host_clocked: bool = False
    """Its frames carry neither a sample counter nor a timestamp: samples are placed by the host's arrival
    clock, so a gap is known within one frame, and a replayed backlog cannot be told from new samples."""

    def matches(self, advertised_name: str | None, service_uuids: list[str] = ()) -> bool:
        """True when an advertisement looks like this model (name prefix, or its service)."""
        if advertised_name and any(advertised_name.startswith(p) for p in self.name_prefixes):
            return True
        advertised = {u.lower() for u in service_uuids}
        return any(u.lower() in advertised for u in (self.service_uuid, *self.extra_service_uuids))

    def session(self, rate_hz: float | None = None, range_g: float | None = None) -> StreamSession:
        """A stream session at a supported rate and range (the defaults when not given)."""
        rate_hz = self.default_rate_hz if rate_hz is None else float(rate_hz)
        range_g = self.default_range_g if range_g is None else float(range_g)
        if rate_hz not in self.rates_hz:
            raise DeviceError(f"{self.key} cannot sample at {rate_hz:g} Hz; supported: "
                              + ", ".join(f"{r:g}" for r in self.rates_hz))
        if range_g not in self.ranges_g:
            raise DeviceError(f"{self.key} has no +-{range_g:g} g range; supported: "
                              + ", ".join(f"{r:g}" for r in self.ranges_g))
        return self.open_session(rate_hz, range_g)
