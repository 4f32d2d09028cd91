"""Write a `Recording` in each app's export layout: the test fixtures, the round-trip tests and the
import-speed benchmark are made with these. Layouts follow docs/formats.md; the header strings are
written out literally here (not shared with the readers) so a reader's mistake cannot hide in both.

Values are written as the apps write them: Polar in whole mg, MetaBase in g to 3 decimals, Physics
Toolbox in g to 4 decimals with the time to the millisecond, phone apps in m/s^2 at full precision.
"""
from __future__ import annotations

import io
import zipfile
from datetime import timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from ..fileformat import atomic_write
from ..recording import Recording
from ..units import STANDARD_GRAVITY_MPS2

DEFAULT_START = pd.Timestamp("2024-05-04 08:30:15.250")
"""Local wall-clock start of every export (any fixed time: tests compare against it)."""

POLAR_EPOCH = pd.Timestamp("2000-01-01")


def _cells(values: np.ndarray, fmt: str, decimal: str = ".") -> np.ndarray:
    text = np.char.mod(fmt, values)
    return np.char.replace(text, ".", ",") if decimal == "," else text


def _join(columns: list[np.ndarray], delimiter: str) -> str:
    rows = columns[0]
    for column in columns[1:]:
        rows = np.char.add(np.char.add(rows, delimiter), column)
    return "\n".join(rows.tolist()) + "\n"


def _mps2(rec: Recording) -> np.ndarray:
    return rec.acc_g * STANDARD_GRAVITY_MPS2


def _ms(rec: Recording) -> np.ndarray:
    return np.round(rec.time_s * 1e3).astype(np.int64)


# ----------------------------------------------------------------------------------------------- apps

def sensor_logger_stream(rec: Recording, *, start: pd.Timestamp = DEFAULT_START, elapsed_offset_s: float = 0.05,
                         gravity_removed: bool = False) -> str:
    """`time,seconds_elapsed,z,y,x`: epoch ns, seconds since the recording began, m/s^2 in z, y, x order."""
    acc = _mps2(rec)
    if gravity_removed:
        acc = acc - acc.mean(axis=0)
    epoch_ns = start.tz_localize("UTC").value + np.round(rec.time_s * 1e9).astype(np.int64)
    columns = [epoch_ns.astype(str), _cells(rec.time_s + elapsed_offset_s, "%.9f")]
    columns += [_cells(acc[:, k], "%.10g") for k in (2, 1, 0)]
    return "time,seconds_elapsed,z,y,x\n" + _join(columns, ",")


def sensor_logger_metadata(*, app_version: str = "1.26.0", start: pd.Timestamp = DEFAULT_START,
                           zone: str = "UTC", newer: bool = False) -> str:
    header = "version,device name,recording epoch time,recording time,recording timezone,platform,appVersion," \
             "device id,sensors,sampleRateMs"
    row = (f"3,Pixel 7,{start.tz_localize('UTC').value // 10**6},{start.strftime('%Y-%m-%d_%H-%M-%S')},{zone},"
           f"android,{app_version},0000-fixture,Accelerometer|TotalAcceleration,10|10")
    if newer:  # app versions around 1.64 append two columns
        header += ",standardisation,platform version"
        row += ",true,14"
    return header + "\n" + row + "\n"


def sensor_logger(rec: Recording, path: Path, *, container: str = "zip", streams=("TotalAcceleration.csv",
                  "Accelerometer.csv"), newer_metadata: bool = False, zone: str = "UTC") -> None:
    members = {"Metadata.csv": sensor_logger_metadata(newer=newer_metadata, zone=zone,
                                                      app_version="1.64.0" if newer_metadata else "1.26.0")}
    for stream in streams:
        members[stream] = sensor_logger_stream(rec, gravity_removed=stream == "Accelerometer.csv")
    _write_container(path, members, container)


def polar_sensor_logger(rec: Recording, path: Path, *, start: pd.Timestamp = DEFAULT_START,
                        phone_lag_s: float = 2.147, with_elapsed_ms: bool = False) -> None:
    """`Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]`: whole mg, Polar-epoch ns."""
    sensor_ns = (start - POLAR_EPOCH).value + np.round(rec.time_s * 1e9).astype(np.int64)
    phone = (start + pd.Timedelta(milliseconds=round(phone_lag_s * 1e3))) + pd.to_timedelta(_ms(rec), unit="ms")
    phone_text = np.array(phone.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3])
    mg = np.round(rec.acc_g * 1e3).astype(np.int64).astype(str)
    columns = [phone_text, sensor_ns.astype(str)] + ([_ms(rec).astype(str)] if with_elapsed_ms else [])
    header = "Phone timestamp;sensor timestamp [ns];" + ("timestamp [ms];" if with_elapsed_ms else "")
    text = header + "X [mg];Y [mg];Z [mg]\n" + _join(columns + [mg[:, 0], mg[:, 1], mg[:, 2]], ";")
    atomic_write(Path(path), text.encode())


def phyphox_table(rec: Recording, *, with_g: bool = True, delimiter: str = ",", decimal: str = ".") -> str:
    acc = _mps2(rec)
    name = "Acceleration" if with_g else "Linear Acceleration"
    if not with_g:
        acc = acc - acc.mean(axis=0)
    header = ["Time (s)"] + [f"{name} {a} (m/s^2)" for a in "xyz"] + ["Absolute acceleration (m/s^2)"]
    columns = [_cells(rec.time_s, "%.9E", decimal)] + [_cells(acc[:, k], "%.9E", decimal) for k in range(3)]
    columns.append(_cells(np.linalg.norm(acc, axis=1), "%.9E", decimal))
    return delimiter.join(f'"{h}"' for h in header) + "\n" + _join(columns, delimiter)


def phyphox_meta(*, start: pd.Timestamp = DEFAULT_START, paused: bool = False) -> dict[str, str]:
    epoch_s = start.tz_localize(timezone(timedelta(hours=2))).timestamp()
    rows = [("START", 0.0, epoch_s)] + ([("PAUSE", 5.0, epoch_s + 5.0), ("START", 5.0, epoch_s + 9.0)] if paused else [])
    time_csv = '"event","experiment time","system time","system time text"\n' + "".join(
        f'"{e}",{t:.3f},{s:.3f},"{pd.Timestamp(s, unit="s", tz="UTC").tz_convert(timezone(timedelta(hours=2))).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]} UTC+02:00"\n'
        for e, t, s in rows)
    device_csv = ('"property","value"\n"version","1.1.13"\n"build","1011300"\n"fileFormat","1.16"\n'
                  '"deviceModel","iPhone13,4"\n"deviceBrand","Apple"\n"deviceRelease","17.3.1"\n')
    return {"meta/time.csv": time_csv, "meta/device.csv": device_csv}


def phyphox(rec: Recording, path: Path, *, container: str = "zip", with_g: bool = True, delimiter: str = ",",
            decimal: str = ".", paused: bool = False) -> None:
    """A phyphox export: `container` zip, folder, file (Raw Data.csv alone) or xlsx."""
    if container == "xlsx":
        _phyphox_xlsx(rec, Path(path), with_g=with_g)
        return
    members = {"Raw Data.csv": phyphox_table(rec, with_g=with_g, delimiter=delimiter, decimal=decimal)}
    members.update(phyphox_meta(paused=paused))
    _write_container(path, members, container)


def _phyphox_xlsx(rec: Recording, path: Path, *, with_g: bool) -> None:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    data = book.create_sheet("Raw Data")
    name = "Acceleration" if with_g else "Linear Acceleration"
    data.append(["Time (s)"] + [f"{name} {a} (m/s^2)" for a in "xyz"] + ["Absolute acceleration (m/s^2)"])
    acc = _mps2(rec) if with_g else _mps2(rec) - _mps2(rec).mean(axis=0)
    for t, (x, y, z) in zip(rec.time_s.tolist(), acc.tolist()):
        data.append([t, x, y, z, (x * x + y * y + z * z) ** 0.5])
    for title, text in (("Metadata Time", phyphox_meta()["meta/time.csv"]),
                        ("Metadata Device", phyphox_meta()["meta/device.csv"])):
        sheet = book.create_sheet(title)
        for line in text.strip().splitlines():
            sheet.append([_cell_value(c) for c in pd.read_csv(io.StringIO(line), header=None).iloc[0].tolist()])
    buffer = io.BytesIO()
    book.save(buffer)
    atomic_write(path, buffer.getvalue())


def _cell_value(value):
    return value.item() if hasattr(value, "item") else value


def physics_toolbox(rec: Recording, path: Path, *, start: pd.Timestamp = DEFAULT_START, decimal: str = ",",
                    linear: bool = False) -> None:
    """`time;gFx;gFy;gFz;TgF` (decimal comma locale) or `time,gFx,...` (decimal point), g, HH:MM:SS:fff."""
    delimiter = ";" if decimal == "," else ","
    clock = start + pd.to_timedelta(_ms(rec), unit="ms")
    times = np.array(clock.strftime("%H:%M:%S:%f").str[:-3])
    if linear:
        acc, names, fmt = _mps2(rec) - _mps2(rec).mean(axis=0), ("ax", "ay", "az", "aT"), "%.4f"
    else:
        acc, names, fmt = rec.acc_g, ("gFx", "gFy", "gFz", "TgF"), "%.4f"
    columns = [times] + [_cells(acc[:, k], fmt, decimal) for k in range(3)]
    columns.append(_cells(np.linalg.norm(acc, axis=1), fmt, decimal))
    text = delimiter.join(("time",) + names) + "\n" + _join(columns, delimiter)
    atomic_write(Path(path), text.encode())


def metabase(rec: Recording, path: Path, *, start: pd.Timestamp = DEFAULT_START, utc_offset: str = "-13:00") -> None:
    """`epoch (ms),time (-13:00),elapsed (s),x-axis (g),y-axis (g),z-axis (g)`, g to 3 decimals."""
    local = start + pd.to_timedelta(_ms(rec), unit="ms")
    sign = -1 if utc_offset.startswith("-") else 1
    hours, minutes = (int(v) for v in utc_offset.lstrip("+-").split(":"))
    epoch_ms = (start.value // 10**6 - sign * (hours * 3600 + minutes * 60) * 1000) + _ms(rec)
    columns = [epoch_ms.astype(str), np.array(local.strftime("%Y-%m-%dT%H.%M.%S.%f").str[:-3]),
               _cells(_ms(rec) / 1e3, "%.3f")] + [_cells(rec.acc_g[:, k], "%.3f") for k in range(3)]
    text = f"epoch (ms),time ({utc_offset}),elapsed (s),x-axis (g),y-axis (g),z-axis (g)\n" + _join(columns, ",")
    atomic_write(Path(path), text.encode())


def generic_csv(rec: Recording, path: Path, *, delimiter: str = ";", decimal: str = ",", unit: str = "m/s^2",
                time_header: str = "t_ms", axes=("acc_lr", "acc_ud", "acc_fb")) -> None:
    """A made-up logger: time in ms, three oddly named axes, any delimiter, decimal and unit."""
    scale = {"g": 1.0, "m/s^2": STANDARD_GRAVITY_MPS2, "mg": 1e3}[unit]
    columns = [_ms(rec).astype(str)] + [_cells(rec.acc_g[:, k] * scale, "%.8f", decimal) for k in range(3)]
    text = delimiter.join((time_header,) + tuple(axes)) + "\n" + _join(columns, delimiter)
    atomic_write(Path(path), text.encode())


def _write_container(path: Path, members: dict[str, str], container: str) -> None:
    path = Path(path)
    if container == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in members.items():
                archive.writestr(name, text)
        atomic_write(path, buffer.getvalue())
    elif container == "folder":
        for name, text in members.items():
            atomic_write(path / name, text.encode())
    elif container == "file":
        name = next(n for n in members if not n.startswith("meta/") and n != "Metadata.csv")
        atomic_write(path, members[name].encode())
    else:
        raise ValueError(f"unknown container {container!r}")


EXPORTERS = {"sensor_logger": sensor_logger, "polar_sensor_logger": polar_sensor_logger, "phyphox": phyphox,
             "physics_toolbox": physics_toolbox, "metabase": metabase, "generic_csv": generic_csv}
"""One writer per format name, each `writer(recording, path, **layout_options)`."""
