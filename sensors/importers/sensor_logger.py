"""Sensor Logger (Kelvin Choi; Android and iOS): an export zip, the unzipped folder, or one of its CSVs.

Every sensor CSV has the header `time,seconds_elapsed,z,y,x` (note the z, y, x order): `time` is the
Unix epoch in ns, `seconds_elapsed` seconds since the recording started, values in m/s^2.
`TotalAcceleration.csv` includes gravity; `Accelerometer.csv` usually has it removed (Android's linear
acceleration); `AccelerometerUncalibrated.csv` is raw with gravity. `Metadata.csv` names device and app.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from ..errors import InputError
from .base import ImportOptions, Samples, Source, axes_matrix, backward_jumps, has_gravity, read_table

NAME = "sensor_logger"
TITLE = "Sensor Logger"

STREAMS = (
    ("TotalAcceleration.csv", "total acceleration (gravity included)"),
    ("Accelerometer.csv", "accelerometer"),
    ("AccelerometerUncalibrated.csv", "uncalibrated accelerometer (gravity included)"),
)
"""Members that hold acceleration, best first: total acceleration is gravity-inclusive by definition."""

DOCUMENTED_UNIT = "m/s^2"
METADATA_FIELDS = {"device name": "device", "platform": "platform", "appVersion": "app_version"}


def _is_stream_header(cells: list[str]) -> bool:
    names = {c.lower() for c in cells}
    return "seconds_elapsed" in names and {"x", "y", "z"} <= names


def detect(source: Source) -> bool:
    if source.kind == "file":
        return _is_stream_header(source.header_cells())
    # any sensor CSV of the export will do: an export without acceleration is still Sensor Logger's,
    # and read() then says what is missing
    csvs = [n for n in source.names if n.lower().endswith(".csv") and "metadata" not in n.lower()]
    return any(_is_stream_header(source.header_cells(m)) for m in _stream_members(source) + csvs[:20])


def _stream_members(source: Source) -> list[str]:
    return [m for m in (source.find(name) for name, _ in STREAMS) if m is not None]


def read(source: Source, options: ImportOptions) -> Samples:
    candidates = [None] if source.kind == "file" else _stream_members(source)
    if not candidates:
        raise InputError("no accelerometer data in this Sensor Logger export", path=source.label(),
                         found=", ".join(source.names[:8]) or "no files",
                         expected="TotalAcceleration.csv or Accelerometer.csv (enable the accelerometer in the app)")
    first = None
    for member in candidates:
        samples = _read_stream(source, member)
        # a stated unit means the user accepts what they have: take the best stream as it is
        if options.units is not None or has_gravity(samples.acc, samples.time_s - samples.time_s[0]):
            return _with_metadata(samples, source)
        first = first or samples
    first.gravity_removed = (f"Sensor Logger's {_stream_name(first.table.label)} has gravity removed "
                             "and the export has no TotalAcceleration.csv")
    return _with_metadata(first, source)


def _stream_name(label: str) -> str:
    return label.replace("\\", "/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def _read_stream(source: Source, member: str | None) -> Samples:
    table = read_table(source.read_bytes(member), source.label(member))
    by_lower = {c.lower(): c for c in table.columns}
    missing = [c for c in ("x", "y", "z") if c not in by_lower]
    if missing or ("seconds_elapsed" not in by_lower and "time" not in by_lower):
        raise InputError("not a Sensor Logger sensor file", path=table.label, line=table.header_line,
                         found=",".join(table.columns)[:120], expected="time,seconds_elapsed,z,y,x")
    axes = (by_lower["x"], by_lower["y"], by_lower["z"])
    acc = axes_matrix(table, axes)
    epoch_ns = table.numbers(by_lower["time"], integer=True) if "time" in by_lower else None
    if "seconds_elapsed" in by_lower:
        time_column = by_lower["seconds_elapsed"]
        time_s = table.numbers(time_column)
        clock = "seconds_elapsed (the sensor's event clock)"
        notes = backward_jumps(epoch_ns / 1e9, table, by_lower["time"]) if epoch_ns is not None else []
    else:
        time_column, time_s, notes = by_lower["time"], (epoch_ns - epoch_ns[0]) / 1e9, []
        clock = "time (Unix epoch ns; no seconds_elapsed column)"
    stream = _stream_name(table.label)
    what = dict(STREAMS).get(stream, "a sensor CSV")
    return Samples(table=table, time_s=time_s, time_column=time_column, acc=acc, axes=axes,
                   read=f"{TITLE} {stream}: {what}; columns z,y,x reordered to x,y,z", clock=clock,
                   file_unit=DOCUMENTED_UNIT, unit_source="Sensor Logger's documented unit",
                   start_time=None if epoch_ns is None else str(int(epoch_ns[0])), notes=notes)


def _with_metadata(samples: Samples, source: Source) -> Samples:
    """Device and app from Metadata.csv (provenance only: a damaged one is noted, never fatal)."""
    fields = {}
    member = None if source.kind == "file" else source.find("Metadata.csv")
    if member is not None:
        try:
            meta = read_table(source.read_bytes(member), source.label(member), delimiter=",")
            fields = {k: meta.cell(k, 0) for k in list(METADATA_FIELDS) + ["recording timezone"] if k in meta.columns}
        except InputError as exc:
            samples.notes.append(f"Metadata.csv not read ({exc.what})")
    for key, name in METADATA_FIELDS.items():
        if fields.get(key):
            samples.extra[name] = fields[key]
    samples.start_time = _local_iso(samples.start_time, fields.get("recording timezone"), samples)
    return samples


def _local_iso(epoch_ns_text: str | None, zone: str | None, samples: Samples) -> str | None:
    if epoch_ns_text is None:
        return None
    try:
        stamp = pd.Timestamp(int(epoch_ns_text), unit="ns", tz="UTC")
    except (ValueError, OverflowError):
        samples.notes.append("the time column is not a usable Unix epoch; start time unknown")
        return None
    if zone:
        try:
            stamp = stamp.tz_convert(ZoneInfo(zone))
        except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
            samples.notes.append(f"time zone {zone!r} unknown here; start time given in UTC")
    return stamp.isoformat(timespec="milliseconds")

