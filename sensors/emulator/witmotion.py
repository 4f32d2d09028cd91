"""An emulated WitMotion BWT901BLE / WT901BLECL: FFE5 service, 55 61 packets on FFE4, FF AA writes on FFE9.

What it models (BLE.md B.4): register writes need the unlock key first and are never answered; the return
rate register picks 50/100/200 Hz (any code of the table is accepted, retrorun only asks for these); a
register read (`FF AA 27 <reg> 00`) is answered by a 55 71 packet on the data characteristic, in the same
byte stream as the samples (battery 0x64 reads `battery_centivolts`). Acceleration is quantised at the
fixed +-16 g scale; the angular rate is sent as 0 and the angles as the tilt of the acceleration, so a
full decoder sees plausible values.

Where it simplifies: a real sensor streams as soon as notifications are enabled, at its saved rate; this one
starts once the client's configuration is saved (unlock, rate, save: what the recorder sends on every
connection), so the whole recording goes out at the requested rate. Like a real one it has no sample
counter and does not buffer: samples that fall due while the link is down are lost.

`notification_bytes` cuts the byte stream into notifications of that size regardless of packet borders
(a packet then straddles two notifications, which the client must reassemble); by default one notification
carries whole packets. (A register reply is one notification of its own; with `notification_bytes` set it can
land inside a straddling packet, which a real sensor's byte stream never does: read registers only while
not streaming, or without `notification_bytes`.)
"""
from __future__ import annotations

import numpy as np
from bumble.gatt import Characteristic

from ..devices import witmotion as wit
from ..devices.base import I16_FULL_SCALE, DeviceProfile, FrameError, g_to_i16_counts, i16_counts_to_g
from ..recording import Recording
from .backend import VirtualAir
from .wearable import EmulatedWearable

DEFAULT_SAMPLES_PER_FRAME = 1
"""A 55 61 packet is 20 bytes, exactly a notification at the default MTU of 23: the sensor sends one each."""
DEFAULT_BATTERY_CENTIVOLTS = 395


def tilt_angle_counts(acc_counts: np.ndarray) -> np.ndarray:
    """Roll and pitch of the acceleration (yaw 0) as 55 61 angle counts (+-180 deg full scale)."""
    x, y, z = (acc_counts[:, k].astype(np.float64) for k in range(3))
    roll_deg = np.degrees(np.arctan2(y, z))
    pitch_deg = np.degrees(np.arctan2(-x, np.hypot(y, z)))
    angles = np.column_stack([roll_deg, pitch_deg, np.zeros_like(x)])
    return np.clip(np.round(angles * (I16_FULL_SCALE / wit.ANGLE_RANGE_DEG)), -32768, 32767).astype(np.int64)


class EmulatedWitMotion(EmulatedWearable):
    """A WitMotion BLE 5.0 IMU on the virtual air streaming a Recording as 55 61 packets."""

    family = "witmotion"

    def __init__(self, air: VirtualAir, profile: DeviceProfile, recording: Recording, *,
                 notification_bytes: int | None = None, battery_centivolts: int = DEFAULT_BATTERY_CENTIVOLTS,
                 **kwargs):
        self.notification_bytes = notification_bytes
        self.battery_centivolts = battery_centivolts
        self.unlocked = False
        self.ignored_writes = 0
        """Register writes sent without the unlock key first (a real sensor ignores them too)."""
        self._rate_code = wit.rate_code(profile.default_rate_hz)
        super().__init__(air, profile, recording, **kwargs)

    def default_samples_per_frame(self) -> int:
        return DEFAULT_SAMPLES_PER_FRAME

    def characteristics(self) -> list[Characteristic]:
        self._data = Characteristic(wit.WIT_DATA_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b"")
        self._write = Characteristic(
            wit.WIT_WRITE_UUID, Characteristic.Properties.WRITE | Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
            Characteristic.WRITEABLE, self.command_value())
        return [self._data, self._write]

    @property
    def data_characteristic(self) -> Characteristic:
        return self._data

    def notifications(self, frame: bytes) -> list[bytes]:
        size = self.notification_bytes or len(frame)
        return [frame[k:k + size] for k in range(0, len(frame), size)]

    def _on_disconnection(self, reason: int) -> None:
        self.unlocked = False
        super()._on_disconnection(reason)

    # ------------------------------------------------------------------ register writes

    def on_command(self, value: bytes) -> None:
        try:
            write = wit.decode_write(value)
        except FrameError:
            self.malformed_commands += 1
            return
        if write.register == wit.Register.UNLOCK:
            self.unlocked = write.value == wit.UNLOCK_VALUE
        elif write.register == wit.Register.READ:
            self._answer_read(write.value)
        elif not self.unlocked:
            self.ignored_writes += 1
        elif write.register == wit.Register.RETURN_RATE and write.value in wit.RATE_CODES_HZ:
            self._rate_code = write.value
        elif write.register == wit.Register.SAVE and write.value == 0:
            self.configure(wit.RATE_CODES_HZ[self._rate_code], wit.ACC_RANGE_G)
            self.start_stream()

    def _answer_read(self, register: int) -> None:
        values = [0] * 8
        if register == wit.Register.BATTERY:
            values[0] = self.battery_centivolts
        packet = wit.encode_register_reply(wit.RegisterReply(register & 0xFFFF, tuple(values)))
        self.reply(self._data, packet)

    # ------------------------------------------------------------------ wire format

    def quantise(self, acc_g: np.ndarray) -> np.ndarray:
        return g_to_i16_counts(acc_g, wit.ACC_RANGE_G)

    def to_g(self, counts: np.ndarray) -> np.ndarray:
        return i16_counts_to_g(counts, wit.ACC_RANGE_G)

    def encode(self, first_index: int, counts: np.ndarray) -> bytes:
        angles = tilt_angle_counts(counts)
        return b"".join(wit.encode_imu_packet(wit.ImuPacket(tuple(int(v) for v in acc), (0, 0, 0),
                                                            tuple(int(v) for v in angle)))
                        for acc, angle in zip(counts, angles))
