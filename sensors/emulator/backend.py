"""A bleak backend whose radio is Bumble's in-process virtual link (bleak >= 3.1, bumble 0.0.236).

Every scanner, client and emulated device gets its own virtual controller and host stack, all attached to
one `VirtualAir` (a Bumble LocalLink). Pass the classes to bleak's public API with `backend=` and the air
with `air=` (bleak forwards extra keyword arguments to its backend)::

    dev = await BleakScanner.find_device_by_name("Polar H10 EMU1", backend=BumbleScanner, air=air)
    async with BleakClient(dev, backend=BumbleClient, air=air) as client: ...

What is real: advertising, connection, ATT/GATT discovery, MTU exchange, CCCD writes, notifications,
indications and disconnect reasons. What is not: radio timing (packets are delivered on the next loop turn).
"""
from __future__ import annotations

import asyncio
from typing import Any

from bleak.assigned_numbers import gatt_char_props_to_strs
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError
from bleak.uuids import normalize_uuid_str
from bumble import hci
from bumble.controller import Controller
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device, Peer
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

REQUESTED_MTU = 247
"""What BlueZ and CoreBluetooth negotiate by themselves; frames of 36 H10 samples need more than 23."""

SERVICE_UUID_AD_TYPES = (AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                         AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                         AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                         AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS)


class VirtualAir:
    """The shared medium: every virtual controller on it can see and connect to every other."""

    def __init__(self) -> None:
        self.link = LocalLink()

    def new_device(self, name: str) -> tuple[Device, Controller]:
        """A Bumble host stack on a fresh virtual controller with a static random address."""
        controller = Controller(name, link=self.link)
        device = Device(name=name, address=hci.Address.generate_static_address(),
                        host=Host(controller, AsyncPipeSink(controller)))
        return device, controller

    def remove(self, controller: Controller) -> None:
        self.link.remove_controller(controller)


def bleak_kwargs(air: "VirtualAir") -> tuple[dict, dict]:
    """The keyword arguments (for BleakScanner, for BleakClient) that put bleak on `air`."""
    return {"backend": BumbleScanner, "air": air}, {"backend": BumbleClient, "air": air}


def address_text(address: hci.Address) -> str:
    """"AA:BB:..." without Bumble's "/P" type suffix: what bleak users see as an address."""
    return address.to_string(with_type_qualifier=False)


def bleak_uuid(uuid: UUID) -> str:
    """A Bumble UUID as bleak's normalised lower-case 128-bit string."""
    text = uuid.to_hex_str()
    if len(text) == 32:
        text = "-".join((text[:8], text[8:12], text[12:16], text[16:20], text[20:]))
    return normalize_uuid_str(text)


def advertisement_from(report) -> tuple[str | None, AdvertisementData]:
    """bleak's AdvertisementData from a Bumble advertisement."""
    data = report.data
    uuids = [bleak_uuid(u) for kind in SERVICE_UUID_AD_TYPES for u in (data.get(kind) or [])]
    name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(AdvertisingData.SHORTENED_LOCAL_NAME)
    name = name.decode() if isinstance(name, bytes) else name
    maker = data.get(AdvertisingData.MANUFACTURER_SPECIFIC_DATA)
    return name, AdvertisementData(local_name=name, manufacturer_data=dict([maker]) if maker else {},
                                   service_data={}, service_uuids=uuids, tx_power=None, rssi=report.rssi,
                                   platform_data=(report,))


class BumbleScanner(BaseBleakScanner):
    """bleak scanner backend: an active scan on the virtual air."""

    def __init__(self, detection_callback, service_uuids, scanning_mode="active", *, air: VirtualAir, **_: Any):
        super().__init__(detection_callback, service_uuids)
        self._air = air
        self._active = scanning_mode == "active"
        self._device: Device | None = None
        self._controller: Controller | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._device, self._controller = self._air.new_device("bleak-scanner")
        self._device.on("advertisement", self._on_advertisement)
        await self._device.power_on()
        await self._device.start_scanning(active=self._active)

    async def stop(self) -> None:
        if self._device is None:
            return
        await self._device.stop_scanning()
        await self._device.power_off()
        self._air.remove(self._controller)
        self._device = self._controller = None

    def _on_advertisement(self, report) -> None:
        name, adv = advertisement_from(report)
        if not self.is_allowed_uuid(adv.service_uuids):
            return
        address = address_text(report.address)
        device = self.create_or_update_device(address, address, name, report.address, adv)
        self.call_detection_callbacks(device, adv)


class BumbleClient(BaseBleakClient):
    """bleak client backend: a GATT client on the virtual air. Calls bleak's disconnected callback on every loss."""

    def __init__(self, address_or_ble_device, *, air: VirtualAir, disconnected_callback=None,
                 timeout: float = 10.0, **_: Any):
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
        self._air = air
        self._device: Device | None = None
        self._controller: Controller | None = None
        self._connection: Connection | None = None
        self._peer: Peer | None = None

    @property
    def name(self) -> str:
        return self.address

    @property
    def mtu_size(self) -> int:
        return self._connection.att_mtu if self._connection else 23

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool = False, **kwargs: Any) -> None:
        if self._device is None:
            self._device, self._controller = self._air.new_device("bleak-client")
            await self._device.power_on()
        target = hci.Address(self.address, hci.Address.RANDOM_DEVICE_ADDRESS)
        try:
            connection = await asyncio.wait_for(self._device.connect(target), kwargs.get("timeout", self._timeout))
        except (asyncio.TimeoutError, hci.HCI_Error, OSError) as exc:
            await self._release()
            raise BleakDeviceNotFoundError(self.address, f"could not connect to {self.address}: {exc!r}") from exc
        self._connection = connection
        connection.on("disconnection", self._on_disconnection)
        self._peer = Peer(connection)
        await self._peer.request_mtu(REQUESTED_MTU)
        self.services = await self._discover_services()

    async def disconnect(self) -> None:
        if self._connection is not None:
            await self._connection.disconnect()
        await self._release()

    async def _release(self) -> None:
        if self._device is not None:
            device, controller = self._device, self._controller
            self._device = self._controller = None
            await device.power_off()
            self._air.remove(controller)

    def _on_disconnection(self, reason: int) -> None:
        self._connection = self._peer = None
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("pairing is not emulated")

    async def unpair(self) -> None:
        raise NotImplementedError("pairing is not emulated")

    async def _discover_services(self) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        for service in await self._peer.discover_services():
            bleak_service = BleakGATTService(service, service.handle, bleak_uuid(service.uuid))
            collection.add_service(bleak_service)
            for char in await service.discover_characteristics():
                bleak_char = BleakGATTCharacteristic(char, char.handle, bleak_uuid(char.uuid),
                                                     list(gatt_char_props_to_strs(char.properties)),
                                                     lambda: self.mtu_size - 3, bleak_service)
                collection.add_characteristic(bleak_char)
                for descriptor in await char.discover_descriptors():
                    collection.add_descriptor(BleakGATTDescriptor(descriptor, descriptor.handle,
                                                                  bleak_uuid(descriptor.type), bleak_char))
        return collection

    def _connected_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError("not connected")
        return self._peer

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, **kwargs: Any) -> bytearray:
        return bytearray(await self._connected_peer().read_value(characteristic.handle))

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, **kwargs: Any) -> bytearray:
        return bytearray(await self._connected_peer().read_value(descriptor.handle))

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data, response: bool) -> None:
        await self._connected_peer().write_value(characteristic.handle, bytes(data), with_response=response)

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data) -> None:
        await self._connected_peer().write_value(descriptor.handle, bytes(data), with_response=True)

    async def start_notify(self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback,
                           **kwargs: Any) -> None:
        prefer_notify = "notify" in characteristic.properties
        await self._connected_peer().subscribe(characteristic.obj, lambda value: callback(bytearray(value)),
                                               prefer_notify=prefer_notify)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        await self._connected_peer().unsubscribe(characteristic.obj)
