"""The one reader shape every importer shares.

An importer only knows its app's layout: which member of an export holds the samples, which columns
are time and axes, which clock to trust. Everything else lives here, once:

- `Source`: a file, a zip archive or an unzipped folder, read as bytes with damaged zips refused;
- `read_table`: text decoding, delimiter and decimal-separator detection, CSV parsing with every
  error turned into an `InputError` that names the file and line;
- `Table`: column lookup by pattern, numeric and text columns with the first bad cell reported;
- unit handling (header units, mixed units, gravity-removed data) on top of `sensors.units`;
- clock checks (duplicates, time going backwards) and the assembly of the final `Recording`.
"""
from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..errors import InputError, UnitError
from ..recording import Recording
from ..units import G_PER_UNIT, decide_unit, doubt_about_stated_unit, normalise_unit, read_gravity, to_g

SNIFF_BYTES = 65536
"""How much of a file detection reads: enough for any header and a few dozen rows, cheap on big files."""

DELIMITERS = (";", ",", "\t", "|")
"""Candidate field separators, in the order that breaks ties (semicolon first: a comma may be a decimal)."""

DECIMAL_SNIFF_ROWS = 50
"""Data rows looked at to tell a decimal comma from a decimal point."""

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""Legacy binary Excel (.xls); recognised only to refuse it clearly."""

_MISSING_TEXT = {"", "nan", "na", "null", "none", "n/a"}


# ======================================================================================================
# where the bytes come from
# ======================================================================================================

class Source:
    """A file, a zip archive or a folder; members are named by their path inside (posix style)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.exists():
            raise InputError("no such file", path=self.path)
        self._zip: zipfile.ZipFile | None = None
        if self.path.is_dir():
            self.kind = "folder"
            self._names = sorted(p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file())
        elif self._starts_with(ZIP_MAGIC):
            self.kind = "zip"
            self._zip = self._open_zip()
            self._names = sorted(i.filename for i in self._zip.infolist() if not i.is_dir())
        else:
            self.kind = "file"
            self._names = [self.path.name]

    def _starts_with(self, magics: Iterable[bytes]) -> bool:
        try:
            with open(self.path, "rb") as fh:
                head = fh.read(8)
        except OSError as exc:
            raise InputError("cannot read the file", path=self.path, found=exc.strerror) from None
        return any(head.startswith(m) for m in magics)

    def _open_zip(self) -> zipfile.ZipFile:
        try:
            return zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            raise InputError("damaged or truncated zip archive", path=self.path, found=str(exc) or type(exc).__name__,
                             expected="a complete zip file (copy or download it again)") from None

    @property
    def names(self) -> list[str]:
        return list(self._names)

    @property
    def is_legacy_excel(self) -> bool:
        return self.kind == "file" and self._starts_with((OLE2_MAGIC,))

    @property
    def is_xlsx(self) -> bool:
        return self.kind == "zip" and "xl/workbook.xml" in self._names

    def find(self, basename: str) -> str | None:
        """The member whose file name is `basename` (any case, any folder; the shallowest wins)."""
        hits = [n for n in self._names if PurePosixPath(n).name.lower() == basename.lower()
                and not PurePosixPath(n).name.startswith("._")]  # macOS resource forks inside zips
        return min(hits, key=lambda n: (n.count("/"), n)) if hits else None

    def label(self, member: str | None = None) -> str:
        """How errors name a member: the file itself, or `archive.zip:member`."""
        if self.kind == "file" or member is None:
            return str(self.path)
        return f"{self.path}:{member}" if self.kind == "zip" else str(self.path / member)

    def read_bytes(self, member: str | None = None, limit: int | None = None) -> bytes:
        """All bytes of a member (or the first `limit`; member None is the file itself); damage inside a zip
        is an InputError."""
        try:
            if self.kind == "file" or (self.kind == "zip" and member is None):  # None: the file itself
                with open(self.path, "rb") as fh:
                    return fh.read() if limit is None else fh.read(limit)
            if self.kind == "folder":
                with open(self.path / member, "rb") as fh:
                    return fh.read() if limit is None else fh.read(limit)
            with self._zip.open(member) as fh:
                return fh.read() if limit is None else fh.read(limit)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
            raise InputError("damaged zip member", path=self.label(member), found=str(exc) or type(exc).__name__,
                             expected="a complete zip file (copy or download it again)") from None
        except OSError as exc:
            raise InputError("cannot read the file", path=self.label(member), found=exc.strerror or str(exc)) from None

    def header_cells(self, member: str | None = None) -> list[str]:
        """The first non-comment line split on its likely delimiter; [] if it is not text. Never raises
        for ordinary damage: detection must be able to say 'not mine' quietly."""
        try:
            head = self.read_bytes(member, SNIFF_BYTES)
        except InputError:
            return []
        text = _decode_lenient(head)
        line = _first_content_line(text)
        if line is None:
            return []
        delimiter = detect_delimiter(line)
        return [c.strip().strip('"').strip() for c in line.split(delimiter)] if delimiter else [line.strip()]

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _decode_lenient(data: bytes) -> str:
    return data.decode("utf-8-sig", errors="replace")


def _first_content_line(text: str) -> str | None:
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            return line
    return None


# ======================================================================================================
# tables
# ======================================================================================================

@dataclass
class Table:
    """One parsed CSV (or sheet): raw pandas frame plus what is needed to name a cell in an error."""

    frame: pd.DataFrame
    label: str
    header_line: int
    delimiter: str
    decimal: str
    detected: list[str] = field(default_factory=list)

    def line_of(self, row: int) -> int:
        return self.header_line + 1 + int(row)

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)

    def find(self, pattern: str, *, what: str, required: bool = True) -> str | None:
        """The first column whose name matches `pattern` (regex, case-insensitive, whole name)."""
        rx = re.compile(pattern, re.I)
        for name in self.frame.columns:
            if rx.fullmatch(name):
                return name
        if required:
            raise InputError(f"no {what} column", path=self.label, line=self.header_line,
                             found=self.delimiter.join(self.columns)[:200] or "nothing",
                             expected=f"a column named like {pattern!r}")
        return None

    def require(self, name: str, *, what: str) -> str:
        if name not in self.frame.columns:
            raise InputError(f"no {what} column {name!r}", path=self.label, line=self.header_line,
                             found=self.delimiter.join(self.columns)[:200] or "nothing",
                             expected=f"one of the columns to be {name!r}")
        return name

    def numbers(self, name: str, *, integer: bool = False) -> np.ndarray:
        """The column as float64 (or int64 with `integer`), or an InputError at its first bad cell."""
        column = self.frame[name]
        if column.dtype.kind in "iu" or (column.dtype.kind == "f" and not integer):
            values = column.to_numpy()
        else:
            values = self._coerce(name, column, integer)
        if values.dtype.kind == "f":
            self._refuse_missing(name, values)
            if not np.isfinite(values).all():
                row = int(np.flatnonzero(~np.isfinite(values))[0])
                raise InputError("infinite value", path=self.label, line=self.line_of(row), column=name,
                                 found=repr(str(column.iloc[row])), expected="a finite number")
        if integer:
            return values.astype(np.int64)
        return values.astype(np.float64, copy=False)

    def _coerce(self, name: str, column: pd.Series, integer: bool) -> np.ndarray:
        raw = column.astype(str).str.strip()
        missing = column.isna().to_numpy() | raw.str.lower().isin(_MISSING_TEXT).to_numpy()
        if missing.any():
            self._refuse_missing(name, np.where(missing, np.nan, 0.0))
        text = raw.str.replace(",", ".", regex=False) if self.decimal == "," else raw
        if self.decimal == ",":
            # a decimal point in a decimal-comma file is a mixed locale: refuse rather than guess
            point = raw.str.contains(".", regex=False).to_numpy(dtype=bool)
            if point.any():
                self._refuse_cell(name, int(np.flatnonzero(point)[0]), raw, self._number_expected())
        if integer:
            ok = text.str.fullmatch(r"[+-]?\d{1,18}").to_numpy(dtype=bool)
            if not ok.all():
                self._refuse_cell(name, int(np.flatnonzero(~ok)[0]), raw, "a whole number")
            return text.astype(np.int64).to_numpy()
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
        bad = np.isnan(values)
        if bad.any():
            self._refuse_cell(name, int(np.flatnonzero(bad)[0]), raw, self._number_expected())
        return values

    def _number_expected(self) -> str:
        return "a decimal number" + (" with ',' as decimal separator (as in the rest of the file)"
                                     if self.decimal == "," else "")

    def _refuse_cell(self, name: str, row: int, raw: pd.Series, expected: str):
        raise InputError("not a number", path=self.label, line=self.line_of(row), column=name,
                         found=repr(raw.iloc[row][:40]), expected=expected)

    def _refuse_missing(self, name: str, values: np.ndarray) -> None:
        missing = np.isnan(values)
        if not missing.any():
            return
        first = int(np.flatnonzero(missing)[0])
        last = first
        while last + 1 < len(values) and missing[last + 1]:
            last += 1
        raise InputError("missing value (empty cell)", path=self.label, line=self.line_of(first), column=name,
                         found=f"{last - first + 1} empty cells (lines {self.line_of(first)}-{self.line_of(last)})",
                         expected="a number in every cell (cut or fill the gap first)")

    def texts(self, name: str) -> np.ndarray:
        """The column as strings (object array, as parsed), or an InputError at its first empty cell."""
        column = self.frame[name]
        missing = column.isna().to_numpy()
        if missing.any():
            row = int(np.flatnonzero(missing)[0])
            raise InputError("missing value (empty cell)", path=self.label, line=self.line_of(row), column=name,
                             expected="a timestamp in every cell")
        values = column.to_numpy()
        if values.dtype != object:  # numbers where text was expected: compare as text
            values = column.astype(str).to_numpy()
        return values

    def cell(self, name: str, row: int) -> str:
        return str(self.frame[name].iloc[row]).strip()


def detect_delimiter(header_line: str) -> str | None:
    """The candidate that splits the header into the most fields (quoted text ignored), or None."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: unquoted.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else None


def detect_decimal(sample_lines: list[str], delimiter: str) -> str:
    """',' when the cells use decimal commas (only possible when the delimiter is not a comma)."""
    if delimiter == ",":
        return "."
    cells = [c.strip().strip('"') for line in sample_lines for c in line.split(delimiter)]
    commas = sum(bool(re.fullmatch(r"[+-]?\d+,\d+([eE][+-]?\d+)?", c)) for c in cells)
    points = sum(bool(re.fullmatch(r"[+-]?\d*\.\d+([eE][+-]?\d+)?", c)) for c in cells)
    return "," if commas > points else "."


def decode_text(data: bytes, label: str) -> str:
    """UTF-8 text (a byte-order mark is dropped); anything else is not an export this project reads."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("not a text file", path=label, found=f"byte 0x{data[exc.start]:02x} at offset {exc.start}",
                         expected="a CSV file in UTF-8") from None
    if "\x00" in text:
        raise InputError("not a text file", path=label, found=f"a NUL byte at offset {text.index(chr(0))}",
                         expected="a CSV file in UTF-8")
    return text


def read_table(data: bytes, label: str, *, delimiter: str | None = None, decimal: str | None = None) -> Table:
    """Parse CSV bytes: leading '#' and blank lines skipped, delimiter and decimal detected unless given."""
    text = decode_text(data, label)
    start, header_line = _skip_preamble(text)
    if start is None:
        raise InputError("empty file", path=label, expected="a header line and rows of samples")
    head = text[start:start + SNIFF_BYTES].splitlines()
    detected = []
    if delimiter is None:
        delimiter = detect_delimiter(head[0])
        if delimiter is None:
            raise InputError("no delimiter in the header line", path=label, line=header_line,
                             found=repr(head[0].strip()[:60]), expected="columns separated by ';', ',' or tab")
        detected.append(f"delimiter {delimiter!r}")
    if decimal is None:
        decimal = detect_decimal(head[1:1 + DECIMAL_SNIFF_ROWS], delimiter)
        if decimal == ",":
            detected.append("decimal comma")
    frame = _parse_csv(text[start:], label, delimiter, decimal, line_offset=header_line - 1)
    return _table(frame, label, header_line, delimiter, decimal, detected)


def _skip_preamble(text: str) -> tuple[int | None, int]:
    """Offset and 1-based line number of the header: leading blank and '#' lines are skipped. Scans
    line by line from the top so a long file is never split into lines as a whole."""
    offset, line = 0, 1
    while offset < len(text):
        end = text.find("\n", offset)
        end = len(text) if end < 0 else end + 1
        content = text[offset:end]
        if content.strip() and not content.startswith("#"):
            return offset, line
        offset, line = end, line + 1
    return None, line


def _parse_csv(text: str, label: str, delimiter: str, decimal: str, *, line_offset: int) -> pd.DataFrame:
    try:
        return pd.read_csv(io.StringIO(text), sep=delimiter, decimal=decimal, skip_blank_lines=False,
                           engine="c", quotechar='"', dtype=None, low_memory=False)
    except pd.errors.ParserError as exc:
        message = str(exc).strip().splitlines()[-1]
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
        if match:
            expected_n, line, seen = (int(g) for g in match.groups())
            hint = " (is ',' both the delimiter and the decimal separator?)" if delimiter == "," else ""
            raise InputError("wrong number of fields", path=label, line=line + line_offset,
                             found=f"{seen} fields", expected=f"{expected_n} fields separated by {delimiter!r}{hint}") from None
        raise InputError("malformed CSV", path=label, found=message[:120], expected=f"fields separated by {delimiter!r}") from None
    except pd.errors.EmptyDataError:
        raise InputError("empty file", path=label, expected="a header line and rows of samples") from None
    except (ValueError, OverflowError, MemoryError) as exc:
        raise InputError("malformed CSV", path=label, found=str(exc).splitlines()[0][:120] if str(exc) else
                         type(exc).__name__, expected=f"fields separated by {delimiter!r}") from None


def _table(frame: pd.DataFrame, label: str, header_line: int, delimiter: str, decimal: str,
           detected: list[str]) -> Table:
    frame.columns = [str(c).strip() for c in frame.columns]
    # blank lines at the end of a file are harmless; elsewhere they are reported as empty cells
    empty_rows = frame.isna().all(axis=1).to_numpy()
    end = len(frame)
    while end > 0 and empty_rows[end - 1]:
        end -= 1
    frame = frame.iloc[:end]
    if len(frame) == 0:
        raise InputError("header only, no samples", path=label, line=header_line, expected="at least one data row")
    if frame.shape[1] > 1 and delimiter != "sheet":
        # pandas pads short rows with NaN; a row with nothing after its first field was split wrongly
        short = frame.iloc[:, 1:].isna().all(axis=1).to_numpy() & frame.iloc[:, 0].notna().to_numpy()
        if short.any():
            row = int(np.flatnonzero(short)[0])
            cell = str(frame.iloc[row, 0])
            other = next((d for d in DELIMITERS if d != delimiter and d in cell), None)
            raise InputError("too few fields" + (f" (wrong delimiter {other!r}?)" if other else ""), path=label,
                             line=header_line + 1 + row, found=repr(cell[:60]),
                             expected=f"{frame.shape[1]} fields separated by {delimiter!r}")
    return Table(frame=frame, label=label, header_line=header_line, delimiter=delimiter, decimal=decimal,
                 detected=detected)


def table_from_rows(rows: list[tuple], label: str) -> Table:
    """A Table from spreadsheet rows (first row the header); 'lines' are then the sheet's row numbers."""
    if not rows or not any(v is not None for v in rows[0]):
        raise InputError("empty sheet", path=label, expected="a header row and rows of samples")
    header = ["" if v is None else str(v) for v in rows[0]]
    width = len(header)
    body = [tuple(r[:width]) + (None,) * (width - len(r)) for r in rows[1:]]
    return table_from_frame(pd.DataFrame(body, columns=header), label)


def table_from_frame(frame: pd.DataFrame, label: str) -> Table:
    """A Table from a spreadsheet's columns (the header was row 1): the same checks as a parsed CSV."""
    return _table(frame, label, 1, "sheet", ".", [])


# ======================================================================================================
# units
# ======================================================================================================

_UNIT_IN_NAME = re.compile(r"[\[(]\s*(m/s\^?2|m/s²|m/s/s|mg|milli-g|g)\s*[\])]", re.I)


def unit_in_name(column: str) -> str | None:
    """The unit a column header states, e.g. 'X [mg]' -> 'mg', 'Acceleration x (m/s^2)' -> 'm/s^2'."""
    match = _UNIT_IN_NAME.search(column)
    if not match:
        return None
    text = match.group(1).lower().replace("m/s/s", "m/s^2")
    return normalise_unit(text)


def axis_unit(table: Table, axes: tuple[str, str, str]) -> str | None:
    """The unit the three axis headers state; headers that disagree are 'mixed units'."""
    units = [unit_in_name(a) for a in axes]
    stated = {u for u in units if u is not None}
    if len(stated) > 1 or (stated and None in units):
        raise InputError("mixed units across the axis columns", path=table.label, line=table.header_line,
                         column=axes[units.index(None) if None in units else 1],
                         found=", ".join(axes), expected="x, y and z in one unit")
    return stated.pop() if stated else None


def has_gravity(acc: np.ndarray, time_s: np.ndarray) -> bool:
    """True when the data's mean vector reads gravity in some known unit (it was not removed)."""
    try:
        decide_unit(acc, time_s)
        return True
    except UnitError:
        return False


# ======================================================================================================
# what a format reader returns, and how it becomes a Recording
# ======================================================================================================

@dataclass(frozen=True)
class ImportOptions:
    """What the user stated: `columns` (time, x, y, z) for generic CSV, the acceleration `units`, `placement`."""

    columns: tuple[str, str, str, str] | None = None
    units: str | None = None
    placement: str | None = None


@dataclass
class Samples:
    """Samples as the file holds them, before unit conversion and checks.

    `time_s` may have any origin (it is rebased to the first sample); `acc` is in the file's unit.
    `file_unit` is the unit the layout states (header or app documentation), `unit_source` says where
    from; `gravity_removed` is the reason to refuse, when the layout says gravity was taken out.
    """

    table: Table
    time_s: np.ndarray
    time_column: str
    acc: np.ndarray
    axes: tuple[str, str, str]
    read: str
    clock: str
    file_unit: str | None = None
    unit_source: str | None = None
    gravity_removed: str | None = None
    start_time: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def check_increasing(time_s: np.ndarray, table: Table, column: str, acc: np.ndarray | None = None,
                     why_backwards: str = "") -> None:
    """Strictly increasing time, or an InputError at the first duplicate or backward step."""
    dt = np.diff(time_s)
    bad = np.flatnonzero(dt <= 0)
    if not bad.size:
        return
    row = int(bad[0]) + 1
    before, now = table.cell(column, row - 1), table.cell(column, row)
    if dt[row - 1] == 0:
        same_row = acc is not None and np.array_equal(acc[row], acc[row - 1])
        raise InputError("duplicated row" if same_row else "duplicate timestamp", path=table.label,
                         line=table.line_of(row), column=column, found=f"{now!r} again",
                         expected="strictly increasing time (remove the repeated row)")
    raise InputError("time goes backwards" + why_backwards, path=table.label, line=table.line_of(row), column=column,
                     found=f"{now!r} after {before!r}", expected="strictly increasing time (cut the file at the jump)")


def backward_jumps(time_s: np.ndarray, table: Table, column: str) -> list[str]:
    """Notes on a secondary clock that jumps back (phones resynchronise their wall clock)."""
    dt = np.diff(time_s)
    rows = np.flatnonzero(dt < 0) + 1
    return [f"{column} jumps back by {-dt[r - 1]:.3f} s at line {table.line_of(r)} (phone clock resynchronised); "
            "not used for timing" for r in rows[:5]]


def resolve_unit(samples: Samples, user_units: str | None, time_s: np.ndarray) -> tuple[str, str]:
    """The unit of `samples.acc` and the sentence that says how it was decided."""
    label = samples.table.label
    reading = read_gravity(samples.acc, time_s)
    gravity = reading.magnitude
    if user_units is not None:
        unit = normalise_unit(user_units)
        note = f"{unit} (as stated)" if unit == "g" else f"converted from {unit} to g (as stated)"
        if samples.gravity_removed:
            note += "; gravity was removed by the app, so impact reads about 1 g low"
        else:
            note += doubt_about_stated_unit(gravity, unit, gravity_removed=reading.removed)
        return unit, note
    if samples.gravity_removed:
        raise UnitError(f"{samples.gravity_removed}: contacts and landing impact need acceleration with gravity",
                        path=label, found=f"gravity magnitude {gravity:.3g}",
                        expected="a gravity-inclusive export, or --units to import it anyway")
    try:
        detected = decide_unit(samples.acc, time_s, path=label)
    except UnitError as exc:
        if samples.file_unit is None:
            raise
        found = (reading.evidence(samples.file_unit) if reading.removed
                 else f"gravity magnitude {gravity:.3g} {samples.file_unit}")
        raise UnitError("gravity is missing from the data (removed by the app?)", path=label, found=found,
                        expected=f"about {1 / G_PER_UNIT[samples.file_unit]:.4g} {samples.file_unit} at rest, "
                                 "or --units to import it anyway") from exc
    if samples.file_unit is None:
        return detected.unit, (f"detected {detected.unit} from gravity (read {gravity:.3g} {detected.unit})"
                               + (", converted to g" if detected.unit != "g" else ""))
    if detected.unit != samples.file_unit:
        raise InputError("the stated unit disagrees with the data", path=label, column=samples.axes[0],
                         found=f"{samples.unit_source} says {samples.file_unit}, but gravity reads {gravity:.3g} "
                               f"(as if {detected.unit})",
                         expected=f"data in {samples.file_unit}, or --units {detected.unit} to override")
    unit = samples.file_unit
    where = samples.unit_source or "the file"
    if unit == "g":
        return unit, f"g (from {where}; gravity read {gravity:.4g} g)"
    return unit, f"converted from {unit} to g (from {where}; gravity read {gravity:.4g} {unit})"


def to_recording(samples: Samples, options: ImportOptions, format_name: str) -> Recording:
    """Check the clock, convert to g, and record what was read and how."""
    table = samples.table
    check_increasing(samples.time_s, table, samples.time_column, samples.acc)
    time_s = samples.time_s - samples.time_s[0]
    unit, unit_note = resolve_unit(samples, options.units, time_s)
    metadata = {"format": format_name, "source_file": table.label, "read": samples.read,
                "columns": ",".join((samples.time_column,) + tuple(samples.axes)), "clock": samples.clock,
                "unit_found": unit, "unit_conversion": unit_note}
    if table.detected:
        metadata["detected"] = ", ".join(table.detected)
    metadata.update(samples.extra)
    if samples.notes:
        metadata["notes"] = "; ".join(samples.notes)
    try:
        return Recording(time_s=time_s, acc_g=to_g(samples.acc, unit), placement=options.placement,
                         start_time=samples.start_time, metadata=metadata)
    except InputError as exc:
        raise InputError(exc.what, path=table.label, found=exc.found, expected=exc.expected) from None


def iso_times_ns(table: Table, column: str, example: str) -> np.ndarray:
    """ISO-8601 text as int64 ns (UTC when a zone is given, else local wall time), first bad cell refused."""
    texts = table.texts(column)
    try:
        stamps = pd.to_datetime(pd.Series(texts), format="ISO8601", errors="coerce", utc=None)
    except (ValueError, TypeError, OverflowError):
        # mixed zones or out-of-range years: retry cell by cell below to name the bad one
        stamps = pd.Series([_one_iso(t) for t in texts], dtype="datetime64[ns]")
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert(None)
    bad = stamps.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError("not a timestamp", path=table.label, line=table.line_of(row), column=column,
                         found=repr(texts[row][:40]), expected=f"a time like {example}")
    return stamps.to_numpy().astype("datetime64[ns]").astype(np.int64)


def _one_iso(text: str):
    try:
        stamp = pd.Timestamp(text)
        return stamp.tz_convert(None) if stamp.tzinfo is not None else stamp
    except (ValueError, TypeError, OverflowError):
        return pd.NaT


def axes_matrix(table: Table, axes: tuple[str, str, str]) -> np.ndarray:
    """(N, 3) float64 of the x, y, z columns, each checked cell by cell."""
    return np.column_stack([table.numbers(a) for a in axes])
