"""End to end through bleak's public API against an emulated Polar on Bumble's virtual link (no mocks)."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest

pytest.importorskip("bumble", reason="the emulator needs Google Bumble: pip install 'retrorun[test]'")

from bleak import BleakClient, BleakScanner  # noqa: E402

from sensors.devices import polar_pmd as pmd  # noqa: E402
from sensors.devices.base import ControlPointError  # noqa: E402
from sensors.emulator.backend import BumbleClient, BumbleScanner, VirtualAir  # noqa: E402
from sensors.emulator.polar import EmulatedPolar  # noqa: E402
from sensors.simulator import simulate  # noqa: E402

TIMEOUT_S = 20.0


def simulated(rate_hz: float, seconds: float):
    return simulate("shank", "backward", sampling_rate_hz=rate_hz, duration_s=seconds, seed=1).recording


async def stream_all(profile, rate_hz: float, seconds: float, speed: float = 20.0):
    """Connect, configure, stream a whole simulated recording; (received g, emulator)."""
    air = VirtualAir()
    device = EmulatedPolar(air, profile, simulated(rate_hz, seconds), speed=speed)
    await device.start()
    found = await BleakScanner.find_device_by_name(device.name, timeout=TIMEOUT_S, backend=BumbleScanner, air=air)
    assert found is not None
    session = profile.session(rate_hz)
    received, responses = [], asyncio.Queue()
    async with BleakClient(found, backend=BumbleClient, air=air) as client:
        await client.start_notify(pmd.PMD_CONTROL_UUID, lambda _, data: responses.put_nowait(bytes(data)))
        await client.start_notify(pmd.PMD_DATA_UUID, lambda _, data: received.append(session.decode(data).acc_g))
        assert pmd.MeasurementType.ACC in pmd.decode_features(await client.read_gatt_char(pmd.PMD_CONTROL_UUID))
        for command in session.start_commands():
            await client.write_gatt_char(pmd.PMD_CONTROL_UUID, command.data, response=True)
            session.on_control_message(await asyncio.wait_for(responses.get(), TIMEOUT_S))
        await asyncio.wait_for(device.finished.wait(), TIMEOUT_S + seconds / speed)
        for command in session.stop_commands():
            await client.write_gatt_char(pmd.PMD_CONTROL_UUID, command.data, response=True)
            session.on_control_message(await asyncio.wait_for(responses.get(), TIMEOUT_S))
    await device.stop()
    return np.concatenate(received), device


@pytest.mark.parametrize("profile, rate_hz", [(pmd.POLAR_H10, 200.0), (pmd.POLAR_VERITY_SENSE, 52.0)])
def test_streamed_samples_equal_the_served_ones(profile, rate_hz):
    received, device = asyncio.run(stream_all(profile, rate_hz, seconds=20.0))
    index, sent = device.sent.arrays()
    assert device.lost_samples == 0 and len(index) == len(device.recording)
    np.testing.assert_array_equal(received, sent)
    np.testing.assert_allclose(received, np.clip(device.recording.acc_g, -8, 8), atol=0.0006)


def test_device_refusal_reaches_the_client_as_a_control_point_error():
    async def scenario():
        air = VirtualAir()
        device = EmulatedPolar(air, pmd.POLAR_H10, simulated(200.0, 2.0), refuse_start=pmd.Status.DEVICE_IN_CHARGER)
        await device.start()
        responses: asyncio.Queue = asyncio.Queue()
        async with BleakClient(device.address, backend=BumbleClient, air=air) as client:
            await client.start_notify(pmd.PMD_CONTROL_UUID, lambda _, data: responses.put_nowait(bytes(data)))
            await client.write_gatt_char(pmd.PMD_CONTROL_UUID, pmd.start_acc_request(200, 8), response=True)
            message = await asyncio.wait_for(responses.get(), TIMEOUT_S)
        await device.stop()
        return message

    with pytest.raises(ControlPointError, match="DEVICE_IN_CHARGER"):
        pmd.POLAR_H10.session().on_control_message(asyncio.run(scenario()))
