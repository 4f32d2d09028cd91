"""An emulated Polar H10 / Verity Sense / OH1: a Bumble GATT server speaking PMD, serving a Recording.

The device answers the PMD control point (features read, settings query, start, stop, with real error
codes), and once started notifies ACC frames in the model's own format (H10: raw 16-bit mG; Verity Sense
and OH1: delta-compressed with a scale factor) at the requested rate, times `speed` (10 = ten times real
time, so tests stay short). Its clock runs from the first start: after a link drop, the samples that fell
due while the link was down are lost (a real Polar stops measuring on disconnect), and on restart it
resumes at its current time, so the client sees a timestamp jump of exactly the outage.

Every sample it notifies is kept in `sent` (sample index -> acceleration in g as quantised on the wire), so
tests compare what was received with what was sent, sample for sample.
"""
from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass, field

import numpy as np
from bumble import hci
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection
from bumble.gatt import Characteristic, CharacteristicValue, Service

from ..devices import polar_pmd as pmd
from ..devices.base import DeviceProfile, FrameError
from ..errors import DeviceError
from ..recording import Recording
from .backend import VirtualAir, address_text

DEFAULT_SAMPLES_PER_FRAME = 36
"""An H10 at 200 Hz sends about this many samples per notification at an MTU of 247."""
DEFAULT_START_TIMESTAMP_NS = 820_454_400_000_000_000
"""2026-01-01T00:00:00Z on the PMD clock (ns since 2000-01-01)."""
DELTA_FRAME_PROFILES = ("verity-sense", "polar-oh1")


@dataclass
class SentSamples:
    """What the emulator notified: sample indices and the accelerations they carry, in g."""

    index: list[np.ndarray] = field(default_factory=list)
    acc_g: list[np.ndarray] = field(default_factory=list)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.index:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 3))
        return np.concatenate(self.index), np.concatenate(self.acc_g)


def float32(value: float) -> float:
    """`value` as the float32 the wire carries."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


class EmulatedPolar:
    """A Polar PMD wearable on the virtual air, streaming `recording` (taken as consecutive samples)."""

    def __init__(self, air: VirtualAir, profile: DeviceProfile, recording: Recording, *, name: str | None = None,
                 speed: float = 1.0, samples_per_frame: int = DEFAULT_SAMPLES_PER_FRAME,
                 start_timestamp_ns: int = DEFAULT_START_TIMESTAMP_NS, refuse_start: pmd.Status | None = None,
                 drop_on_requests: tuple[int, ...] = ()):
        if profile.family != "polar-pmd":
            raise DeviceError(f"EmulatedPolar cannot emulate {profile.key}")
        self.profile = profile
        self.recording = recording
        self.name = name or f"{profile.name_prefixes[0]} EMU{len(recording) % 10000:04d}"
        self.speed = speed
        self.samples_per_frame = samples_per_frame
        self.start_timestamp_ns = start_timestamp_ns
        self.refuse_start = refuse_start
        self.drop_on_requests = list(drop_on_requests)
        """Op codes (consumed in order) on whose request the device drops the link instead of answering."""
        self.delta_frames = profile.key in DELTA_FRAME_PROFILES
        self.sent = SentSamples()
        self.lost_samples = 0
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
        self._counts = np.zeros((0, 3), dtype=np.int64)
        self._factor: float | None = None
        self._milestones: list[tuple[int, asyncio.Event]] = []
        self._build_gatt()

    # ------------------------------------------------------------------ setup

    def _build_gatt(self) -> None:
        self._control = Characteristic(
            pmd.PMD_CONTROL_UUID,
            Characteristic.Properties.READ | Characteristic.Properties.WRITE | Characteristic.Properties.INDICATE,
            Characteristic.READABLE | Characteristic.WRITEABLE,
            CharacteristicValue(read=self._read_features, write=self._on_control_write))
        self._data = Characteristic(pmd.PMD_DATA_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b"")
        self._device.add_service(Service(pmd.PMD_SERVICE_UUID, [self._control, self._data]))
        self._device.advertising_data = bytes(AdvertisingData([
            (AdvertisingData.FLAGS, bytes([0x06])),
            (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
            (AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS, UUID(pmd.PMD_SERVICE_UUID).to_bytes()),
        ]))
        self._device.on("connection", self._on_connection)

    @property
    def address(self) -> str:
        return address_text(self._device.random_address)

    async def start(self) -> None:
        """Power on and advertise (again after every disconnection)."""
        await self._device.power_on()
        await self._device.start_advertising(auto_restart=True, advertising_interval_min=20,
                                             advertising_interval_max=20)

    async def stop(self) -> None:
        self._stop_stream()
        if self._connection is not None:
            await self._connection.disconnect()
        await self._device.stop_advertising()
        await self._device.power_off()
        self._air.remove(self._controller)

    async def drop_link(self, reason: int = hci.HCI_CONNECTION_TIMEOUT_ERROR) -> None:
        """Lose the link from the device side (0x08 looks like a supervision timeout to the client)."""
        if self._connection is not None:
            await self._connection.disconnect(reason)

    async def send_raw(self, data: bytes) -> None:
        """Notify arbitrary bytes on the data characteristic (a malformed or foreign frame)."""
        if self._connection is not None:
            await self._device.notify_subscriber(self._connection, self._data, bytes(data))

    def stall(self) -> None:
        """Go silent with the link up (a zombie link): no more notifications until the stream is restarted."""
        self._stop_stream()

    def _on_connection(self, connection: Connection) -> None:
        self._connection = connection
        connection.on("disconnection", self._on_disconnection)

    def _on_disconnection(self, reason: int) -> None:
        self._connection = None
        self._stop_stream()

    # ------------------------------------------------------------------ control point

    def _read_features(self, connection: Connection) -> bytes:
        other = pmd.MeasurementType.PPG if self.delta_frames else pmd.MeasurementType.ECG   # optical / chest strap
        return pmd.encode_features({pmd.MeasurementType.ACC, other})

    def _on_control_write(self, connection: Connection, value: bytes) -> None:
        if self.drop_on_requests and value[:1] == bytes([self.drop_on_requests[0]]):
            self.drop_on_requests.pop(0)
            asyncio.get_running_loop().create_task(self.drop_link())   # a drop in the middle of the handshake
            return
        response, start = self._handle_request(bytes(value))
        asyncio.get_running_loop().create_task(self._respond(connection, response, start))

    def _handle_request(self, value: bytes) -> tuple[pmd.ControlResponse, bool]:
        """The response to one request, and whether streaming starts after it is sent."""
        try:
            request = pmd.decode_request(value)
        except FrameError:
            op = value[0] if value else 0
            return pmd.ControlResponse(op, value[1] & 0x3F if len(value) > 1 else 0, pmd.Status.INVALID_LENGTH), False
        op, mtype = request.op, request.measurement_type
        if op not in (pmd.OpCode.GET_SETTINGS, pmd.OpCode.START, pmd.OpCode.STOP):
            return pmd.ControlResponse(op, mtype, pmd.Status.INVALID_OP_CODE), False
        if mtype != pmd.MeasurementType.ACC:
            return pmd.ControlResponse(op, mtype, pmd.Status.NOT_SUPPORTED), False
        if op == pmd.OpCode.GET_SETTINGS:
            return pmd.ControlResponse(op, mtype, pmd.Status.SUCCESS, parameters=self._offered_settings()), False
        if op == pmd.OpCode.STOP:
            self._stop_stream()
            return pmd.ControlResponse(op, mtype, pmd.Status.SUCCESS), False
        return self._start_response(request), True

    def _offered_settings(self) -> pmd.Settings:
        return {pmd.SettingType.SAMPLE_RATE: tuple(int(r) for r in self.profile.rates_hz),
                pmd.SettingType.RESOLUTION: (16,),
                pmd.SettingType.RANGE: tuple(int(g) for g in self.profile.ranges_g)}

    def _start_response(self, request: pmd.ControlRequest) -> pmd.ControlResponse:
        def refuse(status: pmd.Status) -> pmd.ControlResponse:
            return pmd.ControlResponse(request.op, request.measurement_type, status)

        if self.refuse_start is not None:
            return refuse(self.refuse_start)
        if self._task is not None:
            return refuse(pmd.Status.ALREADY_IN_STATE)
        rate = request.settings.get(pmd.SettingType.SAMPLE_RATE, (None,))[0]
        range_g = request.settings.get(pmd.SettingType.RANGE, (None,))[0]
        if rate not in [int(r) for r in self.profile.rates_hz]:
            return refuse(pmd.Status.INVALID_SAMPLE_RATE)
        if range_g not in [int(g) for g in self.profile.ranges_g]:
            return refuse(pmd.Status.INVALID_RANGE)
        self._configure(float(rate), float(range_g))
        parameters = {pmd.SettingType.FACTOR: (self._factor,)} if self.delta_frames else {}
        return pmd.ControlResponse(request.op, request.measurement_type, pmd.Status.SUCCESS, parameters=parameters)

    def _configure(self, rate_hz: float, range_g: float) -> None:
        """Quantise the recording as this model puts it on the wire at this range (once, at the first start)."""
        if self._clock_start_s is not None:
            return
        self._rate_hz = rate_hz
        acc_g = np.clip(self.recording.acc_g, -range_g, range_g)
        if self.delta_frames:
            self._factor = float32(range_g / 32768.0)
            self._counts = np.clip(np.round(acc_g / self._factor), -32768, 32767).astype(np.int64)
        else:
            self._counts = np.round(acc_g * 1000.0).astype(np.int64)

    def counts_to_g(self, counts: np.ndarray) -> np.ndarray:
        return counts * self._factor if self.delta_frames else counts / 1000.0

    async def _respond(self, connection: Connection, response: pmd.ControlResponse, start: bool) -> None:
        try:
            await self._device.indicate_subscriber(connection, self._control, pmd.encode_response(response))
        except Exception:  # noqa: BLE001 - the link went away before the indication: the client will retry
            return
        if start and response.status == pmd.Status.SUCCESS and self._connection is connection:
            self._task = asyncio.get_running_loop().create_task(self._stream(connection))

    # ------------------------------------------------------------------ streaming

    def _stop_stream(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.streaming.clear()

    def _due_position(self, loop: asyncio.AbstractEventLoop) -> int:
        return int((loop.time() - self._clock_start_s) * self._rate_hz * self.speed)

    async def _stream(self, connection: Connection) -> None:
        loop = asyncio.get_running_loop()
        if self._clock_start_s is None:
            self._clock_start_s = loop.time()
        resume_at = min(max(self._position, self._due_position(loop)), len(self._counts))
        self.lost_samples += resume_at - self._position
        self._position = resume_at
        self.streaming.set()
        while self._position < len(self._counts):
            end = min(self._position + self.samples_per_frame, len(self._counts))
            due_s = self._clock_start_s + end / (self._rate_hz * self.speed)
            await asyncio.sleep(max(0.0, due_s - loop.time()))
            await self._send(connection, self._position, end)
            self._position = end
            self._mark_progress()
        self.finished.set()
        self.streaming.clear()

    async def _send(self, connection: Connection, first: int, end: int) -> None:
        counts = self._counts[first:end]
        for lo, hi, frame in self._frames(first, counts, connection.att_mtu - 3):
            await self._device.notify_subscriber(connection, self._data, frame)
            self.sent.index.append(np.arange(first + lo, first + hi))
            self.sent.acc_g.append(self.counts_to_g(counts[lo:hi]))

    def _frames(self, first: int, counts: np.ndarray, max_bytes: int) -> list[tuple[int, int, bytes]]:
        """Encoded frames for `counts` (split in halves until each fits the MTU): (lo, hi, bytes)."""
        last_timestamp_ns = self.start_timestamp_ns + round((first + len(counts) - 1) * 1e9 / self._rate_hz)
        frame = pmd.PmdFrame(pmd.MeasurementType.ACC, last_timestamp_ns, 0 if self.delta_frames else 1,
                             self.delta_frames, counts)
        data = pmd.encode_frame(frame)
        if len(data) <= max_bytes or len(counts) == 1:
            return [(0, len(counts), data)]
        half = len(counts) // 2
        head = self._frames(first, counts[:half], max_bytes)
        tail = self._frames(first + half, counts[half:], max_bytes)
        return head + [(lo + half, hi + half, d) for lo, hi, d in tail]

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

    @property
    def rate_hz(self) -> float:
        return self._rate_hz


async def start_simulated(profile: DeviceProfile, *, seconds: float, rate_hz: float | None = None,
                          placement: str = "shank", speed: float = 1.0, seed: int = 0,
                          air: VirtualAir | None = None) -> tuple[VirtualAir, EmulatedPolar]:
    """A powered, advertising emulated device serving a simulated backward run (sensors.simulate)."""
    from ..simulator import simulate

    rate_hz = profile.default_rate_hz if rate_hz is None else rate_hz
    air = air or VirtualAir()
    run = simulate(placement, "backward", sampling_rate_hz=rate_hz, duration_s=seconds + 2.0, seed=seed)
    device = EmulatedPolar(air, profile, run.recording, speed=speed)
    await device.start()
    return air, device
