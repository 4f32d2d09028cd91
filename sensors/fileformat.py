"""The canonical CSV and the fast binary format of a `Recording`.

Canonical CSV (documented in docs/recording-format.md)::

    # placement: shank
    # device: simulator
    time_s,acc_x,acc_y,acc_z
    0.000000,0.01,-0.98,0.12

Binary: an uncompressed NumPy `.npz` with arrays `time_s` (N,) and `acc_g` (N, 3), float64, and `meta`, a
JSON string with the other fields. Loading memory-copies the arrays, with no parsing.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .recording import SENSOR_AXES, Recording, check_placement
from .units import decide_unit, to_g

_UMASK = os.umask(0)
os.umask(_UMASK)
CSV_COLUMNS = ("time_s",) + SENSOR_AXES
BINARY_SUFFIX = ".npz"
BINARY_VERSION = 1
HASH_BLOCK_BYTES = 1 << 20
META_KEYS_TOP = ("placement", "start_time")


def load(path: str | Path, *, unit: str | None = None, placement: str | None = None, format: str | None = None,
         columns=None, units: str | None = None) -> Recording:
    """Read a recording from the canonical CSV, the binary `.npz` format, or any app export.

    `unit` (or its alias `units`) states the acceleration unit (else it is detected from gravity and any
    conversion is recorded in `metadata['unit_conversion']`). `placement` overrides the file's
    `# placement:` line ('auto' clears it, for the analyzer to read it from the signal). App exports (docs/formats.md) are recognised from their content and read by
    `sensors.importers`; `format` and `columns` are passed to it.
    """
    if placement == "auto":  # the analyzer reads it from the signal, whatever the file says
        rec = load(path, unit=unit, format=format, columns=columns, units=units)
        rec.placement = None
        return rec
    path = Path(path)
    unit = unit if unit is not None else units
    if not path.exists():
        raise InputError("no such file", path=path)
    if path.suffix != BINARY_SUFFIX:
        from .cadence import is_cadence_file
        if is_cadence_file(path):
            raise InputError("a cadence track (foot pod readings), not an acceleration recording", path=path,
                             expected="an acceleration recording (read cadence files with sensors.cadence.load_cadence)")
    if format != "canonical" and path.suffix != BINARY_SUFFIX:
        from .importers import claims, read
        if format is not None or columns is not None or claims(path):
            return read(path, format=format, columns=columns, units=unit, placement=placement)
    if path.is_dir():
        raise InputError("is a folder, not a recording file", path=path)
    if path.suffix == BINARY_SUFFIX:
        rec = _load_binary(path)
    else:
        rec = _load_csv(path, unit)
    if placement is not None:
        rec.placement = check_placement(placement)
    return rec


def content_hash(path: str | Path) -> str:
    """SHA-256 identifying a recording by content: a file's bytes (the same run under another name is the same
    run); for a folder export, every file's relative name and bytes, in sorted order."""
    path = Path(path)
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        if file != path:
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        try:
            with open(file, "rb") as fh:
                for block in iter(lambda: fh.read(HASH_BLOCK_BYTES), b""):
                    digest.update(block)
        except OSError as exc:
            raise InputError("cannot read", path=file, found=exc.strerror) from None
    return digest.hexdigest()


def save(rec: Recording, path: str | Path) -> None:
    """Write atomically (temporary file, then rename): a crash never leaves half a file."""
    path = Path(path)
    if path.suffix == BINARY_SUFFIX:
        buf = io.BytesIO()
        np.savez(buf, time_s=rec.time_s, acc_g=rec.acc_g, meta=np.array(json.dumps(_meta_dict(rec))))
        atomic_write(path, buf.getvalue())
    else:
        atomic_write(path, _csv_text(rec).encode())


def _meta_dict(rec: Recording) -> dict:
    return {"version": BINARY_VERSION, "placement": rec.placement, "start_time": rec.start_time,
            "sampling_rate_hz": rec.sampling_rate_hz, "gaps": rec.gaps, "metadata": rec.metadata}


def _csv_text(rec: Recording) -> str:
    head = []
    if rec.placement:
        head.append(f"# placement: {rec.placement}")
    if rec.start_time:
        head.append(f"# start_time: {rec.start_time}")
    head.append("# unit: g")
    for key, value in rec.metadata.items():
        if key in ("unit", "placement", "start_time"):
            continue
        text = json.dumps(value) if not isinstance(value, str) else value
        if "\n" not in text:
            head.append(f"# {key}: {text}")
    table = np.column_stack([rec.time_s, rec.acc_g])
    body = io.StringIO()
    np.savetxt(body, table, fmt=["%.6f", "%.5f", "%.5f", "%.5f"], delimiter=",")
    return "\n".join(head) + "\n" + ",".join(CSV_COLUMNS) + "\n" + body.getvalue()


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and a rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes owner-only files; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load_binary(path: Path) -> Recording:
    try:
        with np.load(path, allow_pickle=False) as npz:
            time_s, acc_g, meta = npz["time_s"], npz["acc_g"], json.loads(str(npz["meta"]))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError("not a retrorun binary recording", path=path, found=type(exc).__name__,
                         expected=".npz with time_s, acc_g and meta") from None
    if len(time_s) == 0:
        raise InputError("recording has no samples", path=path)
    gaps = [tuple(g) for g in meta.get("gaps") or []]
    return Recording(time_s=time_s, acc_g=acc_g, placement=meta.get("placement"),
                     sampling_rate_hz=meta.get("sampling_rate_hz"), start_time=meta.get("start_time"),
                     metadata=meta.get("metadata") or {}, gaps=gaps)


def read_header(path: Path) -> tuple[dict[str, str], int]:
    """The leading `# key: value` lines as a dict, and how many lines they take."""
    meta: dict[str, str] = {}
    count = 0
    try:
        with open(path, encoding="utf-8-sig") as fh:
            for line in fh:
                if not line.startswith("#"):
                    break
                count += 1
                key, sep, value = line[1:].partition(":")
                if sep:
                    meta[key.strip().lower()] = value.strip()
    except UnicodeDecodeError:
        raise InputError("not a text file", path=path, expected="a CSV file in UTF-8") from None
    return meta, count


def _load_csv(path: Path, unit: str | None) -> Recording:
    meta, n_meta = read_header(path)
    header_line = n_meta + 1
    try:
        frame = pd.read_csv(path, skiprows=n_meta, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                            skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise InputError("empty file", path=path, expected="a header line " + ",".join(CSV_COLUMNS)) from None
    except UnicodeDecodeError:
        raise InputError("not a text file", path=path, expected="a CSV file in UTF-8") from None
    except pd.errors.ParserError as exc:
        raise InputError("malformed CSV", path=path, found=str(exc).strip().splitlines()[-1],
                         expected=f"{len(CSV_COLUMNS)} comma-separated columns") from None
    columns = [c.strip() for c in frame.columns]
    unknown = [c for c in columns if c not in CSV_COLUMNS]
    missing = [c for c in CSV_COLUMNS if c not in columns]
    if unknown or missing:
        raise InputError("unexpected columns", path=path, line=header_line,
                         found=",".join(columns) or "nothing", expected=",".join(CSV_COLUMNS)
                         + " (another app's export: `retrorun import FILE`, or `--format generic_csv --columns "
                         "T,X,Y,Z` for any CSV)" * bool(unknown))
    frame.columns = columns
    if len(frame) == 0:
        raise InputError("header only, no samples", path=path, line=header_line, expected="at least one data row")
    first_data_line = header_line + 1
    values = _numeric(frame, path, first_data_line)
    time_s = values[:, 0]
    acc = values[:, 1:]
    _check_time(time_s, path, first_data_line)
    stated = unit or meta.get("unit")
    decision = decide_unit(acc, time_s, stated, path=path)
    metadata = {k: v for k, v in meta.items() if k not in META_KEYS_TOP + ("unit",)}
    metadata.update(source_file=str(path), unit_found=decision.unit, unit_conversion=decision.describe())
    placement = meta.get("placement") or None
    try:
        return Recording(time_s=time_s - time_s[0], acc_g=to_g(acc, decision.unit), placement=placement,
                         start_time=meta.get("start_time") or None, metadata=metadata)
    except InputError as exc:
        raise InputError(exc.what, path=path, found=exc.found, expected=exc.expected) from None


def _numeric(frame: pd.DataFrame, path: Path, first_data_line: int) -> np.ndarray:
    """Float matrix of the CSV, or an InputError at the first bad cell (line and column named)."""
    out = np.empty((len(frame), len(CSV_COLUMNS)))
    for j, name in enumerate(CSV_COLUMNS):
        raw = frame[name].str.strip()
        num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
        bad = np.isnan(num)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            cell = raw.iloc[i]
            if cell == "" or cell.lower() in ("nan", "na", "null", "none"):
                run_end = i
                while run_end + 1 < len(num) and bad[run_end + 1]:
                    run_end += 1
                span = f"lines {first_data_line + i}-{first_data_line + run_end}"
                raise InputError("missing values (NaN)", path=path, line=first_data_line + i, column=name,
                                 found=f"{run_end - i + 1} empty/NaN cells ({span})",
                                 expected="a number in every cell (cut or fill the gap first)")
            raise InputError("not a number", path=path, line=first_data_line + i, column=name,
                             found=repr(cell), expected="a decimal number")
        if not np.isfinite(num).all():
            i = int(np.flatnonzero(~np.isfinite(num))[0])
            raise InputError("infinite value", path=path, line=first_data_line + i, column=name,
                             found=repr(raw.iloc[i]), expected="a finite number")
        out[:, j] = num
    return out


def _check_time(time_s: np.ndarray, path: Path, first_data_line: int) -> None:
    dt = np.diff(time_s)
    bad = np.flatnonzero(dt <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        what = "duplicate timestamp" if dt[i - 1] == 0 else "time goes backwards"
        raise InputError(what, path=path, line=first_data_line + i, column="time_s",
                         found=f"{time_s[i]!r} after {time_s[i - 1]!r}", expected="strictly increasing time_s")
