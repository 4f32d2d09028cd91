"""Which emulator class plays which device family, and how to start one serving a simulated or recorded run."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..devices.base import DeviceProfile
from ..errors import InputError
from ..recording import Recording
from .backend import VirtualAir
from .metawear import EmulatedMetaWear
from .movesense import EmulatedMovesense
from .phone import EmulatedPhone
from .polar import EmulatedPolar
from .rsc import EmulatedFootPod, simulated_cadence
from .wearable import EmulatedWearable
from .witmotion import EmulatedWitMotion

EMULATORS: dict[str, type[EmulatedWearable]] = {
    cls.family: cls for cls in (EmulatedPolar, EmulatedMovesense, EmulatedMetaWear, EmulatedWitMotion, EmulatedPhone,
                                EmulatedFootPod)}
"""Emulator class by DeviceProfile.family."""


def emulator_for(profile: DeviceProfile) -> type[EmulatedWearable]:
    try:
        return EMULATORS[profile.family]
    except KeyError:
        raise InputError(f"no emulator for {profile.key} yet; emulated: "
                         + ", ".join(sorted(EMULATORS))) from None


def simulated_run(*, seconds: float, rate_hz: float, placement: str = "shank", seed: int = 0) -> Recording:
    """A simulated backward run (sensors.simulate) of `seconds` plus a little slack."""
    from ..simulator import simulate

    return simulate(placement, "backward", sampling_rate_hz=rate_hz, duration_s=seconds + 2.0, seed=seed).recording


def simulated_source(profile: DeviceProfile, *, seconds: float, rate_hz: float, placement: str = "shank",
                     seed: int = 0):
    """What an emulated `profile` serves by default: a simulated run as its sensor sees it (a Recording), or
    for a profile without acceleration the readings it would send (a CadenceTrack)."""
    if not profile.streams_acceleration:
        return simulated_cadence(seconds=seconds, rate_hz=rate_hz, seed=seed)
    return simulated_run(seconds=seconds, rate_hz=rate_hz, placement=placement, seed=seed)


def replayed_source(profile: DeviceProfile, path: Path, rate_hz: float):
    """A file for an emulated `profile` to stream again: a recording resampled to its rate, or a cadence file
    (sensors.cadence) for a profile without acceleration."""
    if not profile.streams_acceleration:
        from ..cadence import load_cadence
        return load_cadence(path)
    return replayed_run(path, rate_hz)


def replayed_run(path: Path, rate_hz: float) -> Recording:
    """A recording file (any importable format) resampled to the device's rate, to be streamed again.

    Gaps in the file are bridged by the interpolation: the device streams a continuous signal.
    """
    from ..fileformat import load

    rec = load(path)
    if abs(rec.sampling_rate_hz - rate_hz) < 1e-6 and not rec.gaps:
        return rec
    n = int(np.floor(rec.duration_s * rate_hz)) + 1
    time_s = rec.time_s[0] + np.arange(n) / rate_hz
    acc_g = np.column_stack([np.interp(time_s, rec.time_s, rec.acc_g[:, k]) for k in range(3)])
    return Recording(time_s=time_s - time_s[0], acc_g=acc_g, sampling_rate_hz=rate_hz,
                     placement=rec.placement, metadata={**rec.metadata, "replayed_from": str(path)})


async def start_emulated(profile: DeviceProfile, recording: Recording, *, speed: float = 1.0,
                         air: VirtualAir | None = None, **kwargs) -> tuple[VirtualAir, EmulatedWearable]:
    """A powered, advertising emulated `profile` device that streams `recording` once started."""
    air = air or VirtualAir()
    device = emulator_for(profile)(air, profile, recording, speed=speed, **kwargs)
    await device.start()
    return air, device
