"""Polar Sensor Logger (Android) `_ACC` files from a Polar H10, Verity Sense or OH1.

Layout (docs/formats.md)::

    Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]
    2022-04-25T11:39:36.978;704201974831254116;-777;436;-499

The sensor timestamp is the device's own clock in ns since 2000-01-01 (the Polar epoch), set from the
phone: it is regular, so it times the samples. The phone timestamp (local time, no zone) gives the
wall-clock start; it is stamped when a BLE packet arrives, so it is bunched and may jump when the phone
resynchronises its clock.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from .base import ImportOptions, Samples, Source, axes_matrix, axis_unit, backward_jumps, iso_times_ns, read_table

NAME = "polar_sensor_logger"
TITLE = "Polar Sensor Logger"

POLAR_EPOCH = pd.Timestamp("2000-01-01 00:00:00")
PHONE_COLUMN = "Phone timestamp"
SENSOR_NS_COLUMN = r"sensor timestamp \[ns\]"
ELAPSED_MS_COLUMN = r"timestamp \[ms\]"
AXIS_PATTERN = r"{axis} \[[^\]]+\]"


def detect(source: Source) -> bool:
    """Any Polar Sensor Logger stream (ACC, HR, GYRO...): its first column is the phone timestamp."""
    if source.kind != "file":
        return False
    cells = source.header_cells()
    return len(cells) >= 2 and cells[0].lower() == PHONE_COLUMN.lower()


def read(source: Source, options: ImportOptions) -> Samples:
    table = read_table(source.read_bytes(), source.label())
    axes = tuple(table.find(AXIS_PATTERN.format(axis=a), what=f"{a} acceleration", required=False) for a in "XYZ")
    if None in axes:
        raise InputError("not a Polar accelerometer (ACC) file", path=table.label, line=table.header_line,
                         found=table.delimiter.join(table.columns)[:120],
                         expected="X [mg];Y [mg];Z [mg] columns (the *_ACC.txt file of the recording)")
    unit = _acc_unit(table, axes)
    acc = axes_matrix(table, axes)
    phone_ns = _phone_ns(table)
    time_s, time_column, clock = _clock(table, phone_ns)
    notes = backward_jumps(phone_ns / 1e9, table, PHONE_COLUMN) if time_column != PHONE_COLUMN else []
    return Samples(table=table, time_s=time_s, time_column=time_column, acc=acc, axes=axes,
                   read=f"{TITLE} ACC file ({', '.join(axes)})", clock=clock, file_unit=unit,
                   unit_source=f"header {axes[0]!r}", start_time=_iso(phone_ns[0]),
                   extra={"device": _device_from_name(source)}, notes=notes)


def _acc_unit(table, axes) -> str:
    unit = axis_unit(table, axes)
    if unit is None:
        raise InputError("not a Polar accelerometer (ACC) file", path=table.label, line=table.header_line,
                         column=axes[0], found=", ".join(axes), expected="X [mg];Y [mg];Z [mg] (a gyro or "
                                                                         "magnetometer file is not acceleration)")
    return unit


def _phone_ns(table) -> np.ndarray:
    column = table.require(PHONE_COLUMN, what="phone timestamp")
    return iso_times_ns(table, column, "2022-04-25T11:39:36.978 (local time)")


def _clock(table, phone_ns: np.ndarray) -> tuple[np.ndarray, str, str]:
    """Seconds on the best clock in the file: the sensor's ns stamps, else ms since start, else the phone's."""
    sensor = table.find(SENSOR_NS_COLUMN, what="sensor timestamp", required=False)
    if sensor is not None:
        ns = table.numbers(sensor, integer=True)
        offset_s = (phone_ns[0] - (POLAR_EPOCH.value + ns[0])) / 1e9
        clock = (f"{sensor} (the sensor's clock, ns since 2000-01-01); the phone stamped the first sample "
                 f"{offset_s:+.3f} s later")
        return (ns - ns[0]) / 1e9, sensor, clock
    elapsed = table.find(ELAPSED_MS_COLUMN, what="elapsed time", required=False)
    if elapsed is not None:
        return table.numbers(elapsed) / 1e3, elapsed, f"{elapsed} (ms since the first sample)"
    return (phone_ns - phone_ns[0]) / 1e9, PHONE_COLUMN, \
        f"{PHONE_COLUMN} (phone clock at BLE packet arrival: bunched, no sensor clock in this file)"


def _iso(ns: int) -> str:
    return pd.Timestamp(int(ns)).isoformat(timespec="milliseconds")


def _device_from_name(source: Source) -> str:
    """Polar_<model>_<deviceId>_<date>_<time>_ACC.txt names the model; otherwise just the brand."""
    parts = source.path.stem.split("_")
    if len(parts) >= 2 and parts[0].lower() == "polar":
        return f"Polar {parts[1]}" + (f" {parts[2]}" if len(parts) >= 6 else "")
    return "Polar"
