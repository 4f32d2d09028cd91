"""Wearables without hardware: a bleak backend on Bumble's in-process virtual link, and emulated devices.

Needs the optional `bumble` package (`pip install "retrorun[test]"`); nothing on the hardware path imports
this package. Typical use::

    air = VirtualAir()
    device = EmulatedPolar(air, POLAR_H10, recording)
    await device.start()
    ble_device = await BleakScanner.find_device_by_name(device.name, backend=BumbleScanner, air=air)
    async with BleakClient(ble_device, backend=BumbleClient, air=air) as client: ...
"""
from __future__ import annotations

from ..errors import DeviceError


def require_bumble() -> None:
    """Raise DeviceError with the install command when Bumble is missing."""
    try:
        import bumble  # noqa: F401
    except ImportError:
        raise DeviceError('the emulator needs Google Bumble: pip install "retrorun[test]" (or pip install bumble)') from None
