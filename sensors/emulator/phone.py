"""An emulated phone (or DIY board) speaking the retrorun GATT profile (docs/ble-profile.md).

It answers the control point as the page specifies (capabilities, START, STOP, RESUME, every status code)
with indications, and notifies frames of `samples_per_frame` samples (8 by default: 4-10 is the profile's
advice) numbered by the device's sample index.

Like a phone app that keeps its foreground service running, it keeps sampling while the link is down; by
default it also buffers (`replay_backlog=True`, up to `backlog_s` seconds of device time): on RESUME it
resends from the index the client asks for, then goes on live, so the client loses nothing, not even frames
that were in flight when the link dropped. With `replay_backlog=False` it does not buffer: RESUME goes on
live and the samples of the outage are lost, the index jump telling the client exactly how many.

Where it simplifies: the recording is played once, so a second START keeps the device's clock (a real
device starts a new stream at index 0); the recorder sends START only before it holds any sample.
"""
from __future__ import annotations

import numpy as np
from bumble.gatt import Characteristic

from ..devices import retrorun_profile as rp
from ..devices.base import DeviceProfile, FrameError
from ..recording import Recording
from .backend import VirtualAir
from .wearable import EmulatedWearable

DEFAULT_SAMPLES_PER_FRAME = 8
DEFAULT_RATES_HZ = (25, 50, 100, 200)
"""An Android phone without HIGH_SAMPLING_RATE_SENSORS: at most 200 Hz (BLE.md B.6)."""
DEFAULT_RANGES_G = (2, 4, 8, 16)
DEFAULT_BACKLOG_S = 120


class EmulatedPhone(EmulatedWearable):
    """A retrorun-profile peripheral on the virtual air streaming a Recording."""

    resent_after_drop_frames = 0     # RESUME names the first sample the client lacks

    family = "retrorun-profile"

    def __init__(self, air: VirtualAir, profile: DeviceProfile, recording: Recording, *,
                 rates_hz: tuple[int, ...] = DEFAULT_RATES_HZ, ranges_g: tuple[int, ...] = DEFAULT_RANGES_G,
                 backlog_s: int = DEFAULT_BACKLOG_S, replay_backlog: bool = True, **kwargs):
        self.capabilities = rp.Capabilities(tuple(rates_hz), tuple(ranges_g), backlog_s if replay_backlog else 0)
        self.stream_open = False
        """START was accepted and no STOP since: the device samples (and buffers) whether or not a client listens."""
        self.connection_streams = False
        """START or RESUME was accepted on the current connection (set at once, before the stream task runs)."""
        self.requests: list[rp.Request] = []
        super().__init__(air, profile, recording, replay_backlog=replay_backlog, **kwargs)

    def default_samples_per_frame(self) -> int:
        return DEFAULT_SAMPLES_PER_FRAME

    def characteristics(self) -> list[Characteristic]:
        self._data = Characteristic(rp.RETRORUN_DATA_UUID, Characteristic.Properties.NOTIFY,
                                    Characteristic.READABLE, b"")
        self._control = Characteristic(rp.RETRORUN_CONTROL_UUID,
                                       Characteristic.Properties.WRITE | Characteristic.Properties.INDICATE,
                                       Characteristic.WRITEABLE, self.command_value())
        return [self._data, self._control]

    @property
    def data_characteristic(self) -> Characteristic:
        return self._data

    def _on_disconnection(self, reason: int) -> None:
        self.connection_streams = False
        super()._on_disconnection(reason)

    # ------------------------------------------------------------------ control point

    def on_command(self, value: bytes) -> None:
        response = self._answer(value)
        starts = response.op in (rp.OpCode.START, rp.OpCode.RESUME) and response.status == rp.Status.SUCCESS
        self.connection_streams = self.connection_streams or starts
        self.reply(self._control, rp.encode_response(response), indicate=True, then_start=starts)

    def _answer(self, value: bytes) -> rp.Response:
        try:
            request = rp.decode_request(value)
        except FrameError:
            self.malformed_commands += 1
            return rp.Response(value[0] if value else 0, rp.Status.MALFORMED)
        self.requests.append(request)
        handlers = {rp.OpCode.GET_CAPABILITIES: self._get_capabilities, rp.OpCode.START: self._start,
                    rp.OpCode.STOP: self._stop, rp.OpCode.RESUME: self._resume}
        handler = handlers.get(request.op)
        return handler(request) if handler else rp.Response(request.op, rp.Status.UNKNOWN_OP)

    def _get_capabilities(self, request: rp.Request) -> rp.Response:
        return rp.Response(request.op, rp.Status.SUCCESS, rp.encode_capabilities(self.capabilities))

    def _start(self, request: rp.Request) -> rp.Response:
        if self.connection_streams:
            return rp.Response(request.op, rp.Status.ALREADY_STREAMING)
        if request.rate_hz not in self.capabilities.rates_hz:
            return rp.Response(request.op, rp.Status.UNSUPPORTED_RATE)
        if request.range_g not in self.capabilities.ranges_g:
            return rp.Response(request.op, rp.Status.UNSUPPORTED_RANGE)
        self.configure(float(request.rate_hz), float(request.range_g))
        self.stream_open = True
        return rp.Response(request.op, rp.Status.SUCCESS)

    def _stop(self, request: rp.Request) -> rp.Response:
        if not self.stream_open:
            return rp.Response(request.op, rp.Status.NOT_STREAMING)
        self.stop_stream()
        self.stream_open = self.connection_streams = False
        return rp.Response(request.op, rp.Status.SUCCESS)

    def _resume(self, request: rp.Request) -> rp.Response:
        if self.connection_streams:
            return rp.Response(request.op, rp.Status.ALREADY_STREAMING)
        if not self.stream_open:
            return rp.Response(request.op, rp.Status.NOT_STREAMING)
        if request.from_index > self.due_position():        # an index this stream has not reached
            return rp.Response(request.op, rp.Status.INVALID_INDEX)
        if self.replay_backlog:
            self.seek(max(request.from_index, self.oldest_buffered()))
        return rp.Response(request.op, rp.Status.SUCCESS)

    def oldest_buffered(self) -> int:
        """The oldest sample index still in the backlog (older ones have been overwritten)."""
        return max(0, self.due_position() - int(self.capabilities.backlog_s * self.rate_hz))

    # ------------------------------------------------------------------ wire format

    def quantise(self, acc_g: np.ndarray) -> np.ndarray:
        return rp.g_to_counts(acc_g, self._range_g)

    def to_g(self, counts: np.ndarray) -> np.ndarray:
        return rp.counts_to_g(counts, self._range_g)

    def encode(self, first_index: int, counts: np.ndarray) -> bytes:
        return rp.encode_frame(rp.AccFrame(first_index, counts))
