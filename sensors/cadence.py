"""The cadence track: what a profile without acceleration (an RSC foot pod) records, one row per reading.

Canonical CSV (documented in docs/recording-format.md)::

    # kind: cadence
    # placement: foot
    # device: rsc Stryd 1234 AA:BB:CC:DD:EE:FF
    time_s,cadence_spm,speed_mps,stride_m,distance_m,running
    0.000000,178,3.01171875,1.01,12.3,1
    1.002000,180,3.00390625,,,

`stride_m`, `distance_m` and `running` may be empty (the device did not send them); `running` is 1 or 0.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .errors import InputError
from .recording import check_placement, find_gaps, nominal_rate_hz

KIND_LINE = "# kind: cadence"
CADENCE_COLUMNS = ("time_s", "cadence_spm", "speed_mps", "stride_m", "distance_m", "running")
REQUIRED = ("time_s", "cadence_spm", "speed_mps")
"""Columns every row must fill; the others may be empty."""
DEFAULT_PLACEMENT = "foot"
"""Foot pods sit on the shoe."""
META_TOP = ("kind", "placement", "start_time")


@dataclass
class CadenceTrack:
    """Readings over time: `time_s` (N,) seconds from the first reading, strictly increasing; `cadence_spm`
    steps per minute and `speed_mps` (N,); `stride_m`, `distance_m` (N,) NaN where not sent; `running` (N,)
    1.0 running, 0.0 walking, NaN not stated. `sampling_rate_hz` and `gaps` (pauses longer than three
    nominal periods) are derived when not given."""

    time_s: np.ndarray
    cadence_spm: np.ndarray
    speed_mps: np.ndarray
    stride_m: np.ndarray | None = None
    distance_m: np.ndarray | None = None
    running: np.ndarray | None = None
    placement: str | None = DEFAULT_PLACEMENT
    start_time: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    sampling_rate_hz: float | None = None
    gaps: list[tuple[float, float]] | None = None

    def __post_init__(self) -> None:
        n = len(np.atleast_1d(self.time_s))
        column = {name: self._column(getattr(self, name), n, name) for name in CADENCE_COLUMNS}
        for name in CADENCE_COLUMNS:
            setattr(self, name, column[name])
        check_placement(self.placement)
        bad = np.flatnonzero(np.diff(self.time_s) <= 0)
        if bad.size:
            i = int(bad[0])
            raise InputError("time goes backwards or repeats", found=f"{self.time_s[i + 1]!r} after "
                             f"{self.time_s[i]!r} at reading {i + 1}", expected="strictly increasing time_s")
        if self.sampling_rate_hz is None:
            self.sampling_rate_hz = nominal_rate_hz(self.time_s)
        if self.gaps is None:
            self.gaps = find_gaps(self.time_s, self.sampling_rate_hz)

    @staticmethod
    def _column(values, n: int, name: str) -> np.ndarray:
        if values is None:
            return np.full(n, np.nan)
        array = np.ascontiguousarray(values, dtype=np.float64).reshape(-1)
        if len(array) != n:
            raise InputError(f"{name} and time_s differ in length", found=f"{len(array)} and {n}", expected="equal")
        return array

    def __len__(self) -> int:
        return len(self.time_s)

    @property
    def duration_s(self) -> float:
        return float(self.time_s[-1] - self.time_s[0]) if len(self.time_s) else 0.0

    def save(self, path: str | Path) -> None:
        """Write the canonical cadence CSV atomically."""
        from .fileformat import atomic_write

        path = Path(path)
        if path.suffix.lower() != ".csv":
            raise InputError("a cadence track is written as CSV", path=path, found=path.suffix or "no suffix",
                             expected=".csv")
        atomic_write(path, cadence_csv_text(self).encode())


def readings_track(time_s: Sequence[float], readings: Sequence, **kwargs) -> CadenceTrack:
    """A track of `CadenceReading`s (sensors.devices.base) at `time_s`."""
    def optional(values) -> list[float]:
        return [np.nan if v is None else float(v) for v in values]

    return CadenceTrack(time_s=np.asarray(time_s, dtype=float),
                        cadence_spm=[r.cadence_spm for r in readings], speed_mps=[r.speed_mps for r in readings],
                        stride_m=optional(r.stride_m for r in readings),
                        distance_m=optional(r.distance_m for r in readings),
                        running=optional(r.running for r in readings), **kwargs)


def cadence_csv_text(track: CadenceTrack) -> str:
    head = [KIND_LINE]
    if track.placement:
        head.append(f"# placement: {track.placement}")
    if track.start_time:
        head.append(f"# start_time: {track.start_time}")
    for key, value in track.metadata.items():
        text = value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)
        if key not in META_TOP and "\n" not in text:
            head.append(f"# {key}: {text}")
    rows = [",".join(CADENCE_COLUMNS)]
    for t, *values in zip(track.time_s, track.cadence_spm, track.speed_mps, track.stride_m, track.distance_m,
                          track.running):
        rows.append(f"{t:.6f}," + ",".join("" if np.isnan(v) else f"{v:.10g}" for v in values))
    return "\n".join(head + rows) + "\n"


def is_cadence_file(path: str | Path) -> bool:
    """True when `path` is a CSV whose leading `#` lines say `kind: cadence`."""
    from .fileformat import read_header

    path = Path(path)
    if not path.is_file():
        return False
    try:
        meta, _ = read_header(path)
    except InputError:
        return False
    return meta.get("kind") == "cadence"


def load_cadence(path: str | Path) -> CadenceTrack:
    """Read a canonical cadence CSV; InputError naming the file, line and column of anything wrong."""
    from .fileformat import read_header

    path = Path(path)
    if not path.is_file():
        raise InputError("no such file", path=path)
    meta, n_meta = read_header(path)
    if meta.get("kind") != "cadence":
        raise InputError("not a cadence file", path=path, found=f"kind {meta.get('kind')!r}" if "kind" in meta
                         else "no '# kind:' line", expected=f"a first line '{KIND_LINE}'")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        lines = fh.read().splitlines()[n_meta:]
    header_line = n_meta + 1
    rows = [(header_line + i, row) for i, row in enumerate(csv.reader(io.StringIO("\n".join(lines)))) if row]
    if not rows:
        raise InputError("no header line", path=path, line=header_line, expected=",".join(CADENCE_COLUMNS))
    line, header = rows[0]
    header = [c.strip() for c in header]
    if sorted(header) != sorted(CADENCE_COLUMNS):
        raise InputError("unexpected columns", path=path, line=line, found=",".join(header) or "nothing",
                         expected=",".join(CADENCE_COLUMNS))
    if len(rows) == 1:
        raise InputError("header only, no readings", path=path, line=line, expected="at least one reading")
    values = np.array([_parse_row(path, line, header, row) for line, row in rows[1:]], dtype=float).reshape(-1, 6)
    by_name = {name: values[:, header.index(name)] for name in CADENCE_COLUMNS}
    time_s = by_name["time_s"]
    bad = np.flatnonzero(np.diff(time_s) <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        raise InputError("time goes backwards or repeats", path=path, line=rows[1 + i][0], column="time_s",
                         found=f"{time_s[i]!r} after {time_s[i - 1]!r}", expected="strictly increasing time_s")
    metadata = {k: v for k, v in meta.items() if k not in META_TOP}
    metadata["source_file"] = str(path)
    try:
        placement = check_placement(meta.get("placement") or DEFAULT_PLACEMENT)
    except InputError as exc:
        raise InputError(exc.what, path=path, found=exc.found, expected=exc.expected) from None
    return CadenceTrack(time_s=time_s - time_s[0], placement=placement, start_time=meta.get("start_time") or None,
                        metadata=metadata, **{k: v for k, v in by_name.items() if k != "time_s"})


def _parse_row(path: Path, line: int, header: list[str], row: list[str]) -> list[float]:
    if len(row) != len(header):
        raise InputError("wrong number of cells", path=path, line=line, found=str(len(row)),
                         expected=f"{len(header)} comma-separated cells")
    out = []
    for name, cell in zip(header, (c.strip() for c in row)):
        if cell == "" and name not in REQUIRED:
            out.append(np.nan)
            continue
        if name == "running":
            if cell not in ("0", "1"):
                raise InputError("not a running flag", path=path, line=line, column=name, found=repr(cell),
                                 expected="1 (running), 0 (walking) or empty")
            out.append(float(cell))
            continue
        try:
            value = float(cell)
        except ValueError:
            raise InputError("not a number" if cell else "missing value", path=path, line=line, column=name,
                             found=repr(cell), expected="a number" + ("" if name in REQUIRED else " or empty")) from None
        if not (np.isfinite(value) and value >= 0):
            raise InputError("not a finite number of zero or more", path=path, line=line, column=name,
                             found=repr(cell), expected="a finite number >= 0")
        out.append(value)
    return out
