"""An emulated Movesense running the GATT SensorData Protocol (GSP): a Bumble GATT server serving a Recording.

As the firmware sample does (GATTSensorDataClient.cpp, BLE.md B.2): HELLO is answered `01 ref "Hello"`;
SUBSCRIBE to /Meas/Acc/{rate} starts the stream without an answer (`ack_subscribe=True` answers it 200,
as some firmware is reported to); UNSUBSCRIBE stops it, unanswered; a disconnection unsubscribes
everything (the client must SUBSCRIBE again, and what fell due meanwhile is lost). Refusals are
COMMAND_RESULTs with an HTTP-like status, big-endian like the firmware's 507 (01 FB): 507 when its one
subscription slot is taken (as the firmware does), and, where the firmware would say nothing, 404 for a
resource it does not serve and 400 for a rate /Meas/Acc does not offer (so that tests see them).

Data: `02 ref [u32 ms of the first sample][N x f32 x, y, z m/s^2]`, the ms clock counting from `start_ms`
(its uptime when the recording starts). N is what we understand the sensor to batch, UNVERIFIED: about 13
packets a second (rate / 13: 1 at 13 Hz, 8 at 104 Hz), but no more than the firmware sample's message
buffer holds (MTU 161 - 3 = 158 bytes: 12 samples), so 12 from 208 Hz up. The range is the +-8 g the
sensor streams at by default.
"""
from __future__ import annotations

import numpy as np
from bumble.gatt import Characteristic

from ..devices import movesense as gsp
from ..devices.base import DeviceProfile, FrameError
from ..recording import Recording
from ..units import STANDARD_GRAVITY_MPS2
from .backend import VirtualAir
from .wearable import EmulatedWearable

DEFAULT_START_MS = 3_600_000
"""The sensor has been up for an hour when the recording starts."""
NOTIFICATIONS_PER_S = 13
"""Our understanding (unverified) of how the sensor batches /Meas/Acc: about 13 packets a second."""
MAX_NOTIFICATION_BYTES = 161 - 3
"""GATTSensorDataClient.cpp: "MTU is 161"; a notification carries at most MTU - 3 bytes."""
MAX_SAMPLES_PER_NOTIFICATION = (MAX_NOTIFICATION_BYTES - gsp.DATA_HEADER.size) // gsp.SAMPLE_BYTES


def samples_per_notification(rate_hz: float) -> int:
    """1 at 13 Hz, 8 at 104 Hz, 12 (the most a notification holds) from 208 Hz up."""
    return min(MAX_SAMPLES_PER_NOTIFICATION, max(1, round(rate_hz / NOTIFICATIONS_PER_S)))


class EmulatedMovesense(EmulatedWearable):
    """A Movesense on the virtual air speaking GSP, streaming `recording` once subscribed to /Meas/Acc/{rate}."""

    family = "movesense-gsp"

    def __init__(self, air: VirtualAir, profile: DeviceProfile, recording: Recording, *,
                 start_ms: int = DEFAULT_START_MS, ack_subscribe: bool = False, refuse_subscribe: int | None = None,
                 **kwargs):
        self.start_ms = start_ms
        self.ack_subscribe = ack_subscribe
        self.refuse_subscribe = refuse_subscribe
        """Answer every SUBSCRIBE with this status (a fault to inject, e.g. 507: no free subscription slot)."""
        self.fixed_samples_per_frame = kwargs.get("samples_per_frame")
        self.subscription_ref: int | None = None
        self._data_ref = gsp.ACC_REF
        super().__init__(air, profile, recording, **kwargs)

    def default_samples_per_frame(self) -> int:
        return samples_per_notification(self.profile.default_rate_hz)

    def characteristics(self) -> list[Characteristic]:
        self._command = Characteristic(gsp.GSP_COMMAND_UUID, Characteristic.Properties.WRITE,
                                       Characteristic.WRITEABLE, self.command_value())
        self._data = Characteristic(gsp.GSP_DATA_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b"")
        return [self._command, self._data]

    @property
    def data_characteristic(self) -> Characteristic:
        return self._data

    # ------------------------------------------------------------------ commands

    def on_command(self, value: bytes) -> None:
        try:
            command = gsp.decode_command(value)
        except FrameError:
            self.malformed_commands += 1     # the firmware has no answer for what it cannot parse
            return
        if command.code == gsp.CommandCode.HELLO:
            self._answer(gsp.CommandResult(command.ref, hello=True))
        elif command.code == gsp.CommandCode.SUBSCRIBE:
            self._subscribe(command)
        elif command.ref == self.subscription_ref:
            self.stop_stream()

    def _subscribe(self, command: gsp.GspCommand) -> None:
        rate = gsp.acc_rate_of(command.path)
        status = self._subscribe_status(rate)
        if status != 200:
            self._answer(gsp.CommandResult(command.ref, status))
            return
        self.configure(float(rate), gsp.STREAMED_RANGE_G)
        if self.fixed_samples_per_frame is None:
            self.samples_per_frame = samples_per_notification(rate)
        self.subscription_ref = self._data_ref = command.ref
        if self.ack_subscribe:
            self._answer(gsp.CommandResult(command.ref, 200), then_start=True)
        else:
            self.start_stream()

    def _subscribe_status(self, rate: int | None) -> int:
        if self.refuse_subscribe is not None:
            return self.refuse_subscribe
        if rate is None:
            return 404                        # NOT_FOUND: the emulator serves /Meas/Acc only
        if rate not in gsp.ACC_RATES_HZ:
            return 400                        # BAD_REQUEST: no such sample rate
        if self.subscription_ref is not None:
            return 507                        # INSUFFICIENT_STORAGE: no free subscription slot
        return 200

    def _answer(self, result: gsp.CommandResult, *, then_start: bool = False) -> None:
        self.reply(self._data, gsp.encode_result(result), then_start=then_start)

    def stop_stream(self) -> None:
        """Unsubscribing, a disconnection (the firmware's unsubscribeAllStreams) and a stall end the subscription."""
        self.subscription_ref = None
        super().stop_stream()

    # ------------------------------------------------------------------ wire format

    def quantise(self, acc_g: np.ndarray) -> np.ndarray:
        """m/s^2 as the float32 the wire carries."""
        return (acc_g * STANDARD_GRAVITY_MPS2).astype(np.float32).astype(np.float64)

    def to_g(self, counts: np.ndarray) -> np.ndarray:
        return gsp.mps2_to_g(counts)

    def timestamp_ms(self, index: int) -> int:
        """The sensor's ms clock at sample `index` (whole ms, wrapping at 2^32 like the u32 on the wire)."""
        return (self.start_ms + round(index * 1000.0 / self.rate_hz)) % gsp.MS_CLOCK_WRAP

    def encode(self, first_index: int, counts: np.ndarray) -> bytes:
        return gsp.encode_acc_frame(gsp.AccFrame(self._data_ref, self.timestamp_ms(first_index), counts))
