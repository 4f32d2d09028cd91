"""MbientLab MetaBase CSV exports of a MetaMotion / MetaWear accelerometer.

Layout: `epoch (ms),time (-13:00),elapsed (s),x-axis (g),y-axis (g),z-axis (g)`. The time column's name
carries the phone's UTC offset, so it is matched by pattern. `epoch (ms)` (Unix ms) times the samples:
it is an integer, so differences are exact; `elapsed (s)` is the fallback.
"""
from __future__ import annotations

import re
from datetime import timedelta, timezone

import pandas as pd

from ..errors import InputError
from .base import ImportOptions, Samples, Source, axes_matrix, axis_unit, read_table

NAME = "metabase"
TITLE = "MetaBase (MbientLab)"

EPOCH_COLUMN = r"epoch \(ms\)"
ELAPSED_COLUMN = r"elapsed \(s\)"
ZONE_COLUMN = re.compile(r"time \(([+-]?)(\d{1,2}):(\d{2})\)", re.I)
AXIS_PATTERN = r"{axis}-axis \([^)]*\)"


def detect(source: Source) -> bool:
    if source.kind != "file":
        return False
    names = [c.lower() for c in source.header_cells()]
    return any(re.fullmatch(EPOCH_COLUMN, c) or re.fullmatch(ELAPSED_COLUMN, c) for c in names) and \
        all(any(re.fullmatch(AXIS_PATTERN.format(axis=a), c) for c in names) for a in "xyz")


def read(source: Source, options: ImportOptions) -> Samples:
    table = read_table(source.read_bytes(), source.label())
    axes = tuple(table.find(AXIS_PATTERN.format(axis=a), what=f"{a}-axis") for a in "xyz")
    unit = axis_unit(table, axes)
    epoch = table.find(EPOCH_COLUMN, what="epoch", required=False)
    if epoch is not None:
        epoch_ms = table.numbers(epoch, integer=True)
        time_s, time_column, clock = (epoch_ms - epoch_ms[0]) / 1e3, epoch, f"{epoch} (Unix time, ms)"
        start_time = _local_iso(int(epoch_ms[0]), table.columns)
    else:
        time_column = table.find(ELAPSED_COLUMN, what="elapsed time")
        time_s, clock, start_time = table.numbers(time_column), f"{time_column} (no epoch column)", None
    if unit is None:
        raise InputError("no unit in the axis columns", path=table.label, line=table.header_line, column=axes[0],
                         expected="x-axis (g), y-axis (g), z-axis (g)")
    return Samples(table=table, time_s=time_s, time_column=time_column, acc=axes_matrix(table, axes), axes=axes,
                   read=f"{TITLE} accelerometer export ({', '.join(axes)})", clock=clock, file_unit=unit,
                   unit_source=f"header {axes[0]!r}", start_time=start_time)


def _local_iso(epoch_ms: int, columns: list[str]) -> str | None:
    """The first sample's time in the UTC offset named by the `time (+hh:mm)` column, else UTC."""
    try:
        stamp = pd.Timestamp(epoch_ms, unit="ms", tz="UTC")
    except (ValueError, OverflowError):
        return None
    for name in columns:
        match = ZONE_COLUMN.fullmatch(name)
        if match and int(match.group(2)) <= 14 and int(match.group(3)) < 60:
            sign = -1 if match.group(1) == "-" else 1
            offset = timedelta(hours=int(match.group(2)), minutes=int(match.group(3))) * sign
            stamp = stamp.tz_convert(timezone(offset))
            break
    return stamp.isoformat(timespec="milliseconds")
