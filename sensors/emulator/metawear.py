"""An emulated MetaMotion / MetaWear board (BMI160): a Bumble GATT server speaking the MetaWear protocol.

As the board does (BLE.md B.3): commands `[module][register][data]` arrive written without response and are
never answered; the accelerometer streams once it is configured (03 03), sampling is enabled (03 02 01 00),
a data register is subscribed (03 1C 01 packed, or 03 04 01 single) and it is started (03 01 01); 03 01 00
stops it. Packed notifications always carry 3 samples (so the recording's last one or two, which cannot
fill a packet, are never sent); single ones carry 1. No timestamp, no counter: the client can only place
samples by their arrival. Messages for other modules are ignored; accelerometer messages it cannot parse
are counted in `malformed_commands`. A disconnection stops the stream (what falls due meanwhile is lost);
the client configures and starts it again after reconnecting.
"""
from __future__ import annotations

import numpy as np
from bumble.gatt import Characteristic

from ..devices import metawear as mw
from ..devices.base import DeviceProfile, FrameError
from ..recording import Recording
from .backend import VirtualAir
from .wearable import EmulatedWearable


class EmulatedMetaWear(EmulatedWearable):
    """A MetaWear board on the virtual air streaming `recording` through the accelerometer module."""

    family = "metawear"
    full_frames_only = True

    def __init__(self, air: VirtualAir, profile: DeviceProfile, recording: Recording, **kwargs):
        self.sampling_enabled = False
        self.packed: bool | None = None
        """Which data register is subscribed: True packed (0x1C), False single (0x04), None neither."""
        self._requested = (profile.default_rate_hz, profile.default_range_g)
        self._streaming_packed = True
        super().__init__(air, profile, recording, **kwargs)

    def default_samples_per_frame(self) -> int:
        return mw.PACKED_SAMPLES

    def characteristics(self) -> list[Characteristic]:
        self._command = Characteristic(
            mw.METAWEAR_COMMAND_UUID,
            Characteristic.Properties.WRITE | Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
            Characteristic.WRITEABLE, self.command_value())
        self._notify = Characteristic(mw.METAWEAR_NOTIFY_UUID, Characteristic.Properties.NOTIFY,
                                      Characteristic.READABLE, b"")
        return [self._command, self._notify]

    @property
    def data_characteristic(self) -> Characteristic:
        return self._notify

    # ------------------------------------------------------------------ commands (never answered)

    def on_command(self, value: bytes) -> None:
        if value[:1] != bytes([mw.ACC_MODULE]):
            return                                        # another module: not emulated
        handler = {mw.AccRegister.DATA_CONFIG: self._configure_command,
                   mw.AccRegister.DATA_INTERRUPT_ENABLE: self._enable_command,
                   mw.AccRegister.PACKED_DATA: self._subscribe_command,
                   mw.AccRegister.DATA: self._subscribe_command,
                   mw.AccRegister.POWER_MODE: self._power_command}.get(value[1] if len(value) > 1 else None)
        if handler is None or not handler(value):
            self.malformed_commands += 1

    def _configure_command(self, value: bytes) -> bool:
        try:
            self._requested = mw.decode_configure(value)
        except FrameError:
            return False
        return True

    def _enable_command(self, value: bytes) -> bool:
        if value not in (mw.ENABLE_SAMPLING, mw.DISABLE_SAMPLING):
            return False
        self.sampling_enabled = value == mw.ENABLE_SAMPLING
        return True

    def _subscribe_command(self, value: bytes) -> bool:
        if len(value) != 3 or value[2] not in (0, 1):
            return False
        packed = value[1] == mw.AccRegister.PACKED_DATA
        if value[2]:
            self.packed = packed
            self.samples_per_frame = mw.PACKED_SAMPLES if packed else 1
        elif self.packed == packed:
            self.packed = None
        return True

    def _power_command(self, value: bytes) -> bool:
        if value not in (mw.START, mw.STOP):
            return False
        if value == mw.STOP:
            self.stop_stream()
        elif self.sampling_enabled and self.packed is not None:
            self.configure(*self._requested)
            self._streaming_packed = self.packed
            self.start_stream()
        return True

    def stop_stream(self) -> None:
        """A disconnection ends the stream; the client subscribes and starts it again."""
        self.packed = None
        super().stop_stream()

    # ------------------------------------------------------------------ wire format

    def quantise(self, acc_g: np.ndarray) -> np.ndarray:
        lsb_per_g = mw.LSB_PER_G[self._range_g]
        return np.clip(np.round(acc_g * lsb_per_g), -32768, 32767).astype(np.int64)

    def to_g(self, counts: np.ndarray) -> np.ndarray:
        return mw.counts_to_g(counts, self._range_g)

    def encode(self, first_index: int, counts: np.ndarray) -> bytes:
        return mw.encode_notification(mw.AccNotification(self._streaming_packed, counts))
