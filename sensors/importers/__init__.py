"""Importers of the exports of phone and wearable logging apps (docs/formats.md).

One entry point::

    rec = sensors.importers.read("2023-11-24_07-25-54.zip")            # format detected from content
    rec = sensors.importers.read("log.txt", format="generic_csv", columns=("t", "ax", "ay", "az"), units="g")

Every format is a small module with `NAME`, `detect(source) -> bool` and `read(source, options) ->
Samples`; `base` holds the shared reader (delimiters, decimals, units, clocks, errors).
`rec.metadata` records the format, what was read, the clock used and any unit conversion.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..errors import InputError
from ..recording import Recording, check_placement
from ..units import normalise_unit
from . import generic_csv, metabase, phyphox, physics_toolbox, polar_sensor_logger, sensor_logger
from .base import ImportOptions, Source, to_recording

CANONICAL = "canonical"

FORMATS = {module.NAME: module for module in (
    sensor_logger, polar_sensor_logger, phyphox, physics_toolbox, metabase, generic_csv)}
"""Every app format, in the order detection tries them."""

FORMAT_NAMES = (CANONICAL,) + tuple(FORMATS)

_CANONICAL_HEADER = {"time_s", "acc_x", "acc_y", "acc_z"}


def detect_format(path: str | Path) -> str | None:
    """The app format of a file, zip or folder judged from its content; 'canonical' for retrorun's own
    CSV or .npz, None when no importer recognises it (the canonical reader then explains what is wrong)."""
    path = Path(path)
    if path.suffix == ".npz" and path.is_file():
        return CANONICAL
    source = Source(path)
    try:
        return _detect(source)
    finally:
        source.close()


ARCHIVE_SUFFIXES = (".zip", ".xlsx", ".xls")
"""Never canonical: the canonical reader would hand these to pandas, which unzips by suffix."""


def claims(path: str | Path) -> bool:
    """Whether `sensors.load` should hand `path` to the importers rather than the canonical reader."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() in ARCHIVE_SUFFIXES:
        return True
    source = Source(path)
    try:
        return source.kind == "zip" or _detect(source) not in (None, CANONICAL)
    finally:
        source.close()


def _detect(source: Source) -> str | None:
    if source.kind == "file" and set(source.header_cells()) == _CANONICAL_HEADER:
        return CANONICAL
    for name, module in FORMATS.items():
        if module.detect(source):
            return name
    return None


def read(path: str | Path, format: str | None = None, columns: Sequence[str] | str | None = None,
         units: str | None = None, placement: str | None = None) -> Recording:
    """Read any supported export as a `Recording` in g.

    format: one of FORMAT_NAMES, else detected from content. columns: time, x, y, z column names
    (a sequence or 'T,X,Y,Z'), for generic CSV. units: the acceleration unit (g, m/s^2, mg), overriding
    the file's; also the way to accept data with gravity removed. placement: where the sensor was worn.
    """
    path = Path(path)
    options = _options(columns, units, placement)
    if format is not None and format not in FORMAT_NAMES:
        raise InputError("unknown format", path=path, found=repr(format), expected="one of " + ", ".join(FORMAT_NAMES))
    if format is None and columns is not None:
        format = generic_csv.NAME
    if columns is not None and format != generic_csv.NAME:
        raise InputError("--columns applies to generic CSV only", path=path, found=f"format {format}",
                         expected="--format generic_csv, or no --columns")
    source = Source(path)
    try:
        name = format or _detect(source)
        if name == CANONICAL:
            from ..fileformat import load
            return load(path, unit=units, placement=placement, format=CANONICAL)
        if name is None:
            raise _unknown_layout(source)
        module = FORMATS[name]
        return to_recording(module.read(source, options), options, name)
    finally:
        source.close()


def _options(columns, units, placement) -> ImportOptions:
    if isinstance(columns, str):
        columns = tuple(c.strip() for c in columns.split(","))
    if columns is not None:
        columns = tuple(columns)
        if len(columns) != 4 or not all(columns):
            raise InputError("columns must name time, x, y and z", found=",".join(columns) or "nothing",
                             expected="four column names, e.g. --columns t,ax,ay,az")
    if units is not None:
        units = normalise_unit(units)
    check_placement(placement)
    return ImportOptions(columns=columns, units=units, placement=placement)


def _unknown_layout(source: Source) -> InputError:
    if source.kind == "file":
        found = "header " + repr(",".join(source.header_cells())[:100] or "(not text)")
    else:
        found = f"{source.kind} with " + (", ".join(source.names[:6]) or "no files")
    return InputError("unknown file layout", path=source.label(), found=found,
                      expected="an export listed in docs/formats.md, or --format generic_csv --columns T,X,Y,Z")


__all__ = ["read", "detect_format", "claims", "FORMATS", "FORMAT_NAMES", "CANONICAL", "ImportOptions"]
