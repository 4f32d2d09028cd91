"""What every emulated wearable shares: a Bumble GATT server on the virtual air serving a Recording.

A family module (polar.py, movesense.py, ...) subclasses `EmulatedWearable` and supplies only its wire
format: the characteristics of its service, how it answers a command, how it quantises samples and how it
packs them into notifications. Everything else is here, once: advertising (name, service, battery),
connection tracking, the sample clock, the streaming loop at the requested rate times `speed`, the record
of what was sent, and the faults tests inject (link drops, also mid-handshake; silent stalls; raw bytes;
devices that replay their backlog after a reconnect and devices that do not).

The device clock runs from the first start. After a link drop a non-replaying device (Polar, Movesense:
they stop measuring) has lost the samples that fell due meanwhile and resumes at its current time; a
replaying device (`replay_backlog=True`, e.g. a phone that buffers) resumes where it stopped and sends
the backlog as fast as the link takes it.
"""
from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np
from bumble import hci
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection
from bumble.gatt import Characteristic, CharacteristicValue, Service

from ..devices.base import DeviceProfile
from ..errors import DeviceError
from ..recording import Recording
from .backend import VirtualAir, address_text

BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
DEFAULT_BATTERY_PERCENT = 87
IN_FLIGHT_FRAMES = 2
"""Notifications a replaying device resends after a drop, not knowing which of them arrived."""


@dataclass
class SentSamples:
    """What the emulator notified: sample indices and the accelerations they carry, in g."""

    index: list[np.ndarray] = field(default_factory=list)
    acc_g: list[np.ndarray] = field(default_factory=list)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.index:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 3))
        return np.concatenate(self.index), np.concatenate(self.acc_g)


@dataclass(frozen=True)
class Frame:
    """One notification: samples [lo, hi) of the batch it was cut from, and its bytes."""

    lo: int
    hi: int
    data: bytes


class EmulatedWearable(ABC):
    """A wearable on the virtual air streaming `recording` (taken as consecutive samples) once started."""

    family: str = ""
    """The DeviceProfile.family this class emulates."""
    resent_after_drop_frames: int = IN_FLIGHT_FRAMES
    """A replaying device without a resume command resends this many notifications after a drop."""
    full_frames_only: bool = False
    """The model only ever notifies whole frames of `samples_per_frame` (MetaWear's packed stream: always 3),
    so the recording's last few samples that do not fill one are never sent (a real device would wait)."""

    def __init__(self, air: VirtualAir, profile: DeviceProfile, recording: Recording, *, name: str | None = None,
                 speed: float = 1.0, samples_per_frame: int | None = None, replay_backlog: bool = False,
                 drop_on_commands: tuple[int, ...] = (), battery_percent: int = DEFAULT_BATTERY_PERCENT):
        if profile.family != self.family:
            raise DeviceError(f"{type(self).__name__} cannot emulate {profile.key}")
        self.profile = profile
        self.recording = recording
        self.name = name or f"{profile.name_prefixes[0]} EMU{len(recording) % 10000:04d}"
        self.speed = speed
        self.samples_per_frame = samples_per_frame or self.default_samples_per_frame()
        self.replay_backlog = replay_backlog
        self.drop_on_commands = list(drop_on_commands)
        """First bytes of commands (consumed in order) on which the device drops the link instead of answering."""
        self.battery_percent = battery_percent
        self.sent = SentSamples()
        self.lost_samples = 0
        self.malformed_commands = 0
        self.finished = asyncio.Event()
        """Set when every sample of the recording has fallen due (sent or lost)."""
        self.streaming = asyncio.Event()
        self._air = air
        self._device, self._controller = air.new_device(self.name)
        self._connection: Connection | None = None
        self._task: asyncio.Task | None = None
        self._position = 0
        self._clock_start_s: float | None = None
        self._rate_hz = profile.default_rate_hz
        self._range_g = profile.default_range_g
        self._counts = np.zeros((0, 3), dtype=np.int64)
        self._milestones: list[tuple[int, asyncio.Event]] = []
        self._swap_next = False
        self._swapped: bytes | None = None
        self._build_gatt()

    # ------------------------------------------------------------------ what a family supplies

    @abstractmethod
    def characteristics(self) -> list[Characteristic]:
        """The characteristics of the device's streaming service."""

    @abstractmethod
    def on_command(self, value: bytes) -> None:
        """Digest one write to the command characteristic: reply (`self.reply`) and start or stop the stream."""

    @abstractmethod
    def quantise(self, acc_g: np.ndarray) -> np.ndarray:
        """The integer (or wire-exact) values this model sends for `acc_g`, already clipped to the range."""

    @abstractmethod
    def to_g(self, counts: np.ndarray) -> np.ndarray:
        """What the values sent mean, in g (what a correct decoder must return)."""

    @abstractmethod
    def encode(self, first_index: int, counts: np.ndarray) -> bytes:
        """One notification carrying `counts`, whose first sample has index `first_index`."""

    def default_samples_per_frame(self) -> int:
        return 10

    def notifications(self, frame: bytes) -> list[bytes]:
        """How one encoded frame goes on the air: one notification, unless the model cuts its byte stream
        elsewhere (a WitMotion packet may straddle two notifications, BLE.md B.4)."""
        return [frame]

    def advertised_uuid(self) -> str:
        return self.profile.service_uuid

    # ------------------------------------------------------------------ setup

    def _build_gatt(self) -> None:
        self._device.add_service(Service(gatt_uuid(self.profile.service_uuid), self.characteristics()))
        self._battery = Characteristic(BATTERY_LEVEL_UUID, Characteristic.Properties.READ, Characteristic.READABLE,
                                       CharacteristicValue(read=lambda _: bytes([self.battery_percent])))
        self._device.add_service(Service(BATTERY_SERVICE_UUID, [self._battery]))
        self._device.advertising_data = bytes(AdvertisingData([
            (AdvertisingData.FLAGS, bytes([0x06])),
            (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
            _service_uuid_field(self.advertised_uuid()),
        ]))
        self._device.on("connection", self._on_connection)

    def command_value(self) -> CharacteristicValue:
        """The value of a writable command characteristic: writes go to `on_command` (or drop the link)."""
        return CharacteristicValue(write=self.on_write)

    @property
    def address(self) -> str:
        return address_text(self._device.random_address)

    @property
    def rate_hz(self) -> float:
        return self._rate_hz

    @property
    def connected(self) -> bool:
        return self._connection is not None

    async def start(self) -> None:
        """Power on and advertise (again after every disconnection)."""
        await self._device.power_on()
        await self._device.start_advertising(auto_restart=True, advertising_interval_min=20,
                                             advertising_interval_max=20)

    async def stop(self) -> None:
        self.stop_stream()
        if self._connection is not None:
            await self._connection.disconnect()
        await self._device.stop_advertising()
        await self._device.power_off()
        self._air.remove(self._controller)

    # ------------------------------------------------------------------ faults

    async def drop_link(self, reason: int = hci.HCI_CONNECTION_TIMEOUT_ERROR) -> None:
        """Lose the link from the device side (0x08 looks like a supervision timeout to the client)."""
        if self._connection is not None:
            await self._connection.disconnect(reason)

    async def send_raw(self, data: bytes, characteristic: Characteristic | None = None) -> None:
        """Notify arbitrary bytes (a malformed or foreign frame) on the data characteristic."""
        if self._connection is not None:
            await self._device.notify_subscriber(self._connection, characteristic or self.data_characteristic,
                                                 bytes(data))

    def stall(self) -> None:
        """Go silent with the link up (a zombie link): no more notifications until the stream is restarted."""
        self.stop_stream()

    # ------------------------------------------------------------------ connection and commands

    @property
    @abstractmethod
    def data_characteristic(self) -> Characteristic:
        """The characteristic samples are notified on."""

    def _on_connection(self, connection: Connection) -> None:
        self._connection = connection
        connection.on("disconnection", self._on_disconnection)

    def _on_disconnection(self, reason: int) -> None:
        self._connection = None
        self.stop_stream()
        if self.replay_backlog:
            # the last notifications may have been in flight when the link went: a device that replays
            # resends them too (the client keeps one copy)
            self._position = max(0, self._position - self.resent_after_drop_frames * self.samples_per_frame)
        self.on_disconnected()

    def on_disconnected(self) -> None:
        """What the device forgets when the link goes (a family overrides; Movesense drops subscriptions)."""

    def on_write(self, connection: Connection, value: bytes) -> None:
        """A write to the command characteristic: `on_command`, unless a drop was injected for it."""
        value = bytes(value)
        if self.drop_on_commands and value[:1] == bytes([self.drop_on_commands[0]]):
            self.drop_on_commands.pop(0)
            asyncio.get_running_loop().create_task(self.drop_link())   # a drop in the middle of the handshake
            return
        self.on_command(value)

    def reply(self, characteristic: Characteristic, data: bytes, *, indicate: bool = False,
              then_start: bool = False) -> None:
        """Send `data` to the client on `characteristic` (after the write completes); start streaming after it."""
        connection = self._connection
        if connection is None:
            return

        async def send() -> None:
            try:
                if indicate:
                    await self._device.indicate_subscriber(connection, characteristic, data)
                else:
                    await self._device.notify_subscriber(connection, characteristic, data)
            except Exception:  # noqa: BLE001 - the link went away before the reply: the client will retry
                return
            if then_start:
                self.start_stream()

        asyncio.get_running_loop().create_task(send())

    def configure(self, rate_hz: float, range_g: float) -> None:
        """Quantise the recording as the model puts it on the wire (once: later starts keep the first setting)."""
        if self._clock_start_s is not None:
            return
        self._rate_hz, self._range_g = float(rate_hz), float(range_g)
        self._counts = self.quantise(self.source_values())

    def source_values(self) -> np.ndarray:
        """What the device measures, one row per position of its stream (here: the recording's acceleration
        clipped to the range; a device that streams derived values overrides this)."""
        return np.clip(self.recording.acc_g, -self._range_g, self._range_g)

    def start_stream(self) -> None:
        if self._task is None and self._connection is not None:
            if not len(self._counts):
                self.configure(self._rate_hz, self._range_g)
            self._task = asyncio.get_running_loop().create_task(self._stream(self._connection))

    def stop_stream(self) -> None:
        self._swapped = None
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.streaming.clear()

    @property
    def is_streaming(self) -> bool:
        return self._task is not None

    @property
    def position(self) -> int:
        """The index of the next sample to notify (every earlier one was sent or lost)."""
        return self._position

    def due_position(self) -> int:
        """How many samples have fallen due on the device clock (0 before the first start)."""
        if self._clock_start_s is None:
            return 0
        return min(self._due_position(asyncio.get_running_loop()), len(self._counts))

    def seek(self, position: int) -> None:
        """Continue from sample `position` when the stream next starts.

        Back: a replaying device resends what a client says it lacks (also what was lost in flight when the
        link dropped, which the device cannot know). Forward: it skips what it no longer holds (counted lost).
        """
        position = min(max(0, int(position)), len(self._counts))
        self.lost_samples += max(0, position - self._position)
        self._position = position

    # ------------------------------------------------------------------ streaming

    def _due_position(self, loop: asyncio.AbstractEventLoop) -> int:
        return int((loop.time() - self._clock_start_s) * self._rate_hz * self.speed)

    async def _stream(self, connection: Connection) -> None:
        loop = asyncio.get_running_loop()
        if self._clock_start_s is None:
            self._clock_start_s = loop.time()
        if not self.replay_backlog:
            resume_at = min(max(self._position, self._due_position(loop)), len(self._counts))
            self.lost_samples += resume_at - self._position
            self._position = resume_at
        self.streaming.set()
        while self._position < len(self._counts):
            end = min(self._position + self.samples_per_frame, len(self._counts))
            if self.full_frames_only and end - self._position < self.samples_per_frame:
                break
            due_s = self._clock_start_s + end / (self._rate_hz * self.speed)
            await asyncio.sleep(max(0.0, due_s - loop.time()))
            await self._send(connection, self._position, end)
            self._position = end
            self._mark_progress()
        self.finished.set()
        self.streaming.clear()

    async def _send(self, connection: Connection, first: int, end: int) -> None:
        counts = self._counts[first:end]
        for frame in self._frames(first, counts, connection.att_mtu - 3):
            self.sent.index.append(np.arange(first + frame.lo, first + frame.hi))
            self.sent.acc_g.append(self.to_g(counts[frame.lo:frame.hi]))
            if self._swap_next:
                if self._swapped is None:           # hold this frame; it goes out after the next one
                    self._swapped = frame.data
                    continue
                self._swap_next, held, self._swapped = False, self._swapped, None
                await self._notify_frame(connection, frame.data)
                await self._notify_frame(connection, held)
                continue
            await self._notify_frame(connection, frame.data)

    async def _notify_frame(self, connection: Connection, data: bytes) -> None:
        for notification in self.notifications(data):
            await self._device.notify_subscriber(connection, self.data_characteristic, notification)

    def swap_next_frames(self) -> None:
        """Out-of-order delivery: the next two frames are notified the later one first."""
        self._swap_next, self._swapped = True, None

    def _frames(self, first: int, counts: np.ndarray, max_bytes: int) -> list[Frame]:
        """Encoded frames for `counts`, split in halves until each fits the MTU."""
        data = self.encode(first, counts)
        if len(data) <= max_bytes or len(counts) == 1:
            return [Frame(0, len(counts), data)]
        half = len(counts) // 2
        head = self._frames(first, counts[:half], max_bytes)
        tail = self._frames(first + half, counts[half:], max_bytes)
        return head + [Frame(f.lo + half, f.hi + half, f.data) for f in tail]

    def reached(self, position: int) -> asyncio.Event:
        """An event set once the device's clock has passed sample `position` (sent or lost)."""
        event = asyncio.Event()
        self._milestones.append((position, event))
        self._mark_progress()
        return event

    def _mark_progress(self) -> None:
        for position, event in self._milestones:
            if self._position >= position:
                event.set()


SIG_BASE_SUFFIX = "-0000-1000-8000-00805f9b34fb"
"""The Bluetooth Base UUID: 0000xxxx-0000-1000-8000-00805f9b34fb is the SIG's 16-bit UUID 0xxxxx."""


def gatt_uuid(uuid: str) -> UUID:
    """A UUID as Bumble should send it: the 16-bit form for a SIG UUID given in its 128-bit spelling
    (Bumble's UUID() keeps 128 bits: a foot pod would then advertise 0x1814 as a 128-bit UUID)."""
    text = uuid.lower()
    if len(text) == 36 and text.startswith("0000") and text.endswith(SIG_BASE_SUFFIX):
        return UUID.from_16_bits(int(text[4:8], 16))
    return UUID(uuid)


def _service_uuid_field(uuid: str) -> tuple[int, bytes]:
    value = gatt_uuid(uuid)
    if len(value.to_bytes()) == 2:
        return AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, value.to_bytes()
    return AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS, value.to_bytes()
