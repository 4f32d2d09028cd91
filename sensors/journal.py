"""The crash-safe recording journal: samples go to disk as they arrive, and any journal rebuilds a Recording.

A journal is an append-only binary file (docs/ble.md, "The journal")::

    magic  b"RRJOURNAL\\x00\\x01\\n" (12 bytes)
    record*  sync b"\\xa5\\x5a" | kind u8 | length u32 | payload | crc32 u32 (of kind, length, payload)

Kinds: HEADER (JSON: placement, device, sampling_rate_hz, start_time, metadata), SAMPLES (a frame of
consecutive samples: first sample index u64, count u32, then count float64 times and count x 3 float64
accelerations in g), GAP (start_s f64, end_s f64, lost_samples u64, then a UTF-8 reason), EVENT (JSON: a
disconnect, a reconnect, a malformed frame...), END (a clean close) and CADENCE (one reading of a profile
without acceleration, an RSC foot pod: time_s, cadence_spm, speed_mps, stride_m, distance_m as f64, NaN
when not sent, then running i8: 1, 0, or -1 when not stated). A journal of CADENCE records recovers as a
cadence track (sensors.cadence) instead of a recording. Every record is written with one
`os.write` (no user-space buffer, so a killed process loses nothing already appended) and the file is
fsync'd at least every `fsync_interval_s` (so a crashed machine loses at most that long).

Recovery reads records until the file ends; a torn or corrupted record is skipped by searching for the next
sync marker whose record checks out, so a truncated or garbage tail costs only the records it touches.
"""
from __future__ import annotations

import json
import os
import struct
import time
import zlib
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from .cadence import DEFAULT_PLACEMENT, CadenceTrack, readings_track
from .devices.base import CadenceReading
from .errors import InputError
from .recording import PLACEMENTS, Recording, check_placement

MAGIC = b"RRJOURNAL\x00\x01\n"
SYNC = b"\xa5\x5a"
RECORD_HEAD = struct.Struct("<2sBI")      # sync, kind, payload length
RECORD_CRC = struct.Struct("<I")
SAMPLES_HEAD = struct.Struct("<QI")       # first sample index, sample count
GAP_HEAD = struct.Struct("<ddQ")          # start_s, end_s, lost samples
CADENCE_RECORD = struct.Struct("<5db")    # time_s, cadence_spm, speed_mps, stride_m, distance_m, running
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024
"""A record longer than this is corruption, not data (a frame is a few hundred samples at most)."""

MAX_SAMPLE_INDEX = 2 ** 62
"""Indices are stored as u64 but handled as int64; anything this large is corruption."""
DEFAULT_FSYNC_INTERVAL_S = 1.0
"""Issue 3: killing the recorder (or the machine) loses at most the last second."""


class RecordKind(IntEnum):
    HEADER = 1
    SAMPLES = 2
    GAP = 3
    EVENT = 4
    END = 5
    CADENCE = 6


@dataclass(frozen=True)
class JournalGap:
    """A stretch the recorder knows it lost: the last sample before, the first after, and why."""

    start_s: float
    end_s: float
    lost_samples: int
    reason: str


@dataclass
class RecoveredJournal:
    """What a journal holds: the recording (or, from a profile without acceleration, the cadence track), and
    how cleanly it was written."""

    recording: Recording | None
    clean_end: bool
    """True when the recorder closed the journal (an END record); False after a crash or kill."""
    gap_records: list[JournalGap]
    events: list[dict[str, Any]]
    duplicate_samples: int
    """Samples received twice (a device replaying its backlog) and kept once."""
    discarded_bytes: int
    """Bytes of torn or corrupted records that were skipped."""
    cadence: CadenceTrack | None = None
    """The readings of a journal of CADENCE records (then `recording` is None)."""

    @property
    def track(self) -> Recording | CadenceTrack:
        """What the journal recorded: the recording, else the cadence track."""
        return self.recording if self.recording is not None else self.cadence


# --------------------------------------------------------------------------------------------- writing

def encode_record(kind: RecordKind, payload: bytes) -> bytes:
    """One journal record: sync, kind, length, payload, CRC-32 of kind+length+payload."""
    head = RECORD_HEAD.pack(SYNC, int(kind), len(payload))
    return head + payload + RECORD_CRC.pack(zlib.crc32(head[2:] + payload))


def encode_samples(first_index: int, time_s: np.ndarray, acc_g: np.ndarray) -> bytes:
    """The payload of a SAMPLES record."""
    time_s = np.ascontiguousarray(time_s, dtype="<f8").reshape(-1)
    acc_g = np.ascontiguousarray(acc_g, dtype="<f8").reshape(-1, 3)
    if len(time_s) != len(acc_g):
        raise InputError("time and acceleration differ in length", found=f"{len(time_s)} and {len(acc_g)}",
                         expected="equal")
    return SAMPLES_HEAD.pack(first_index, len(time_s)) + time_s.tobytes() + acc_g.tobytes()


def encode_gap(gap: JournalGap) -> bytes:
    return GAP_HEAD.pack(gap.start_s, gap.end_s, gap.lost_samples) + gap.reason.encode()


def encode_cadence(time_s: float, reading: CadenceReading) -> bytes:
    """The payload of a CADENCE record."""
    def f(value: float | None) -> float:
        return float("nan") if value is None else float(value)

    running = -1 if reading.running is None else int(bool(reading.running))
    return CADENCE_RECORD.pack(float(time_s), f(reading.cadence_spm), f(reading.speed_mps), f(reading.stride_m),
                               f(reading.distance_m), running)


class JournalWriter:
    """Appends records to a journal file; fsyncs at least every `fsync_interval_s`.

    `clock_s` (monotonic seconds) is injectable so tests can drive the fsync schedule without sleeping.
    """

    def __init__(self, path: str | Path, *, sampling_rate_hz: float, placement: str | None = None,
                 device: str | None = None, start_time: str | None = None, metadata: dict | None = None,
                 fsync_interval_s: float = DEFAULT_FSYNC_INTERVAL_S,
                 clock_s: Callable[[], float] = time.monotonic):
        check_placement(placement)
        self.path = Path(path)
        self.fsync_interval_s = fsync_interval_s
        self._clock_s = clock_s
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            raise InputError("a journal already exists (recover it with `retrorun recover`, or delete it)",
                             path=self.path) from None
        except OSError as exc:
            raise InputError("cannot create journal", path=self.path, found=exc.strerror) from None
        self.fsync_count = 0
        self.samples_written = 0
        header = {"placement": placement, "device": device, "sampling_rate_hz": sampling_rate_hz,
                  "start_time": start_time, "metadata": metadata or {}}
        self._write(MAGIC + encode_record(RecordKind.HEADER, json.dumps(header).encode()))
        self.sync()

    def append_samples(self, first_index: int, time_s: np.ndarray, acc_g: np.ndarray) -> None:
        """Append one frame of consecutive samples (indices first_index, first_index+1, ...)."""
        payload = encode_samples(first_index, time_s, acc_g)
        self._write(encode_record(RecordKind.SAMPLES, payload))
        self.samples_written += len(np.atleast_1d(time_s))
        self._maybe_sync()

    def append_cadence(self, time_s: float, reading: CadenceReading) -> None:
        """Append one reading of a profile without acceleration, at `time_s` from the first."""
        self._write(encode_record(RecordKind.CADENCE, encode_cadence(time_s, reading)))
        self._maybe_sync()

    def append_gap(self, gap: JournalGap) -> None:
        self._write(encode_record(RecordKind.GAP, encode_gap(gap)))
        self._maybe_sync()

    def append_event(self, event: dict[str, Any]) -> None:
        """A logged happening (disconnect, reconnect, malformed frame); JSON-serialisable."""
        self._write(encode_record(RecordKind.EVENT, json.dumps(event, default=str).encode()))
        self._maybe_sync()

    def sync(self) -> None:
        os.fsync(self._fd)
        self.fsync_count += 1
        self._last_sync_s = self._clock_s()

    def close(self) -> None:
        """Write the END record, fsync and close. Idempotent."""
        if self._fd is None:
            return
        self._write(encode_record(RecordKind.END, b""))
        self.sync()
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> "JournalWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]

    def _maybe_sync(self) -> None:
        if self._clock_s() - self._last_sync_s >= self.fsync_interval_s:
            self.sync()


# --------------------------------------------------------------------------------------------- reading

@dataclass
class _Frames:
    index: list[np.ndarray] = field(default_factory=list)
    time_s: list[np.ndarray] = field(default_factory=list)
    acc_g: list[np.ndarray] = field(default_factory=list)


def iter_records(data: bytes, start: int = len(MAGIC)) -> Iterator[tuple[RecordKind, bytes] | int]:
    """Valid records as (kind, payload); skipped garbage as an int (the number of bytes skipped)."""
    pos = start
    while pos < len(data):
        record = _record_at(data, pos)
        if record is not None:
            kind, payload, end = record
            yield kind, payload
            pos = end
            continue
        nxt = data.find(SYNC, pos + 1)
        nxt = len(data) if nxt < 0 else nxt
        yield nxt - pos
        pos = nxt


def _record_at(data: bytes, pos: int) -> tuple[RecordKind, bytes, int] | None:
    if pos + RECORD_HEAD.size + RECORD_CRC.size > len(data):
        return None
    sync, kind, length = RECORD_HEAD.unpack_from(data, pos)
    end = pos + RECORD_HEAD.size + length + RECORD_CRC.size
    if sync != SYNC or length > MAX_PAYLOAD_BYTES or end > len(data):
        return None
    payload = data[pos + RECORD_HEAD.size:end - RECORD_CRC.size]
    (crc,) = RECORD_CRC.unpack_from(data, end - RECORD_CRC.size)
    if crc != zlib.crc32(data[pos + 2:pos + RECORD_HEAD.size] + payload) or kind not in RecordKind._value2member_map_:
        return None
    return RecordKind(kind), payload, end


def decode_samples(payload: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sample_index, time_s, acc_g) of a SAMPLES payload; InputError if its length does not add up."""
    if len(payload) < SAMPLES_HEAD.size:
        raise InputError("journal samples record too short", found=f"{len(payload)} bytes")
    first, count = SAMPLES_HEAD.unpack_from(payload)
    if first > MAX_SAMPLE_INDEX:
        raise InputError("journal sample index out of range", found=str(first), expected=f"at most {MAX_SAMPLE_INDEX}")
    if len(payload) != SAMPLES_HEAD.size + 32 * count:
        raise InputError("journal samples record has the wrong length", found=f"{len(payload)} bytes",
                         expected=f"{SAMPLES_HEAD.size + 32 * count} for {count} samples")
    body = payload[SAMPLES_HEAD.size:]
    time_s = np.frombuffer(body, dtype="<f8", count=count).astype(np.float64)
    acc_g = np.frombuffer(body, dtype="<f8", offset=8 * count).astype(np.float64).reshape(count, 3)
    index = np.arange(count, dtype=np.int64) + np.int64(first)
    return index, time_s, acc_g


def decode_gap(payload: bytes) -> JournalGap:
    if len(payload) < GAP_HEAD.size:
        raise InputError("journal gap record too short", found=f"{len(payload)} bytes")
    start_s, end_s, lost = GAP_HEAD.unpack_from(payload)
    return JournalGap(start_s, end_s, lost, payload[GAP_HEAD.size:].decode("utf-8", "replace"))


def decode_cadence(payload: bytes) -> tuple[float, CadenceReading]:
    """(time_s, reading) of a CADENCE payload; InputError if its length is wrong."""
    if len(payload) != CADENCE_RECORD.size:
        raise InputError("journal cadence record has the wrong length", found=f"{len(payload)} bytes",
                         expected=str(CADENCE_RECORD.size))
    time_s, cadence, speed, stride, distance, running = CADENCE_RECORD.unpack(payload)

    def opt(value: float) -> float | None:
        return None if np.isnan(value) else value

    return time_s, CadenceReading(cadence, speed, opt(stride), opt(distance), None if running < 0 else bool(running))


def _decode_json(payload: bytes, what: str) -> dict:
    try:
        value = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"journal {what} record is not JSON", found=str(exc)) from None
    if not isinstance(value, dict):
        raise InputError(f"journal {what} record is not a JSON object", found=type(value).__name__)
    return value


def recover(path: str | Path) -> RecoveredJournal:
    """Rebuild the recording a journal holds, even a truncated or partly corrupted one.

    Samples are ordered by sample index and a sample received twice is kept once; a sample whose time
    does not increase is dropped (counted in metadata). Gaps are every jump in the sample index plus every
    GAP record not already covered. Raises InputError when the file is not a journal or holds no samples.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError("cannot read journal", path=path, found=exc.strerror) from None
    if not data.startswith(MAGIC):
        raise InputError("not a retrorun journal", path=path, found=repr(data[:len(MAGIC)]),
                         expected=f"a file starting with {MAGIC!r}")
    header: dict | None = None
    frames, gap_records, events, readings = _Frames(), [], [], []
    clean_end, discarded = False, 0
    for item in iter_records(data):
        if isinstance(item, int):
            discarded += item
            continue
        kind, payload = item
        try:
            if kind is RecordKind.HEADER and header is None:
                header = _decode_json(payload, "header")
            elif kind is RecordKind.SAMPLES:
                index, time_s, acc_g = decode_samples(payload)
                frames.index.append(index)
                frames.time_s.append(time_s)
                frames.acc_g.append(acc_g)
            elif kind is RecordKind.GAP:
                gap_records.append(decode_gap(payload))
            elif kind is RecordKind.EVENT:
                events.append(_decode_json(payload, "event"))
            elif kind is RecordKind.CADENCE:
                readings.append(decode_cadence(payload))
            elif kind is RecordKind.END:
                clean_end = True
        except InputError:
            discarded += len(payload)
    if header is None:
        raise InputError("journal has no readable header", path=path)
    if readings and not frames.index:
        return RecoveredJournal(None, clean_end, gap_records, events, 0, discarded,
                                cadence=_cadence_track(path, header, readings, clean_end, discarded))
    if not frames.index:
        raise InputError("journal holds no samples", path=path)
    return _assemble(path, header, frames, gap_records, events, clean_end, discarded)


def _assemble(path: Path, header: dict, frames: _Frames, gap_records: list[JournalGap], events: list[dict],
              clean_end: bool, discarded: int) -> RecoveredJournal:
    index = np.concatenate(frames.index)
    time_s = np.concatenate(frames.time_s)
    acc_g = np.concatenate(frames.acc_g)
    order = np.argsort(index, kind="stable")
    index, time_s, acc_g = index[order], time_s[order], acc_g[order]
    unique = np.concatenate([[True], np.diff(index) != 0])
    duplicates = int(np.count_nonzero(~unique))
    index, time_s, acc_g = index[unique], time_s[unique], acc_g[unique]
    keep = _increasing_finite_mask(time_s) & np.all(np.isfinite(acc_g), axis=1)
    dropped = int(np.count_nonzero(~keep))
    index, time_s, acc_g = index[keep], time_s[keep], acc_g[keep]
    if len(time_s) == 0:
        raise InputError("journal holds no usable samples", path=path)
    rate_hz = header.get("sampling_rate_hz")
    rate_hz = float(rate_hz) if isinstance(rate_hz, (int, float)) and np.isfinite(rate_hz) and rate_hz > 0 else None
    placement = header.get("placement") if header.get("placement") in PLACEMENTS else None
    metadata = dict(header.get("metadata") or {}) if isinstance(header.get("metadata"), dict) else {}
    if header.get("device"):
        metadata["device"] = str(header["device"])
    metadata.update({"journal_clean_end": clean_end,
                     "journal_duplicate_samples": duplicates, "journal_dropped_samples": dropped,
                     "journal_discarded_bytes": discarded,
                     "lost_samples": int(index[-1] - index[0] + 1 - len(index))})
    start_time = header.get("start_time") if isinstance(header.get("start_time"), str) else None
    gaps = gaps_from_indices(index, time_s)
    gaps = _merge_gap_records(gaps, gap_records, time_s)
    recording = Recording(time_s=time_s - time_s[0], acc_g=acc_g, placement=placement,
                          sampling_rate_hz=rate_hz, start_time=start_time, metadata=metadata,
                          gaps=[(s - time_s[0], e - time_s[0]) for s, e in gaps])
    return RecoveredJournal(recording, clean_end, gap_records, events, duplicates, discarded)


def _cadence_track(path: Path, header: dict, readings: list[tuple[float, CadenceReading]], clean_end: bool,
                   discarded: int) -> CadenceTrack:
    """The readings in time order, those whose time is not finite or does not increase dropped (counted)."""
    readings = sorted(readings, key=lambda r: r[0])
    time_s = np.array([t for t, _ in readings])
    values_ok = np.array([np.isfinite([r.cadence_spm, r.speed_mps]).all() for _, r in readings])
    keep = _increasing_finite_mask(time_s) & values_ok
    kept = [r for r, k in zip(readings, keep) if k]
    if not kept:
        raise InputError("journal holds no usable readings", path=path)
    placement = header.get("placement") if header.get("placement") in PLACEMENTS else DEFAULT_PLACEMENT
    metadata = dict(header.get("metadata") or {}) if isinstance(header.get("metadata"), dict) else {}
    if header.get("device"):
        metadata["device"] = str(header["device"])
    metadata.update({"journal_clean_end": clean_end, "journal_dropped_readings": int(len(readings) - len(kept)),
                     "journal_discarded_bytes": discarded})
    start_time = header.get("start_time") if isinstance(header.get("start_time"), str) else None
    times = np.array([t for t, _ in kept])
    return readings_track(times - times[0], [r for _, r in kept], placement=placement, start_time=start_time,
                          metadata=metadata)


def _increasing_finite_mask(time_s: np.ndarray) -> np.ndarray:
    """Keep each sample whose time is finite and later than every kept sample before it."""
    finite = np.isfinite(time_s)
    running_max = np.maximum.accumulate(np.where(finite, time_s, -np.inf))
    previous_max = np.concatenate([[-np.inf], running_max[:-1]])
    return finite & (time_s > previous_max)


def gaps_from_indices(index: np.ndarray, time_s: np.ndarray) -> list[tuple[float, float]]:
    """(last sample before, first sample after) of every jump in the sample index."""
    jumps = np.flatnonzero(np.diff(index) > 1)
    return [(float(time_s[i]), float(time_s[i + 1])) for i in jumps]


def _merge_gap_records(gaps: list[tuple[float, float]], records: list[JournalGap],
                       time_s: np.ndarray) -> list[tuple[float, float]]:
    merged = list(gaps)
    lo, hi = float(time_s[0]), float(time_s[-1])
    for rec in records:
        if not (np.isfinite(rec.start_s) and np.isfinite(rec.end_s)) or rec.end_s <= rec.start_s:
            continue
        if rec.end_s < lo or rec.start_s > hi:
            continue
        if not any(s <= rec.end_s and rec.start_s <= e for s, e in merged):
            merged.append((rec.start_s, rec.end_s))
    return sorted(merged)


def finalise(journal_path: str | Path, output_path: str | Path) -> RecoveredJournal:
    """Recover a journal and write it as a canonical recording (`.csv` or `.npz`, atomically), or as the
    cadence CSV when it holds readings."""
    recovered = recover(journal_path)
    recovered.track.save(output_path)
    return recovered
