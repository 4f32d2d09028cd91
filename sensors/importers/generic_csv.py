"""Any delimited text file with a time column and three acceleration columns.

The columns are chosen with `columns=(time, x, y, z)` (`--columns t,ax,ay,az`); without them a time
column (a name with 'time' or 'timestamp') and three columns ending in x, y, z are looked for, and an
ambiguous layout is refused with the columns listed. Delimiter, decimal separator, time unit and the
acceleration unit are detected when not stated, and what was detected is recorded.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import InputError
from .base import ImportOptions, Samples, Source, Table, axes_matrix, axis_unit, iso_times_ns, read_table

NAME = "generic_csv"
TITLE = "generic CSV"

TIME_UNIT_IN_NAME = re.compile(r"(?:[\[(]\s*|_)(ns|us|µs|ms|s)\s*[\])]?$", re.I)
SECONDS_PER_TIME_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0}
EPOCH_THRESHOLDS = ((1e17, "ns"), (1e14, "us"), (1e11, "ms"), (1e8, "s"))
"""A first time value above these is a Unix epoch in that unit (1e8 s is 1973; 2e9 s is 2033)."""


def detect(source: Source) -> bool:
    """Never claimed by detection: a generic layout is only read when asked for (--format or --columns)."""
    return False


def read(source: Source, options: ImportOptions) -> Samples:
    if source.kind != "file":
        raise InputError("a generic CSV must be a single file", path=source.label(),
                         expected="a .csv or .txt file (unzip it first)")
    table = read_table(source.read_bytes(), source.label())
    time_column, axes = _chosen_columns(table, options.columns)
    unit = axis_unit(table, axes)
    time_s, clock, start_time = _time_seconds(table, time_column)
    return Samples(table=table, time_s=time_s, time_column=time_column, acc=axes_matrix(table, axes), axes=axes,
                   read=f"{TITLE} ({time_column}; {', '.join(axes)})", clock=clock, file_unit=unit,
                   unit_source=f"header {axes[0]!r}" if unit else None, start_time=start_time)


def _chosen_columns(table: Table, columns) -> tuple[str, tuple[str, str, str]]:
    if columns is not None:
        chosen = [table.require(c, what=role) for c, role in zip(columns, ("time", "x", "y", "z"))]
        return chosen[0], tuple(chosen[1:])
    time_candidates = [c for c in table.columns if re.search(r"time|^t$|^t[_ (\[]", c, re.I)]
    axes = []
    for axis in "xyz":
        hits = [c for c in table.columns if re.search(rf"(^|[^a-z]|acc\w*|accel\w*){axis}$",
                                                      re.sub(r"\s*[\[(][^\])]*[\])]\s*$", "", c), re.I)]
        axes.append(hits)
    if len(time_candidates) != 1 or any(len(h) != 1 for h in axes):
        raise InputError("cannot tell which columns are time and x, y, z", path=table.label, line=table.header_line,
                         found=table.delimiter.join(table.columns)[:160],
                         expected="--columns TIME,X,Y,Z naming four of these columns")
    return time_candidates[0], (axes[0][0], axes[1][0], axes[2][0])


def _time_seconds(table: Table, column: str) -> tuple[np.ndarray, str, str | None]:
    """Seconds on the file's time column: ISO text, a unit in the header, or an epoch told by size."""
    series = table.frame[column]
    if series.dtype == object and not _looks_numeric(series, table.decimal):
        ns = iso_times_ns(table, column, "2024-03-17T19:48:52.325")
        return (ns - ns[0]) / 1e9, f"{column} (date and time text)", pd.Timestamp(int(ns[0])).isoformat()
    unit_match = TIME_UNIT_IN_NAME.search(column)
    values = table.numbers(column)
    first = float(values[0])
    epoch_unit = next((u for limit, u in EPOCH_THRESHOLDS if abs(first) >= limit), None)
    unit = unit_match.group(1).lower() if unit_match else (epoch_unit or "s")
    how = "from the header" if unit_match else ("detected: Unix epoch by size" if epoch_unit else "assumed seconds")
    relative = (values - values[0]) * SECONDS_PER_TIME_UNIT[unit]
    start_time = None
    if epoch_unit and (unit_match is None or unit == epoch_unit):
        try:
            start_time = pd.Timestamp(first * SECONDS_PER_TIME_UNIT[unit], unit="s", tz="UTC").isoformat()
        except (ValueError, OverflowError):
            start_time = None
    return relative, f"{column} in {unit} ({how})", start_time


def _looks_numeric(series: pd.Series, decimal: str) -> bool:
    head = series.dropna().astype(str).str.strip().head(20)
    if decimal == ",":
        head = head.str.replace(",", ".", regex=False)
    return bool(len(head)) and pd.to_numeric(head, errors="coerce").notna().mean() > 0.5
