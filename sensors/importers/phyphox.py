"""phyphox (RWTH Aachen) exports of the "Acceleration with g" and "Acceleration without g" experiments.

CSV: a zip or folder holding `Raw Data.csv` with `meta/time.csv` and `meta/device.csv`, or the CSV
alone. Headers are quoted: `"Time (s)","Acceleration x (m/s^2)",...` (with g) or `"Linear Acceleration x
(m/s^2)"` (without g). The export dialog offers comma, tab and semicolon dialects, with decimal point or
comma: both are detected. Excel: an .xlsx with the same columns in one sheet and the metadata in others.
`Time (s)` counts from the experiment start; `meta/time.csv` gives the wall clock of that start.
"""
from __future__ import annotations

import re
from datetime import timedelta, timezone

import pandas as pd

from ..errors import InputError
from . import xlsx
from .base import (ImportOptions, Samples, Source, Table, axes_matrix, axis_unit, read_table, table_from_frame,
                   table_from_rows)

NAME = "phyphox"
TITLE = "phyphox"

TIME_PATTERN = r"time \(s\)"
AXIS_PATTERN = r"(linear )?acceleration {axis} \([^)]*\)"
DATA_MEMBER = "Raw Data.csv"
TIME_MEMBER = "time.csv"
DEVICE_MEMBER = "device.csv"


def _is_data_header(cells: list[str]) -> bool:
    names = [c.lower() for c in cells]
    return bool(names) and re.fullmatch(TIME_PATTERN, names[0]) is not None and \
        all(any(re.fullmatch(AXIS_PATTERN.format(axis=a), c) for c in names) for a in "xyz")


def detect(source: Source) -> bool:
    if source.is_legacy_excel:
        return source.path.suffix.lower() == ".xls"
    if source.is_xlsx:
        return True
    if source.kind == "file":
        return _is_data_header(source.header_cells())
    return _data_member(source) is not None


def _data_member(source: Source) -> str | None:
    """`Raw Data.csv`, or any CSV in the export whose header is phyphox's (multi-sensor experiments)."""
    member = source.find(DATA_MEMBER)
    if member is not None and _is_data_header(source.header_cells(member)):
        return member
    for name in source.names:
        if name.lower().endswith(".csv") and "/meta/" not in f"/{name.lower()}" and \
                _is_data_header(source.header_cells(name)):
            return name
    return None


def read(source: Source, options: ImportOptions) -> Samples:
    if source.is_legacy_excel:
        raise InputError("legacy Excel (.xls) workbooks are not read", path=source.label(),
                         expected="phyphox's Excel export (.xlsx) or one of its CSV exports")
    if source.is_xlsx:
        table, events, device = _from_workbook(source)
    else:
        table, events, device = _from_csv(source)
    time_column = table.find(TIME_PATTERN, what="time")
    axes = tuple(table.find(AXIS_PATTERN.format(axis=a), what=f"acceleration {a}") for a in "xyz")
    unit = axis_unit(table, axes)
    linear = axes[0].lower().startswith("linear")
    time_s = table.numbers(time_column)
    start_time, notes = _start_time(events, float(time_s[0]))
    experiment = "Acceleration without g" if linear else "Acceleration with g"
    return Samples(table=table, time_s=time_s, time_column=time_column, acc=axes_matrix(table, axes), axes=axes,
                   read=f"{TITLE} '{experiment}' ({', '.join(axes)})",
                   clock="Time (s) (experiment time, from the start of the measurement)", file_unit=unit,
                   unit_source=f"header {axes[0]!r}",
                   gravity_removed="phyphox 'Acceleration without g' has gravity removed" if linear else None,
                   start_time=start_time, extra=device, notes=notes)


def _from_csv(source: Source) -> tuple[Table, list[tuple], dict]:
    member = None if source.kind == "file" else _data_member(source)
    if source.kind != "file" and member is None:
        raise InputError("no phyphox acceleration data in this export", path=source.label(),
                         found=", ".join(source.names[:8]) or "no files",
                         expected=f"'{DATA_MEMBER}' with Time (s) and Acceleration x/y/z columns")
    table = read_table(source.read_bytes(member), source.label(member))
    events, device = [], {}
    if source.kind != "file":
        events = _optional_table(source, TIME_MEMBER, _events_from_table)
        device = _optional_table(source, DEVICE_MEMBER, _device_from_table) or {}
    return table, events or [], device


def _optional_table(source: Source, basename: str, parse):
    """Metadata tables are provenance only: a missing or damaged one is simply not used."""
    member = source.find(basename)
    if member is None:
        return None
    try:
        return parse(read_table(source.read_bytes(member), source.label(member)))
    except (InputError, KeyError, ValueError, IndexError):
        return None


def _events_from_table(table: Table) -> list[tuple]:
    """(event, experiment time s, Unix time s, text) rows of meta/time.csv."""
    cols = {c.lower(): c for c in table.columns}
    frame = table.frame
    return [(str(frame[cols["event"]].iloc[i]), float(str(frame[cols["experiment time"]].iloc[i]).replace(",", ".")),
             float(str(frame[cols["system time"]].iloc[i]).replace(",", ".")),
             str(frame[cols.get("system time text", cols["event"])].iloc[i])) for i in range(len(frame))]


def _device_from_table(table: Table) -> dict:
    cols = {c.lower(): c for c in table.columns}
    pairs = dict(zip(table.frame[cols["property"]].astype(str), table.frame[cols["value"]].astype(str)))
    out = {}
    model = " ".join(p for p in (pairs.get("deviceBrand"), pairs.get("deviceModel")) if p and p != "nan")
    if model:
        out["device"] = model
    if pairs.get("version"):
        out["app_version"] = f"phyphox {pairs['version']}"
    return out


def _start_time(events: list[tuple], first_time_s: float) -> tuple[str | None, list[str]]:
    """Wall clock of the first sample from the START event; pauses are noted (phyphox time skips them)."""
    starts = [e for e in events if e[0].upper() == "START"]
    notes = []
    if len([e for e in events if e[0].upper() == "PAUSE"]) and len(starts) > 1:
        notes.append("the experiment was paused and resumed: Time (s) runs on across the pause, so wall-clock "
                     "times after it are later than start + Time (s)")
    if not starts:
        return None, notes
    _, experiment_s, system_s, text = starts[0]
    try:
        stamp = pd.Timestamp(system_s + first_time_s - experiment_s, unit="s", tz="UTC")
    except (ValueError, OverflowError):
        return None, notes
    match = re.search(r"UTC([+-])(\d{2}):(\d{2})", text)
    if match:
        offset = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        stamp = stamp.tz_convert(timezone(offset if match.group(1) == "+" else -offset))
    return stamp.isoformat(timespec="milliseconds"), notes


def _from_workbook(source: Source) -> tuple[Table, list[tuple], dict]:
    sheets = _workbook_rows(source)
    data = [sheet for sheet in sheets if _is_data_header([str(v or "") for v in sheet.first_row])]
    if not data:
        raise InputError("no phyphox acceleration sheet in this workbook", path=source.label(),
                         found="sheets " + ", ".join(repr(s.title) for s in sheets),
                         expected="a sheet with Time (s) and Acceleration x/y/z columns")
    table = _sheet_table(data[0], f"{source.path} (sheet {data[0].title!r})")
    events, device = [], {}
    for other in sheets:
        if other is data[0] or other.is_empty:
            continue
        header = {str(v or "").lower() for v in other.first_row}
        try:
            if {"event", "system time"} <= header:
                events = _events_from_table(table_from_rows(other.rows, other.title))
            elif {"property", "value"} <= header:
                device = _device_from_table(table_from_rows(other.rows, other.title))
        except (InputError, KeyError, ValueError, IndexError):
            pass  # metadata sheets are provenance only
    return table, events, device


def _sheet_table(sheet: xlsx.Sheet, label: str) -> Table:
    """The data sheet as a Table; an all-numeric body goes straight from the reader's float array to
    the frame (a tuple per row would cost more than reading the sheet)."""
    header = ["" if v is None else str(v) for v in sheet.first_row]
    body = sheet.numeric_body(skip=1)
    if body is None or body.shape[1] != len(header):
        return table_from_rows(sheet.rows, label)
    # the same checks and clean-up table_from_rows applies to its frame
    return table_from_frame(pd.DataFrame(body, columns=header, copy=False), label)


def _workbook_rows(source: Source) -> list[xlsx.Sheet]:
    """Every sheet of the workbook: title, rows, and the numeric bulk as an array (sensors/importers/xlsx.py)."""
    return xlsx.read_workbook(source.path, label=source.label())
