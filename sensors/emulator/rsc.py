"""An emulated RSC foot pod (Stryd, Polar Stride, Zwift RunPod): a Bumble GATT server with the Running Speed
and Cadence service, notifying one RSC Measurement per reading of a `CadenceTrack`, about once a second
(times `speed`).

Like a real pod it needs no command: it starts notifying when the client subscribes to the measurement and
stops when it unsubscribes or the link drops; readings that fall due while the link is down are lost (the
clock, streaming loop and faults are wearable.py's). `sent` keeps what was notified, one row per reading:
cadence_spm, speed_mps, stride_m, distance_m, running (NaN where not sent), as the wire carries them.
"""
from __future__ import annotations

import numpy as np
from bumble.gatt import Characteristic

from ..cadence import CadenceTrack, readings_track
from ..devices import rsc
from ..devices.base import CadenceReading, DeviceProfile
from ..errors import DeviceError
from .backend import VirtualAir
from .wearable import EmulatedWearable, gatt_uuid

WIRE_SCALES = np.array([1.0, rsc.SPEED_SCALE, rsc.STRIDE_SCALE, rsc.DISTANCE_SCALE, 1.0])
"""Counts per unit of each reading column on the wire."""
DEFAULT_SPEED_MPS = 3.0
"""A plausible easy running speed for the simulated run."""
CADENCE_WINDOW_S = 2.0
"""The simulated pod's cadence: steps per minute over the contacts of the last this many seconds."""
SLACK_S = 2.0
"""Readings beyond the session asked for, so the recorder, not the pod, ends it."""


class EmulatedFootPod(EmulatedWearable):
    """An RSC foot pod on the virtual air streaming a CadenceTrack, one notification per reading."""

    family = "rsc"

    def __init__(self, air: VirtualAir, profile: DeviceProfile, recording: CadenceTrack, **kwargs):
        if kwargs.get("samples_per_frame", 1) != 1:
            raise DeviceError("a foot pod sends one reading per notification")
        super().__init__(air, profile, recording, **kwargs)
        self._device.on("characteristic_subscription", self._on_subscription)

    def default_samples_per_frame(self) -> int:
        return 1

    def characteristics(self) -> list[Characteristic]:
        self._measurement = Characteristic(gatt_uuid(rsc.RSC_MEASUREMENT_UUID), Characteristic.Properties.NOTIFY,
                                           Characteristic.READABLE, b"")
        return [self._measurement]

    @property
    def data_characteristic(self) -> Characteristic:
        return self._measurement

    def _on_subscription(self, connection, characteristic, notify_enabled: bool, indicate_enabled: bool) -> None:
        if characteristic is self._measurement:
            self.start_stream() if notify_enabled else self.stop_stream()

    def on_command(self, value: bytes) -> None:
        """A foot pod takes no command on its measurement service."""

    # ------------------------------------------------------------------ wire format

    def source_values(self) -> np.ndarray:
        track = self.recording
        return np.column_stack([track.cadence_spm, track.speed_mps, track.stride_m, track.distance_m, track.running])

    def quantise(self, values: np.ndarray) -> np.ndarray:
        return np.round(values * WIRE_SCALES)           # NaN (not sent) stays NaN

    def to_g(self, counts: np.ndarray) -> np.ndarray:
        """What the notified readings mean (columns as `sent` documents), not g: a pod has no acceleration."""
        return counts / WIRE_SCALES

    def encode(self, first_index: int, counts: np.ndarray) -> bytes:
        return rsc.encode_measurement(reading_of(self.to_g(counts)[0]))


def reading_of(row: np.ndarray) -> CadenceReading:
    """A reading from a row cadence_spm, speed_mps, stride_m, distance_m, running (NaN: not sent)."""
    def opt(value: float) -> float | None:
        return None if np.isnan(value) else float(value)

    running = opt(row[4])
    return CadenceReading(float(row[0]), float(row[1]), opt(row[2]), opt(row[3]),
                          None if running is None else bool(running))


def simulated_cadence(*, seconds: float, rate_hz: float = rsc.NOMINAL_RATE_HZ, seed: int = 0,
                      speed_mps: float = DEFAULT_SPEED_MPS) -> CadenceTrack:
    """Readings every 1/rate_hz s (`seconds` plus a little slack) over a simulated steady run (sensors.simulate): cadence from the truth's
    contacts in the last CADENCE_WINDOW_S, a constant `speed_mps`, stride = speed / step rate, the distance
    run so far, and running as the truth says."""
    from ..simulator import simulate

    truth = simulate("foot", "backward", sampling_rate_hz=50.0, duration_s=seconds + CADENCE_WINDOW_S + SLACK_S,
                     seed=seed).truth
    ic_s = truth["ic_s"].to_numpy(dtype=float)
    time_s = np.arange(CADENCE_WINDOW_S, seconds + CADENCE_WINDOW_S + SLACK_S, 1.0 / rate_hz)
    readings = []
    for t in time_s:
        recent = ic_s[(ic_s > t - CADENCE_WINDOW_S) & (ic_s <= t)]
        cadence = 60.0 * (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) > 1 else 0.0
        last = np.flatnonzero(ic_s <= t)
        running = bool(len(last)) and truth["activity"].iloc[last[-1]] == "run"
        speed = speed_mps if cadence > 0 else 0.0
        readings.append(CadenceReading(round(cadence), speed, round(60.0 * speed / cadence, 2) if cadence else None,
                                       round(speed * (t - time_s[0]), 1), running))
    return readings_track(time_s - time_s[0], readings, metadata={"device": "simulated foot pod"})
