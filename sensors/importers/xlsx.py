"""A small, fast reader of the cell values of .xlsx workbooks (standard library + numpy + pandas).

openpyxl builds a Python object per cell, about 30 s for an hour at 200 Hz; issue 4 asks for under 2 s.
This reader only returns values (the cached results of formulas, no styles, no dates: numbers stay
floats) and has two paths:

- a cell-by-cell path with compiled regexes, for headers, metadata sheets and anything unusual;
- a vectorised path for the bulk of a data sheet. Machine-written sheets repeat one row layout:
  `<row r="N"><c r="AN" t="n"><v>1.5</v></c>...</row>`. Once a row has been read cell by cell and is
  all numbers, the following rows are checked with numpy to be byte for byte that row, except for the
  row number (which must count up by one) and the numbers themselves; the numbers are then parsed in
  one go by pandas' C float parser. Whenever a row differs in any other way the cell-by-cell path
  takes over again, so both paths always give the same values.

The sheet XML is decompressed and processed in pieces of whole rows, decompression running in a
second thread (zlib releases the GIL) while numpy works on the previous piece.

Damaged or foreign files raise `InputError` only.
"""
from __future__ import annotations

import io
import lzma
import posixpath
import queue
import re
import struct
import threading
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
"""Excel's sheet limits: a reference beyond them is damage, and refusing it bounds memory."""

PIECE_BYTES = 8 << 20
"""Decompressed bytes handled at a time: large enough for numpy to amortise, small enough to overlap
decompression with parsing and to keep memory flat."""

_DAMAGE = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, struct.error, EOFError, OSError, KeyError, IndexError,
           ValueError, OverflowError, NotImplementedError, RuntimeError)
"""What zipfile, zlib, the XML text and pandas raise on damaged input (RuntimeError: encrypted members,
NotImplementedError: unknown compression, ValueError includes UnicodeDecodeError and pandas' parser errors)."""

_NS = rb"(?:[\w.-]+:)?"  # some writers prefix every element (`<x:row>`)
_ROW_RX = re.compile(rb"<" + _NS + rb"row\b([^>]*?)(?:/>|>(.*?)</" + _NS + rb"row>)", re.S)
_CELL_RX = re.compile(rb"<" + _NS + rb"c\b([^>]*?)(?:/>|>(.*?)</" + _NS + rb"c>)", re.S)
_VALUE_RX = re.compile(rb"<" + _NS + rb"v\b[^>]*>(.*?)</" + _NS + rb"v>", re.S)
_INLINE_RX = re.compile(rb"<" + _NS + rb"is\b[^>]*>(.*?)</" + _NS + rb"is>", re.S)
_TEXT_RX = re.compile(rb"<" + _NS + rb"t\b[^>]*>(.*?)</" + _NS + rb"t>", re.S)
_PHONETIC_RX = re.compile(rb"<" + _NS + rb"rPh\b.*?</" + _NS + rb"rPh>", re.S)  # reading aids, not text
_STRING_ITEM_RX = re.compile(rb"<" + _NS + rb"si\b[^>]*?(?:/>|>(.*?)</" + _NS + rb"si>)", re.S)
_SHEET_RX = re.compile(rb"<" + _NS + rb"sheet\b([^>]*?)/?>", re.S)
_RELATIONSHIP_RX = re.compile(rb"<" + _NS + rb"Relationship\b([^>]*?)/?>", re.S)
_ATTR_RX = re.compile(rb"([\w.:-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_REF_RX = re.compile(rb"([A-Za-z]{1,3})(\d+)")
_ROW_NUMBER_RX = re.compile(rb"\br=\"(\d+)\"")
_CELL_REF_RX = re.compile(rb"\br=\"[A-Za-z]{1,3}(\d+)\"")
_ENTITY_RX = re.compile(r"&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);")
_NAMED_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


# ======================================================================================================
# the result
# ======================================================================================================

@dataclass
class Sheet:
    """One worksheet: its title and rows. Row i is the sheet's row i + 1 (missing rows are `()`); a row is
    a tuple as long as its last cell, floats for numbers, str for text, None for empty cells."""

    title: str
    parts: list = field(default_factory=list)
    """Runs of rows in order: lists of tuples (read cell by cell) or float arrays (read vectorised)."""

    @property
    def rows(self) -> list[tuple]:
        out: list[tuple] = []
        for part in self.parts:
            out.extend(part if isinstance(part, list) else map(tuple, part.tolist()))
        return out

    @property
    def first_row(self) -> tuple:
        for part in self.parts:
            if len(part):
                return tuple(part[0]) if isinstance(part, list) else tuple(part[0].tolist())
        return ()

    @property
    def is_empty(self) -> bool:
        return not any(len(part) for part in self.parts)

    def numeric_body(self, skip: int = 1) -> np.ndarray | None:
        """The rows after the first `skip` as one float array, when every one of them is complete and
        all numbers (None otherwise): lets a caller build a table without a tuple per row."""
        blocks, width, seen = [], None, 0
        for part in self.parts:
            start = min(max(skip - seen, 0), len(part))
            seen += len(part)
            block = part[start:] if isinstance(part, np.ndarray) else _rows_as_block(part[start:])
            if block is None:
                return None
            if len(block) == 0:
                continue
            if width is not None and block.shape[1] != width:
                return None
            width = block.shape[1]
            blocks.append(block)
        if not blocks:
            return None
        return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)


def _rows_as_block(rows: list[tuple]) -> np.ndarray | None:
    if not rows:
        return np.empty((0, 0))
    width = len(rows[0])
    if width == 0 or any(len(r) != width or not all(type(v) is float for v in r) for r in rows):
        return None
    return np.array(rows, dtype=np.float64)


# ======================================================================================================
# workbook
# ======================================================================================================

def read_workbook(path: str | Path, *, label: str | None = None) -> list[Sheet]:
    """Every worksheet of the workbook at `path`, in workbook order."""
    label = str(path) if label is None else label
    try:
        with zipfile.ZipFile(path) as archive:
            return _read_archive(archive, label)
    except InputError:
        raise
    except _DAMAGE as exc:
        raise InputError("not a readable Excel workbook", path=label, found=_describe(exc),
                         expected="an .xlsx file as phyphox exports it") from None


def _describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:80] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _read_archive(archive: zipfile.ZipFile, label: str) -> list[Sheet]:
    workbook = archive.read("xl/workbook.xml")
    targets, shared_strings_member = _workbook_relationships(archive)
    strings = _shared_strings(archive, shared_strings_member)
    sheets = []
    for attrs in (_attributes(m.group(1)) for m in _SHEET_RX.finditer(workbook)):
        title = _text(attrs.get(b"name", b""))
        rel_id = next((v for k, v in attrs.items() if k == b"id" or k.endswith(b":id")), None)
        member = targets.get(rel_id)
        if member is None or member not in archive.NameToInfo:
            raise InputError(f"sheet {title!r} is missing from the workbook", path=label,
                             expected="a complete .xlsx file (save or export it again)")
        sheets.append(Sheet(title, _read_sheet(archive, member, strings)))
    return sheets


def _workbook_relationships(archive: zipfile.ZipFile) -> tuple[dict[bytes, str], str | None]:
    """Relationship id -> member path, and the shared-strings member (if the workbook names one)."""
    rels = archive.read("xl/_rels/workbook.xml.rels")
    targets, shared = {}, None
    for attrs in (_attributes(m.group(1)) for m in _RELATIONSHIP_RX.finditer(rels)):
        target = _member_path(_text(attrs.get(b"Target", b"")))
        targets[attrs.get(b"Id")] = target
        if attrs.get(b"Type", b"").endswith(b"/sharedStrings"):
            shared = target
    if shared is None and "xl/sharedStrings.xml" in archive.NameToInfo:
        shared = "xl/sharedStrings.xml"
    return targets, shared


def _member_path(target: str) -> str:
    """Relationship targets are relative to xl/ unless absolute (openpyxl writes `/xl/worksheets/...`)."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join("xl", target))


def _shared_strings(archive: zipfile.ZipFile, member: str | None) -> list[str]:
    if member is None or member not in archive.NameToInfo:
        return []
    data = archive.read(member)
    return [_rich_text(m.group(1) or b"") for m in _STRING_ITEM_RX.finditer(data)]


def _attributes(text: bytes) -> dict[bytes, bytes]:
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3) for m in _ATTR_RX.finditer(text)}


def _text(raw: bytes) -> str:
    return _ENTITY_RX.sub(_entity, raw.decode("utf-8"))


def _entity(match: re.Match) -> str:
    name = match.group(1)
    if name[0] == "#":
        return chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))
    return _NAMED_ENTITIES[name]


def _rich_text(raw: bytes) -> str:
    """The text of a string item or inline string: all its runs, without phonetic guides."""
    return "".join(_text(t) for t in _TEXT_RX.findall(_PHONETIC_RX.sub(b"", raw)))


# ======================================================================================================
# worksheet
# ======================================================================================================

def _read_sheet(archive: zipfile.ZipFile, member: str, strings: list[str]) -> list:
    reader = _SheetReader(strings)
    blocks = _decompressed(archive, member)
    try:
        for piece in _sheet_data_pieces(blocks):
            reader.feed(piece)
    finally:
        blocks.close()  # stops the inflating thread now, before the archive is closed under it
    return reader.parts


def _decompressed(archive: zipfile.ZipFile, member: str):
    """The member's bytes in blocks, inflated by a helper thread so parsing overlaps decompression.
    Errors in the thread are handed over and raised here."""
    blocks: queue.Queue = queue.Queue(maxsize=2)
    done = threading.Event()

    def produce():
        try:
            with archive.open(member) as stream:
                while not done.is_set():
                    block = stream.read(PIECE_BYTES)
                    blocks.put(block)
                    if not block:
                        return
        except BaseException as exc:  # handed to the reading thread, which decides what it means
            blocks.put(exc)

    worker = threading.Thread(target=produce, daemon=True)
    worker.start()
    try:
        while True:
            block = blocks.get()
            if isinstance(block, BaseException):
                raise block
            if not block:
                return
            yield block
    finally:
        done.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue, then let it finish
            try:
                blocks.get_nowait()
            except queue.Empty:
                worker.join(0.01)


def _sheet_data_pieces(blocks):
    """The content of <sheetData> in pieces that each end just before a `<row` (or at the end), so
    every piece holds whole rows."""
    buffer = bytearray()
    started = False
    for block in blocks:
        buffer += block
        if not started:
            start = _sheet_data_start(buffer)
            if start is None:
                continue
            if start < 0:  # <sheetData/>: no rows at all
                return
            del buffer[:start]
            started = True
        end = _sheet_data_end(buffer, max(len(buffer) - len(block) - 16, 0))  # only new bytes can hold it
        if end is not None:
            yield bytes(buffer[:end])
            return
        cut = buffer.rfind(b"<row")
        if cut > 0:
            yield bytes(buffer[:cut])
            del buffer[:cut]
    if started or buffer.find(b"sheetData") >= 0:
        raise ValueError("the sheet ends inside its data (truncated)")


def _sheet_data_start(buffer: bytearray) -> int | None:
    """Offset after `<sheetData>`; -1 for an empty `<sheetData/>`; None when not (yet) seen."""
    match = re.search(rb"<" + _NS + rb"sheetData\b[^>]*?(/?)>", buffer)
    if match is None:
        return None
    return -1 if match.group(1) else match.end()


def _sheet_data_end(buffer: bytearray, start: int = 0) -> int | None:
    at = buffer.find(b"sheetData>", start)
    while at >= 0:
        open_ = buffer.rfind(b"<", 0, at)
        if buffer[open_:open_ + 2] == b"</":
            return open_
        at = buffer.find(b"sheetData>", at + 1)
    return None


class _SheetReader:
    """Turns <sheetData> pieces into runs of rows, switching to the vectorised path when it can."""

    def __init__(self, strings: list[str]):
        self.strings = strings
        self.parts: list = []
        self.next_row = 1
        self.layout: _RowLayout | None = None

    def feed(self, piece: bytes) -> None:
        at = 0
        if self.layout is None:
            at = self._read_rows(piece, 0, find_layout=True)
        if self.layout is None or at >= len(piece):
            return
        block = self.layout.read(piece, at, self.next_row)
        if block is not None:
            self._add_block(block)
            return
        # something differs in this piece: read it cell by cell and look for a layout again in the next
        # one (trying again row after row here could cost a numpy pass per row)
        self.layout = None
        self._read_rows(piece, at, find_layout=False)

    def _read_rows(self, piece: bytes, at: int, *, find_layout: bool) -> int:
        """Cell by cell from `at`, until (with `find_layout`) a row that can start the vectorised path;
        returns where to go on."""
        for match in _ROW_RX.finditer(piece, at):
            row = self._add_row(match)
            if not find_layout:
                continue
            end = _after_whitespace(piece, match.end())  # indentation belongs to the row's layout
            self.layout = _RowLayout.of(piece[match.start():end], row, self.next_row - 1)
            if self.layout is not None:
                return end
        return len(piece)

    def _add_row(self, match: re.Match) -> tuple:
        number = _ROW_NUMBER_RX.search(match.group(1))
        number = int(number.group(1)) if number else self.next_row
        if number < self.next_row or number > MAX_ROWS:
            raise ValueError(f"row {number} out of order or beyond the sheet")
        rows = self._open_list()
        rows.extend([()] * (number - self.next_row))  # rows without cells are not written at all
        row = self._cells(match.group(2) or b"")
        rows.append(row)
        self.next_row = number + 1
        return row

    def _open_list(self) -> list:
        if not self.parts or not isinstance(self.parts[-1], list):
            self.parts.append([])
        return self.parts[-1]

    def _add_block(self, block: np.ndarray) -> None:
        self.parts.append(block)
        self.next_row += len(block)

    def _cells(self, content: bytes) -> tuple:
        values: dict[int, object] = {}
        column = 0
        for match in _CELL_RX.finditer(content):
            attrs = _attributes(match.group(1))
            ref = _REF_RX.fullmatch(attrs.get(b"r", b""))
            column = _column_index(ref.group(1)) if ref else column + 1
            if column > MAX_COLUMNS or column in values:
                raise ValueError(f"cell column {column} repeated or beyond the sheet")
            values[column] = self._value(attrs.get(b"t", b"n"), match.group(2) or b"")
        width = max(values, default=0)
        return tuple(values.get(c) for c in range(1, width + 1))

    def _value(self, kind: bytes, content: bytes):
        if kind == b"inlineStr":
            inline = _INLINE_RX.search(content)
            return _rich_text(inline.group(1)) if inline else None
        value = _VALUE_RX.search(content)
        if value is None:
            return None
        raw = value.group(1)
        if kind == b"n":
            return float(raw)
        if kind == b"s":
            return self.strings[int(raw)]
        if kind == b"b":
            return raw.strip() == b"1"
        return _text(raw)  # str (formula text), e (error such as #DIV/0!), d (ISO date): as written


def _after_whitespace(piece: bytes, at: int) -> int:
    while at < len(piece) and piece[at] in b" \t\r\n":
        at += 1
    return at


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters.upper():
        index = index * 26 + letter - 64
    return index


# ======================================================================================================
# the vectorised path
# ======================================================================================================
# ======================================================================================================

_LT = ord("<")
_NUMBER_BYTES = np.zeros(256, dtype=bool)
_NUMBER_BYTES[np.frombuffer(b"0123456789.+-eE\n", dtype=np.uint8)] = True
_REFERENCE_RX = re.compile(rb"\br=\"[A-Za-z]{0,3}(\d+)\"")


class _RowLayout:
    """The bytes of one all-numeric row with its numbers cut out (the 'skeleton') and where its row
    number appears: the rows after it are read in bulk when they are that skeleton again, with their
    own row number and any numbers."""

    def __init__(self, skeleton_parts: list[bytes], tags_per_row: int, value_tags: np.ndarray):
        self.skeleton_parts = skeleton_parts  # the skeleton cut at each place the row number goes
        self.tags_per_row = tags_per_row
        self.value_tags = value_tags          # which '<' of a row opens a <v>
        self._templates: dict[int, tuple[np.ndarray, list[int]]] = {}

    @classmethod
    def of(cls, raw: bytes, row: tuple, number: int) -> _RowLayout | None:
        """The layout of a row just read cell by cell, if it can stand for the rows after it: every cell
        present and a number with one plain <v>, and every reference in it naming this row."""
        if not row or not all(type(v) is float for v in row) or b"&" in raw or b"r='" in raw:
            return None
        tags = [m.start() for m in re.finditer(rb"<", raw)]
        value_tags = [k for k, at in enumerate(tags) if raw.startswith(b"<v>", at) and k + 1 < len(tags)]
        if len(value_tags) != len(row):
            return None
        cuts = [(tags[k] + 3, tags[k + 1] + 1) for k in value_tags]  # a number and the '<' after it
        cuts += [m.span(1) for m in _REFERENCE_RX.finditer(raw)]
        if any(raw[a:b] != str(number).encode() for a, b in cuts[len(value_tags):]):
            return None
        parts, at = [b""], 0
        for start, end in sorted(cuts):
            parts[-1] += raw[at:start]
            if (start, end) not in cuts[:len(value_tags)]:
                parts.append(b"")  # a row number goes here
            at = end
        parts[-1] += raw[at:]
        return cls(parts, len(tags), np.array(value_tags))

    def read(self, piece: bytes, at: int, first_row: int) -> np.ndarray | None:
        """The rows of piece[at:] as a float array if each is the skeleton with row numbers first_row,
        first_row + 1, ... and plain numbers; None as soon as anything differs."""
        data = np.frombuffer(piece, dtype=np.uint8, offset=at)
        tags = np.flatnonzero(data == _LT)
        if len(tags) == 0 or tags[0] != 0 or len(tags) % self.tags_per_row:
            return None
        n = len(tags) // self.tags_per_row
        if first_row + n - 1 > MAX_ROWS:
            return None
        tags = tags.reshape(n, self.tags_per_row)
        starts = (tags[:, self.value_tags] + 3).ravel()
        ends = tags[:, self.value_tags + 1].ravel()  # the '<' of </v>: kept as the separator
        if not (ends > starts).all():
            return None
        keep = _spans_mask(len(data), starts, ends)
        skeleton = data[~keep]
        expected = self._skeletons(first_row, n)
        if len(skeleton) != len(expected) or not np.array_equal(skeleton, expected):
            return None
        return _parse_numbers(data[keep], n, len(self.value_tags))

    def _skeletons(self, first_row: int, n: int) -> np.ndarray:
        """The skeletons of rows first_row ... first_row + n - 1 one after the other, row numbers in."""
        blocks, row, last = [], first_row, first_row + n - 1
        while row <= last:
            digits = len(str(row))
            upto = min(last, 10 ** digits - 1)  # rows with as many digits share one template
            template, slots = self._template(digits)
            block = np.tile(template, (upto - row + 1, 1))
            numbers = np.arange(row, upto + 1)
            for k in range(digits):
                digit = (numbers // 10 ** (digits - 1 - k) % 10 + 48).astype(np.uint8)
                for slot in slots:
                    block[:, slot + k] = digit
            blocks.append(block.ravel())
            row = upto + 1
        return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)

    def _template(self, digits: int) -> tuple[np.ndarray, list[int]]:
        if digits not in self._templates:
            slots, at = [], len(self.skeleton_parts[0])
            for part in self.skeleton_parts[1:]:
                slots.append(at)
                at += digits + len(part)
            text = (b"0" * digits).join(self.skeleton_parts)
            self._templates[digits] = (np.frombuffer(text, dtype=np.uint8), slots)
        return self._templates[digits]


def _spans_mask(size: int, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """True over each [start, end] (inclusive, ascending, disjoint), built from run lengths: a
    cumulative sum over the bytes is 4x slower."""
    runs = np.empty(2 * len(starts) + 1, dtype=np.int64)
    runs[0] = starts[0]
    runs[2:-1:2] = starts[1:] - ends[:-1] - 1
    runs[1::2] = ends - starts + 1
    runs[-1] = size - ends[-1] - 1
    kept = np.zeros(len(runs), dtype=bool)
    kept[1::2] = True
    return np.repeat(kept, runs)


def _parse_numbers(text: np.ndarray, n: int, width: int) -> np.ndarray | None:
    """Numbers each followed by '<', parsed by pandas' C parser into an (n, width) array; None if any
    is not a plain decimal number (then the cell-by-cell path decides what it is)."""
    text = text.copy()
    text[text == _LT] = ord("\n")
    if not _NUMBER_BYTES[text].all():  # no "nan", no commas, nothing pandas would read differently
        return None
    try:
        parsed = pd.read_csv(io.BytesIO(text.tobytes()), header=None, names=["v"], dtype=np.float64,
                             na_filter=False, engine="c", skip_blank_lines=False).to_numpy()
    except ValueError:
        return None
    if parsed.size != n * width:
        return None
    return parsed.reshape(n, width)
