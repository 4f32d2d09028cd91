"""Physics Toolbox Sensor Suite (Vieyra Software) g-force meter exports.

Layout: `time;gFx;gFy;gFz;TgF` in a phone with a comma-decimal locale (`-0,1207`), `time,gFx,...` with
decimal points elsewhere. `time` is the wall clock `HH:MM:SS:ffff` without a date (the date is only in the
file name `YYYY-MM-DDhh.mm.ss.csv`); values in g with gravity (`TgF` is the magnitude). The linear
accelerometer recording (`time;ax;ay;az;aT`, m/s^2, gravity removed) is recognised and refused unless the
unit is stated. Sampling is irregular (2-40 ms between samples).
"""
from __future__ import annotations

import re

import numpy as np

from ..errors import InputError
from .base import ImportOptions, Samples, Source, Table, axes_matrix, read_table

NAME = "physics_toolbox"
TITLE = "Physics Toolbox Sensor Suite"

GFORCE_AXES = ("gFx", "gFy", "gFz")
LINEAR_AXES = ("ax", "ay", "az")
SECONDS_PER_DAY = 86400.0
MIDNIGHT_JUMP_S = 12 * 3600.0
"""A wall clock that falls back by more than half a day crossed midnight; anything less is an error."""

FILE_NAME_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(\d{2})\.(\d{2})\.(\d{2})")


def _axes_in(cells: list[str]) -> tuple[str, str, str] | None:
    names = {c.lower(): c for c in cells}
    for axes in (GFORCE_AXES, LINEAR_AXES):
        if all(a.lower() in names for a in axes):
            return tuple(names[a.lower()] for a in axes)
    return None


def detect(source: Source) -> bool:
    if source.kind != "file":
        return False
    cells = source.header_cells()
    return bool(cells) and cells[0].lower() == "time" and _axes_in(cells) is not None


def read(source: Source, options: ImportOptions) -> Samples:
    table = read_table(source.read_bytes(), source.label())
    axes = _axes_in(table.columns)
    if axes is None or "time" not in {c.lower() for c in table.columns}:
        raise InputError("not a Physics Toolbox g-force file", path=table.label, line=table.header_line,
                         found=table.delimiter.join(table.columns)[:120], expected="time;gFx;gFy;gFz;TgF")
    time_column = next(c for c in table.columns if c.lower() == "time")
    linear = axes[0].lower() == "ax"
    time_s, clock_note = _time_of_day_s(table, time_column)
    date = _date_from_name(source)
    start_time = f"{date}T{_hms(time_s[0])}" if date else None
    notes = [clock_note] + ([] if date else ["no date in the file name: start time unknown"])
    return Samples(table=table, time_s=time_s, time_column=time_column, acc=axes_matrix(table, axes), axes=axes,
                   read=f"{TITLE} {'linear accelerometer' if linear else 'g-force meter'} ({', '.join(axes)})",
                   clock="time (the phone's wall clock, time of day)",
                   file_unit="m/s^2" if linear else "g",
                   unit_source=f"Physics Toolbox's column {axes[0]!r}",
                   gravity_removed="the Physics Toolbox linear accelerometer has gravity removed" if linear else None,
                   start_time=start_time, notes=[n for n in notes if n])


def _time_of_day_s(table: Table, column: str) -> tuple[np.ndarray, str | None]:
    """Seconds since midnight from HH:MM:SS:ffff, a day added after midnight."""
    texts = table.texts(column)
    time_s = _fixed_width_time_s(texts)
    note = None
    if time_s is None:
        time_s, note = _any_width_time_s(texts, table, column)
    wraps = np.flatnonzero(np.diff(time_s) < -MIDNIGHT_JUMP_S) + 1
    for row in wraps:
        time_s[row:] += SECONDS_PER_DAY
    return time_s, note


def _fixed_width_time_s(texts: np.ndarray) -> np.ndarray | None:
    """The fast path for the usual file (every stamp `HH:MM:SS:` plus the same number of digits): the
    characters as a byte matrix, digits read by position. None when the stamps differ in shape."""
    if not len(texts) or not all(isinstance(t, str) for t in texts[:1]):
        return None
    width = len(texts[0])
    try:
        raw = "".join(texts).encode("ascii")
    except (UnicodeEncodeError, TypeError):
        return None
    if width < 10 or len(raw) != width * len(texts):
        return None
    chars = np.frombuffer(raw, dtype=np.uint8).reshape(len(texts), width)
    colons = chars[:, [2, 5, 8]] == ord(":")
    digits = chars[:, [0, 1, 3, 4, 6, 7] + list(range(9, width))] - ord("0")
    if not colons.all() or (digits > 9).any():
        return None
    d = digits.astype(np.int64)
    fraction = np.zeros(len(texts))
    for k in range(width - 9):
        fraction += d[:, 6 + k] * 10.0 ** -(k + 1)
    return (d[:, 0] * 10 + d[:, 1]) * 3600.0 + (d[:, 2] * 10 + d[:, 3]) * 60.0 + d[:, 4] * 10 + d[:, 5] + fraction


def _any_width_time_s(texts: np.ndarray, table: Table, column: str) -> tuple[np.ndarray, str | None]:
    texts = np.array([str(t).strip() for t in texts])
    fields = np.char.partition(texts.astype(str), ":")
    hours, rest = fields[:, 0], fields[:, 2]
    fields = np.char.partition(rest, ":")
    minutes, rest = fields[:, 0], fields[:, 2]
    fields = np.char.partition(rest, ":")
    seconds, fraction = fields[:, 0], fields[:, 2]
    ok = (np.char.isdigit(hours) & np.char.isdigit(minutes) & np.char.isdigit(seconds) & np.char.isdigit(fraction)
          & (np.char.str_len(hours) <= 2) & (np.char.str_len(minutes) == 2) & (np.char.str_len(seconds) == 2) & (np.char.str_len(fraction) <= 9))
    if not ok.all():
        row = int(np.flatnonzero(~ok)[0])
        raise InputError("not a time of day", path=table.label, line=table.line_of(row), column=column,
                         found=repr(texts[row][:40]), expected="HH:MM:SS:ffff like 08:32:38:1234")
    widths = np.char.str_len(fraction)
    if widths.min() == widths.max():
        # a fixed number of digits after the last colon: a decimal fraction of the second
        fraction_s = fraction.astype(np.int64) / 10.0 ** int(widths[0])
        note = None
    else:
        # varying widths can only be milliseconds written without zero padding (08:32:38:5 = 5 ms)
        fraction_s = fraction.astype(np.int64) / 1e3
        note = "the fraction after the last colon varies in width: read as milliseconds without padding"
    time_s = hours.astype(np.int64) * 3600.0 + minutes.astype(np.int64) * 60.0 + seconds.astype(np.int64) + fraction_s
    return time_s, note


def _date_from_name(source: Source) -> str | None:
    match = FILE_NAME_DATE.search(source.path.name)
    return match.group(1) if match else None


def _hms(seconds_of_day: float) -> str:
    whole = int(seconds_of_day)
    return f"{whole // 3600 % 24:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}.{int(round((seconds_of_day - whole) * 1e3)) % 1000:03d}"
