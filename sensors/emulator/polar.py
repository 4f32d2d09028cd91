"""An emulated Polar H10 / Verity Sense / OH1: a Bumble GATT server speaking PMD, serving a Recording.

The device answers the PMD control point (features read, settings query, start, stop, with real error
codes), and once started notifies ACC frames in the model's own format (H10: raw 16-bit mG; Verity Sense
and OH1: delta-compressed with a scale factor) at the requested rate, times `speed` (10 = ten times real
time, so tests stay short). Its clock runs from the first start: after a link drop, the samples that fell
due while the link was down are lost (a real Polar stops measuring on disconnect), and on restart it
resumes at its current time, so the client sees a timestamp jump of exactly the outage.

Every sample it notifies is kept in `sent` (sample index -> acceleration in g as quantised on the wire), so
tests compare what was received with what was sent, sample for sample. The rest (clock, streaming, faults)
is wearable.py's.
"""
from __future__ import annotations

import struct

import numpy as np
from bumble.device import Connection
from bumble.gatt import Characteristic, CharacteristicValue

from ..devices import polar_pmd as pmd
from ..devices.base import DeviceProfile, FrameError
from ..recording import Recording
from .backend import VirtualAir
from .wearable import EmulatedWearable

DEFAULT_SAMPLES_PER_FRAME = 36
"""An H10 at 200 Hz sends about this many samples per notification at an MTU of 247."""
DEFAULT_START_TIMESTAMP_NS = 820_454_400_000_000_000
"""2026-01-01T00:00:00Z on the PMD clock (ns since 2000-01-01)."""
DELTA_FRAME_PROFILES = ("verity-sense", "polar-oh1")


def float32(value: float) -> float:
    """`value` as the float32 the wire carries."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


class EmulatedPolar(EmulatedWearable):
    """A Polar PMD wearable on the virtual air: H10 raw mG frames, Verity Sense / OH1 delta-compressed frames."""

    family = "polar-pmd"

    def __init__(self, air: VirtualAir, profile: DeviceProfile, recording: Recording, *,
                 start_timestamp_ns: int = DEFAULT_START_TIMESTAMP_NS, refuse_start: pmd.Status | None = None,
                 **kwargs):
        self.delta_frames = profile.key in DELTA_FRAME_PROFILES
        self.sdk_mode_above_hz = pmd.VERITY_ONLINE_MAX_HZ if profile.key == "verity-sense" else None
        self.sdk_mode = False
        self.start_timestamp_ns = start_timestamp_ns
        self.refuse_start = refuse_start
        self._factor: float | None = None
        super().__init__(air, profile, recording, **kwargs)

    def default_samples_per_frame(self) -> int:
        return DEFAULT_SAMPLES_PER_FRAME

    def characteristics(self) -> list[Characteristic]:
        self._control = Characteristic(
            pmd.PMD_CONTROL_UUID,
            Characteristic.Properties.READ | Characteristic.Properties.WRITE | Characteristic.Properties.INDICATE,
            Characteristic.READABLE | Characteristic.WRITEABLE,
            CharacteristicValue(read=self._read_features, write=self.on_write))
        self._data = Characteristic(pmd.PMD_DATA_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b"")
        return [self._control, self._data]

    @property
    def data_characteristic(self) -> Characteristic:
        return self._data

    # ------------------------------------------------------------------ control point

    def on_disconnected(self) -> None:
        self.sdk_mode = False          # conservative: the client enters it again on every connection

    def _read_features(self, connection: Connection) -> bytes:
        other = pmd.MeasurementType.PPG if self.delta_frames else pmd.MeasurementType.ECG   # optical / chest strap
        return pmd.encode_features({pmd.MeasurementType.ACC, other})

    def on_command(self, value: bytes) -> None:
        response, start = self._handle_request(value)
        self.reply(self._control, pmd.encode_response(response), indicate=True,
                   then_start=start and response.status == pmd.Status.SUCCESS)

    def _handle_request(self, value: bytes) -> tuple[pmd.ControlResponse, bool]:
        """The response to one request, and whether streaming starts after it is sent."""
        try:
            request = pmd.decode_request(value)
        except FrameError:
            self.malformed_commands += 1
            op = value[0] if value else 0
            return pmd.ControlResponse(op, value[1] & 0x3F if len(value) > 1 else 0, pmd.Status.INVALID_LENGTH), False
        op, mtype = request.op, request.measurement_type
        if op not in (pmd.OpCode.GET_SETTINGS, pmd.OpCode.START, pmd.OpCode.STOP):
            return pmd.ControlResponse(op, mtype, pmd.Status.INVALID_OP_CODE), False
        if mtype == pmd.MeasurementType.SDK_MODE and self.sdk_mode_above_hz is not None and op != pmd.OpCode.GET_SETTINGS:
            entering = op == pmd.OpCode.START
            status = pmd.Status.ALREADY_IN_STATE if self.sdk_mode == entering else pmd.Status.SUCCESS
            self.sdk_mode = entering
            return pmd.ControlResponse(op, mtype, status), False
        if mtype != pmd.MeasurementType.ACC:
            return pmd.ControlResponse(op, mtype, pmd.Status.NOT_SUPPORTED), False
        if op == pmd.OpCode.GET_SETTINGS:
            return pmd.ControlResponse(op, mtype, pmd.Status.SUCCESS, parameters=self._offered_settings()), False
        if op == pmd.OpCode.STOP:
            status = pmd.Status.SUCCESS if self.is_streaming else pmd.Status.INVALID_STATE
            self.stop_stream()
            return pmd.ControlResponse(op, mtype, status), False
        return self._start_response(request), True

    def _online_rates_hz(self) -> tuple[int, ...]:
        rates = [int(r) for r in self.profile.rates_hz]
        if self.sdk_mode_above_hz is not None and not self.sdk_mode:
            rates = [r for r in rates if r <= self.sdk_mode_above_hz]
        return tuple(rates)

    def _offered_settings(self) -> pmd.Settings:
        return {pmd.SettingType.SAMPLE_RATE: self._online_rates_hz(),
                pmd.SettingType.RESOLUTION: (16,),
                pmd.SettingType.RANGE: tuple(int(g) for g in self.profile.ranges_g)}

    def _start_response(self, request: pmd.ControlRequest) -> pmd.ControlResponse:
        def refuse(status: pmd.Status) -> pmd.ControlResponse:
            return pmd.ControlResponse(request.op, request.measurement_type, status)

        if self.refuse_start is not None:
            return refuse(self.refuse_start)
        if self.is_streaming:
            return refuse(pmd.Status.ALREADY_IN_STATE)
        rate = request.settings.get(pmd.SettingType.SAMPLE_RATE, (None,))[0]
        range_g = request.settings.get(pmd.SettingType.RANGE, (None,))[0]
        if rate not in self._online_rates_hz():
            return refuse(pmd.Status.INVALID_SAMPLE_RATE)
        if range_g not in [int(g) for g in self.profile.ranges_g]:
            return refuse(pmd.Status.INVALID_RANGE)
        self.configure(float(rate), float(range_g))
        parameters = {pmd.SettingType.FACTOR: (self._factor,)} if self.delta_frames else {}
        return pmd.ControlResponse(request.op, request.measurement_type, pmd.Status.SUCCESS, parameters=parameters)

    # ------------------------------------------------------------------ wire format

    def quantise(self, acc_g: np.ndarray) -> np.ndarray:
        if self.delta_frames:
            self._factor = float32(self._range_g / 32768.0)
            return np.clip(np.round(acc_g / self._factor), -32768, 32767).astype(np.int64)
        return np.round(acc_g * 1000.0).astype(np.int64)

    def to_g(self, counts: np.ndarray) -> np.ndarray:
        return counts * self._factor if self.delta_frames else counts / 1000.0


    def encode(self, first_index: int, counts: np.ndarray) -> bytes:
        last_timestamp_ns = self.start_timestamp_ns + round((first_index + len(counts) - 1) * 1e9 / self.rate_hz)
        return pmd.encode_frame(pmd.PmdFrame(pmd.MeasurementType.ACC, last_timestamp_ns,
                                             0 if self.delta_frames else 1, self.delta_frames, counts))

