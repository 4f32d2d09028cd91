"""Record a wearable over BLE into the crash-safe journal, surviving disconnects, accounting for every gap.

Pure bleak on the production path. The emulator plugs in only through the keyword arguments bleak passes to
its backend (`client_kwargs={"backend": BumbleClient, "air": air}`), so the tests drive this exact code.

The supervisor: connect (with backoff) -> subscribe -> configure and start (control-point handshake) ->
stream, until the session's duration is reached. A disconnect callback or a silent link (no data for
`watchdog_s`) ends the stream; it then reconnects, re-subscribes and restarts, for as long as the session
lasts. Sample indices come from the device (a counter, or its timestamps at the nominal rate), so every
lost stretch is journaled as a gap with its exact length. A profile without acceleration (an RSC foot pod)
sends readings instead: each is journaled at its host arrival time (device seconds since the first).
"""
from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError
from bleak_retry_connector import establish_connection

from .devices.base import AccBatch, CadenceReading, Command, ControlPointError, DeviceProfile, FrameError, StreamSession
from .errors import DeviceError
from .journal import JournalGap, JournalWriter
from .recording import GAP_FACTOR

log = logging.getLogger(__name__)

DEFAULT_WATCHDOG_S = 3.0
"""No data for this long on a live link means a zombie link (BLE.md C.1): disconnect and reconnect."""
DEFAULT_RESPONSE_TIMEOUT_S = 5.0
DEFAULT_SCAN_TIMEOUT_S = 10.0
BACKOFF_S = (0.25, 0.5, 1.0, 2.0, 4.0)
"""Waits between reconnect rounds (the last one repeats). Within a round, bleak-retry-connector's
`establish_connection` makes up to CONNECT_ATTEMPTS attempts with its own backoff classified by error (and
clears stale BlueZ state); rounds go on for as long as the session lasts."""
CONNECT_ATTEMPTS = 3
STATUS_INTERVAL_S = 1.0
REORDER_HOLD_S = 0.5
"""A batch that leaves a hole waits until this much newer data (and at least two notifications' worth) has
arrived for the hole to fill: a stack that delivers notifications out of order (BLE.md C.2) costs nothing,
a real gap is written that late."""
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"


@dataclass
class RecordStatus:
    """What the live status line shows."""

    elapsed_s: float = 0.0
    samples: int = 0
    lost_samples: int = 0
    gaps: int = 0
    reconnects: int = 0
    malformed_frames: int = 0
    duplicate_samples: int = 0
    sampling_rate_hz: float = 0.0
    battery_percent: int | None = None
    connected: bool = False
    finished: bool = False

    @property
    def effective_rate_hz(self) -> float:
        return self.samples / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def line(self) -> str:
        state = "done" if self.finished else "streaming" if self.connected else "connecting"
        battery = f"  battery {self.battery_percent} %" if self.battery_percent is not None else ""
        return (f"{clock_text(self.elapsed_s)}  {self.samples} samples  {self.effective_rate_hz:.1f} Hz  "
                f"gaps {self.gaps} ({self.lost_samples} lost)  reconnects {self.reconnects}{battery}  {state}")


def clock_text(seconds: float) -> str:
    """mm:ss.s, rounded once (179.96 s is 03:00.0, not 02:60.0)."""
    tenths = int(round(max(0.0, seconds) * 10))
    minutes, tenths = divmod(tenths, 600)
    return f"{minutes:02d}:{tenths // 10:02d}.{tenths % 10}"


@dataclass
class TimedSamples:
    first_index: int
    time_s: np.ndarray
    acc_g: np.ndarray


@dataclass
class SampleClock:
    """Places decoded batches on the device's sample grid: index and time from the device where it can.

    Batches with a device counter use it; batches with a timestamp use it at the nominal rate (a Polar
    timestamp marks the last sample of its frame). Batches with neither follow on from the previous one
    while the link holds; the first batch after a reconnect is placed by the host clock: the samples that
    fell due since the last batch arrived, less this batch's own, are the gap (exact within one frame).
    """

    rate_hz: float
    origin_ns: int | None = None
    host_speed: float = 1.0
    """Device seconds per host second: 1 for hardware; an emulator running faster than real time sets it."""
    _host_next_index: int | None = None
    _host_last_arrival_s: float = 0.0
    _relinked: bool = False

    def new_link(self) -> None:
        """The link was re-established: the next host-timed batch may follow a gap."""
        self._relinked = True

    def place(self, batch: AccBatch, arrival_s: float = 0.0) -> TimedSamples:
        n = len(batch)
        if batch.first_index is None and batch.last_timestamp_ns is None:
            first = self._host_index(n, arrival_s)
            return TimedSamples(first, (first + np.arange(n)) / self.rate_hz, batch.acc_g)
        if batch.first_index is not None:
            first = int(batch.first_index)
            time_s = (first + np.arange(n)) / self.rate_hz
        elif batch.last_timestamp_ns is not None:
            if self.origin_ns is None:
                self.origin_ns = batch.last_timestamp_ns - round((n - 1) * 1e9 / self.rate_hz)
            last_s = (batch.last_timestamp_ns - self.origin_ns) / 1e9
            first = round(last_s * self.rate_hz) - (n - 1)
            time_s = last_s - np.arange(n - 1, -1, -1) / self.rate_hz
        return TimedSamples(first, time_s, batch.acc_g)

    def _host_index(self, n: int, arrival_s: float) -> int:
        if self._host_next_index is None:
            first = 0
        elif self._relinked:
            due = round((arrival_s - self._host_last_arrival_s) * self.rate_hz * self.host_speed)
            first = self._host_next_index + max(0, due - n)
        else:
            first = self._host_next_index
        self._relinked = False
        self._host_next_index, self._host_last_arrival_s = first + n, arrival_s
        return first


@dataclass
class RecordResult:
    status: RecordStatus
    events: list[dict[str, Any]] = field(default_factory=list)


class Recorder:
    """Streams one device into a journal until `duration_s` of device time (or `wall_limit_s`) has passed."""

    def __init__(self, profile: DeviceProfile, journal: JournalWriter, *, duration_s: float,
                 rate_hz: float | None = None, range_g: float | None = None, wall_limit_s: float | None = None,
                 watchdog_s: float = DEFAULT_WATCHDOG_S, response_timeout_s: float = DEFAULT_RESPONSE_TIMEOUT_S,
                 client_kwargs: dict | None = None, on_status: Callable[[RecordStatus], None] | None = None,
                 device_speed: float = 1.0):
        self.profile = profile
        self.rate_and_range = (rate_hz, range_g)
        profile.session(rate_hz, range_g)          # refuse an unsupported rate or range before connecting
        self.rate_hz = float(rate_hz or profile.default_rate_hz)
        self.journal = journal
        self.duration_s = duration_s
        self.wall_limit_s = duration_s if wall_limit_s is None else wall_limit_s
        self.watchdog_s = watchdog_s
        self.response_timeout_s = response_timeout_s
        self.client_kwargs = client_kwargs or {}
        self.on_status = on_status
        self.status = RecordStatus(sampling_rate_hz=self.rate_hz)
        self.events: list[dict[str, Any]] = []
        self.clock = SampleClock(self.rate_hz, host_speed=device_speed)
        self.done = asyncio.Event()
        self.streaming = asyncio.Event()
        """Set while samples flow (tests await it to inject faults at the right moment)."""
        self._next_index: int | None = None
        self._held: list[TimedSamples] = []     # batches beyond a hole, oldest first
        self._largest_batch = 0
        self._last_time_s: float | None = None
        self._first_reading_s: float | None = None
        self._end_index = round(duration_s * self.rate_hz) if math.isfinite(duration_s) else 2 ** 62
        self._last_data_s = 0.0
        self._responses: asyncio.Queue[bytes] = asyncio.Queue()
        self._start_wall_s = 0.0
        self._last_status_s = 0.0
        self._connections = 0

    # ------------------------------------------------------------------ the session

    async def run(self, device: BLEDevice | str) -> RecordResult:
        """Record until done, reconnecting after every loss with backoff.

        Raises ControlPointError when the device refuses the configuration (retrying cannot help), and
        DeviceError when the first connection fails every attempt.
        """
        loop = asyncio.get_running_loop()
        self._start_wall_s = loop.time()
        deadline_s = self._start_wall_s + self.wall_limit_s
        failures = 0
        while not self.done.is_set() and loop.time() < deadline_s:
            try:
                await self._connect_and_stream(device, deadline_s)
                failures = 0
            except ControlPointError:
                raise
            except (BleakError, DeviceError, asyncio.TimeoutError, OSError) as exc:
                self._event("connection_failed", error=str(exc) or type(exc).__name__)
                if self._connections == 0 and failures >= len(BACKOFF_S):
                    raise DeviceError(f"could not record from {self._name(device)}: {exc}") from None
                backoff_s = BACKOFF_S[min(failures, len(BACKOFF_S) - 1)]
                await asyncio.sleep(min(backoff_s, max(0.0, deadline_s - loop.time())))
                failures += 1
        self.status.elapsed_s = (loop.time() - self._start_wall_s) * self.clock.host_speed   # device time
        self.status.finished = True
        self._report(force=True)
        return RecordResult(self.status, self.events)

    async def _connect_and_stream(self, device: BLEDevice | str, deadline_s: float) -> None:
        link_lost = asyncio.Event()       # one per connection: a late callback of an old client cannot end this one
        session = self.profile.session(*self.rate_and_range)
        if isinstance(device, str):
            device = BLEDevice(device, None, None)
        client = await establish_connection(BleakClient, device, device.name or device.address,
                                            disconnected_callback=lambda _: link_lost.set(),
                                            max_attempts=CONNECT_ATTEMPTS, **self.client_kwargs)
        try:
            self._connections += 1
            self.status.reconnects = self._connections - 1
            self._event("connected")
            self.status.connected = True
            await self._arm(client, session, link_lost)
            await self._watch(link_lost, deadline_s)
            if self.done.is_set() and client.is_connected:
                await self._disarm(client, session, link_lost)
        finally:
            self._flush_held()       # what came before the link went: nothing more will fill its holes
            self.status.connected = False
            self.streaming.clear()
            await self._release(client)

    async def _release(self, client: BleakClient) -> None:
        """Disconnect (if still connected) and free the client's resources; never raises."""
        try:
            await asyncio.wait_for(client.disconnect(), self.response_timeout_s)
        except (BleakError, asyncio.TimeoutError, OSError) as exc:
            self._event("disconnect_failed", error=str(exc) or type(exc).__name__)

    async def _arm(self, client: BleakClient, session: StreamSession, link_lost: asyncio.Event) -> None:
        """Subscribe (replies, then data), then send the start commands, checking each reply."""
        responses: asyncio.Queue[bytes] = asyncio.Queue()
        if self.profile.reply_uuid and self.profile.reply_uuid != self.profile.data_uuid:
            await client.start_notify(self.profile.reply_uuid, lambda _, data: responses.put_nowait(bytes(data)))

        def on_data(_, data: bytearray) -> None:
            if session.is_reply(data):
                responses.put_nowait(bytes(data))
            else:
                self._on_data(session, bytes(data))

        self.clock.new_link()
        await client.start_notify(self.profile.data_uuid, on_data)
        await self._read_battery(client)
        if self._next_index is not None:
            session.resume_from(self._next_index)
        for command in session.start_commands():
            await self._command(client, session, command, responses, link_lost)
        self._last_data_s = asyncio.get_running_loop().time()
        self._responses = responses

    async def _disarm(self, client: BleakClient, session: StreamSession, link_lost: asyncio.Event) -> None:
        try:
            for command in session.stop_commands():
                await self._command(client, session, command, self._responses, link_lost)
        except (BleakError, DeviceError, asyncio.TimeoutError) as exc:
            self._event("stop_failed", error=str(exc))

    async def _read_battery(self, client: BleakClient) -> None:
        """The Battery Level characteristic, where the device has one (shown in the status line)."""
        if client.services.get_characteristic(BATTERY_LEVEL_UUID) is None:
            return
        try:
            level = await asyncio.wait_for(client.read_gatt_char(BATTERY_LEVEL_UUID), self.response_timeout_s)
        except (BleakError, asyncio.TimeoutError, OSError) as exc:
            self._event("battery_unreadable", error=str(exc) or type(exc).__name__)
            return
        if level:
            self.status.battery_percent = int(level[0])
            self._event("battery", percent=self.status.battery_percent)

    async def _command(self, client: BleakClient, session: StreamSession, command: Command,
                       responses: asyncio.Queue[bytes], link_lost: asyncio.Event) -> None:
        """Write one command and digest its reply; DeviceError if the link drops or the reply never comes."""
        if not self.profile.control_uuid:
            return
        await client.write_gatt_char(self.profile.control_uuid, command.data, response=command.with_response)
        if not command.expects_reply:
            if command.settle_s:
                await asyncio.sleep(command.settle_s)
            return
        reply = asyncio.ensure_future(responses.get())
        lost = asyncio.ensure_future(link_lost.wait())
        try:
            await asyncio.wait({reply, lost}, timeout=self.response_timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            if not reply.done():
                reply.cancel()
        if not reply.done() or reply.cancelled():
            why = "the link dropped" if link_lost.is_set() else f"no reply within {self.response_timeout_s:g} s"
            raise DeviceError(f"control command {command.data.hex(' ')}: {why}")
        session.on_control_message(reply.result())

    async def _watch(self, link_lost: asyncio.Event, deadline_s: float) -> None:
        """Until done, the link is lost, the link goes silent for `watchdog_s`, or the wall deadline."""
        loop = asyncio.get_running_loop()
        lost = asyncio.ensure_future(link_lost.wait())
        done = asyncio.ensure_future(self.done.wait())
        try:
            while True:
                now = loop.time()
                if now >= deadline_s:
                    self.done.set()
                    return
                wake_s = min(deadline_s, self._last_data_s + self.watchdog_s, now + STATUS_INTERVAL_S)
                finished, _ = await asyncio.wait({lost, done}, timeout=max(0.0, wake_s - now),
                                                 return_when=asyncio.FIRST_COMPLETED)
                if done in finished:
                    return
                if lost in finished:
                    self._event("link_lost")
                    return
                self.status.elapsed_s = (loop.time() - self._start_wall_s) * self.clock.host_speed   # device time
                self._report()
                if loop.time() - self._last_data_s >= self.watchdog_s:
                    self._event("link_silent", seconds=self.watchdog_s)
                    return
        finally:
            lost.cancel()
            done.cancel()

    # ------------------------------------------------------------------ samples

    def _on_data(self, session: StreamSession, data: bytes) -> None:
        self._last_data_s = asyncio.get_running_loop().time()
        try:
            decoded = session.decode(data)
        except (FrameError, DeviceError) as exc:
            self.status.malformed_frames += 1
            self._event("malformed_frame", error=str(exc), bytes=len(data))
            return
        if isinstance(decoded, CadenceReading):
            self._append_reading(decoded, self._last_data_s)
        elif len(decoded):   # empty: the notification completed no sample (half a WitMotion packet, a register reply)
            self._accept(self.clock.place(decoded, self._last_data_s))

    def _accept(self, placed: TimedSamples) -> None:
        """Journal a batch that continues the stream at once; hold one that leaves a hole behind it, briefly,
        in case the missing batch is only late (out-of-order delivery)."""
        self._largest_batch = max(self._largest_batch, len(placed.time_s))
        if self._next_index is None or placed.first_index <= self._next_index:
            self._append(placed)
            while self._held and self._held[0].first_index <= self._next_index:
                self._append(self._held.pop(0))
            if not self._held:
                return
        else:
            self._held.append(placed)
            self._held.sort(key=lambda batch: batch.first_index)
        newest = max(batch.first_index + len(batch.time_s) for batch in self._held)
        hold = max(REORDER_HOLD_S * self.rate_hz, 2 * self._largest_batch)
        if newest - self._next_index > hold or newest >= self._end_index:
            self._flush_held()

    def _flush_held(self) -> None:
        """The hole did not fill: journal what was held, in order (the hole becomes a gap)."""
        held, self._held = self._held, []
        for batch in held:
            self._append(batch)

    def _append_reading(self, reading: CadenceReading, arrival_s: float) -> None:
        """Journal a reading at its arrival, in device seconds since the first reading; a pause of more
        than GAP_FACTOR periods counts as a gap (the readings due meanwhile as lost)."""
        if self._first_reading_s is None:
            self._first_reading_s = arrival_s
        time_s = (arrival_s - self._first_reading_s) * self.clock.host_speed
        index = round(time_s * self.rate_hz)           # the reading's place on the nominal grid
        if index >= self._end_index:
            self.done.set()
            return
        if self._last_time_s is not None and time_s - self._last_time_s > GAP_FACTOR / self.rate_hz:
            self.status.gaps += 1
            self.status.lost_samples += round((time_s - self._last_time_s) * self.rate_hz) - 1
        self.journal.append_cadence(time_s, reading)
        self.status.samples += 1
        self._last_time_s = time_s
        self.streaming.set()
        if index + 1 >= self._end_index:
            self.done.set()

    def _append(self, placed: TimedSamples) -> None:
        """Journal the new part of a batch; a jump in the index becomes a gap record."""
        n = len(placed.time_s)
        skip = 0 if self._next_index is None else max(0, self._next_index - placed.first_index)
        keep = max(0, min(n, self._end_index - placed.first_index) - skip)
        self.status.duplicate_samples += min(skip, n)
        if keep <= 0:
            if placed.first_index + n >= self._end_index:
                self.done.set()
            return
        first = placed.first_index + skip
        time_s, acc_g = placed.time_s[skip:skip + keep], placed.acc_g[skip:skip + keep]
        if self._next_index is not None and first > self._next_index:
            lost = first - self._next_index
            self.journal.append_gap(JournalGap(self._last_time_s, float(time_s[0]), lost, "samples missing"))
            self.status.gaps += 1
            self.status.lost_samples += lost
        self.journal.append_samples(first, time_s, acc_g)
        self.status.samples += keep
        self._next_index, self._last_time_s = first + keep, float(time_s[-1])
        self.streaming.set()
        if self._next_index >= self._end_index:
            self.done.set()

    # ------------------------------------------------------------------ reporting

    def _event(self, name: str, **details: Any) -> None:
        event = {"event": name, "wall_time": time.time(), **details}
        self.events.append(event)
        self.journal.append_event(event)
        log.info("%s %s", name, details)

    def _report(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.on_status is not None and (force or now - self._last_status_s >= STATUS_INTERVAL_S):
            self._last_status_s = now
            self.on_status(self.status)

    @staticmethod
    def _name(device: BLEDevice | str) -> str:
        return device if isinstance(device, str) else f"{device.name or '?'} ({device.address})"


async def find_device(name_or_address: str | None, profile: DeviceProfile | None = None, *,
                      timeout_s: float = DEFAULT_SCAN_TIMEOUT_S,
                      scanner_kwargs: dict | None = None) -> tuple[BLEDevice, DeviceProfile]:
    """The first advertising device with that name or address (else the first supported one), and its profile.

    The profile is `profile` when given (`--profile` overrides), else detected from the advertised name and
    services; DeviceError when nothing suitable advertises within `timeout_s`.
    """
    from .devices import detect_profile

    def wanted(device: BLEDevice, adv) -> bool:
        if name_or_address and name_or_address not in (device.name, adv.local_name, device.address):
            return False
        return (profile or detect_profile(adv.local_name or device.name, adv.service_uuids)) is not None

    seen: dict[str, Any] = {}

    def remember(device: BLEDevice, adv) -> bool:
        seen[device.address] = adv
        return wanted(device, adv)

    try:
        found = await BleakScanner.find_device_by_filter(remember, timeout=timeout_s, **(scanner_kwargs or {}))
    except (BleakError, OSError) as exc:
        raise DeviceError(f"cannot scan for BLE devices (no Bluetooth adapter or service?): {exc}") from None
    if found is None:
        what = name_or_address or (f"a {profile.key}" if profile else "a supported device")
        raise DeviceError(f"no device found: {what} did not advertise within {timeout_s:g} s")
    adv = seen[found.address]
    return found, profile or detect_profile(adv.local_name or found.name, adv.service_uuids)


@dataclass(frozen=True)
class ScanResult:
    """One advertising device: what `retrorun scan` lists."""

    name: str | None
    address: str
    rssi_dbm: int | None
    profile: str | None
    """The supported profile it matches (None: not a device retrorun can record)."""
    battery_percent: int | None = None


async def scan(timeout_s: float = 5.0, *, read_battery: bool = False, scanner_kwargs: dict | None = None,
               client_kwargs: dict | None = None) -> list[ScanResult]:
    """Every device advertising within `timeout_s`, supported ones first, then by signal strength.

    With `read_battery`, each supported device is connected to briefly and its Battery Level read (the
    wearables we support do not advertise it).
    """
    from .devices import detect_profile

    try:
        found = await BleakScanner.discover(timeout=timeout_s, return_adv=True, **(scanner_kwargs or {}))
    except (BleakError, OSError) as exc:
        raise DeviceError(f"cannot scan for BLE devices (no Bluetooth adapter or service?): {exc}") from None
    results = []
    for device, adv in found.values():
        name = adv.local_name or device.name
        profile = detect_profile(name, adv.service_uuids)
        battery = await _battery_of(device, client_kwargs or {}) if read_battery and profile else None
        results.append(ScanResult(name, device.address, adv.rssi, profile.key if profile else None, battery))
    return sorted(results, key=lambda r: (r.profile is None, -(r.rssi_dbm if r.rssi_dbm is not None else -999)))


async def _battery_of(device: BLEDevice, client_kwargs: dict) -> int | None:
    """The Battery Level of `device` (None when it has none or cannot be read)."""
    try:
        client = await establish_connection(BleakClient, device, device.name or device.address,
                                            max_attempts=1, **client_kwargs)
    except (BleakError, asyncio.TimeoutError, OSError):
        return None
    try:
        if client.services.get_characteristic(BATTERY_LEVEL_UUID) is None:
            return None
        level = await asyncio.wait_for(client.read_gatt_char(BATTERY_LEVEL_UUID), DEFAULT_RESPONSE_TIMEOUT_S)
        return int(level[0]) if level else None
    except (BleakError, asyncio.TimeoutError, OSError):
        return None
    finally:
        try:
            await asyncio.wait_for(client.disconnect(), DEFAULT_RESPONSE_TIMEOUT_S)
        except (BleakError, asyncio.TimeoutError, OSError):
            pass
