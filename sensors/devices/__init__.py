"""Wearable families: one module per wire protocol (pure functions of bytes), and the profiles they offer."""
from __future__ import annotations

from ..errors import DeviceError
from .base import AccBatch, CadenceReading, Command, ControlPointError, DeviceProfile, FrameError, StreamSession
from .metawear import PROFILES as _METAWEAR_PROFILES
from .movesense import PROFILES as _MOVESENSE_PROFILES
from .polar_pmd import PROFILES as _POLAR_PROFILES
from .retrorun_profile import PROFILES as _RETRORUN_PROFILES
from .rsc import PROFILES as _RSC_PROFILES
from .witmotion import PROFILES as _WITMOTION_PROFILES

PROFILES: dict[str, DeviceProfile] = {p.key: p for p in (*_POLAR_PROFILES, *_MOVESENSE_PROFILES, *_METAWEAR_PROFILES,
                                                         *_WITMOTION_PROFILES, *_RETRORUN_PROFILES, *_RSC_PROFILES)}
"""Every supported model by its command-line key (`--profile`, `--emulate`)."""


def get_profile(key: str) -> DeviceProfile:
    """The profile called `key`, or a DeviceError listing the known ones."""
    try:
        return PROFILES[key]
    except KeyError:
        raise DeviceError(f"unknown device profile {key!r}; known: {', '.join(PROFILES)}") from None


def detect_profile(advertised_name: str | None, service_uuids: list[str] = ()) -> DeviceProfile | None:
    """The profile the advertisement names (models of one family share a service), else the first whose
    service it advertises."""
    for profile in PROFILES.values():
        if profile.matches(advertised_name):
            return profile
    for profile in PROFILES.values():
        if profile.matches(None, service_uuids):
            return profile
    return None


__all__ = ["PROFILES", "get_profile", "detect_profile", "DeviceProfile", "StreamSession", "AccBatch", "CadenceReading",
           "Command", "FrameError", "ControlPointError"]
