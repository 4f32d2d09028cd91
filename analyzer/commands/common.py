"""Pieces shared by the report, history, compare and trends subcommands (not a subcommand itself)."""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sensors import Recording
from sensors.errors import InputError, RetrorunError
from sensors.fileformat import atomic_write
from sensors.recording import PLACEMENTS

from ..analysis import Analysis
from ..session import DIRECTIONS


def add_db_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, metavar="FILE",
                   help="history database (default: history.sqlite in your user data directory)")


def add_forward_axis_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--forward-axis", metavar="AXIS",
                   help="the sensor axis that points forward of the body (+x, -y, ...), for detecting the running "
                        "direction without a warm-up walk (default: the file's '# forward_axis:' line, else "
                        "calibrated on the first walk)")


def with_forward_axis(recording: Recording, axis: str | None) -> Recording:
    """`recording` with a stated forward axis (checked) in its metadata, for analyzer/direction.py."""
    if axis:
        from ..direction import parse_forward_axis
        parse_forward_axis(axis)
        recording.metadata["forward_axis"] = axis
    return recording


def add_recording_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--placement", choices=PLACEMENTS + ("auto",),
                   help="where the sensor was worn; auto reads it from the signal (default: from the file, else auto)")
    p.add_argument("--unit", metavar="UNIT", help="acceleration unit: g, m/s^2 or mg (default: detected)")
    p.add_argument("--direction", choices=DIRECTIONS,
                   help="running direction, shown as 'stated' (default: detected from the signal, as "
                        "`retrorun analyze` shows it, else unknown)")
    add_forward_axis_argument(p)
    p.add_argument("--warmup-min", type=float, metavar="MIN",
                   help="minutes at the start left out of summary values (default 5, from the guidance rules; "
                        "0 when the recording starts after the warm-up)")


def history_path(args: argparse.Namespace) -> Path:
    from ..history import default_db_path
    return args.db if getattr(args, "db", None) else default_db_path()


def warmup_s(args: argparse.Namespace) -> float | None:
    minutes = getattr(args, "warmup_min", None)
    if minutes is None:
        return None
    if not minutes >= 0:
        raise InputError("warm-up must be zero or more minutes", found=str(minutes))
    return minutes * 60.0


@dataclass
class LoadedSession:
    path: Path
    recording: Recording
    analysis: Analysis
    direction: str
    direction_source: str
    digest: str


def load_and_analyse(path: Path, args: argparse.Namespace) -> LoadedSession:
    """Load one recording (or cadence file), analyse it and establish its direction and content hash."""
    from sensors import load

    from ..cadence import load_session

    recording, analysis = load_session(path, lambda p: with_forward_axis(
        load(p, unit=getattr(args, "unit", None), placement=getattr(args, "placement", None)),
        getattr(args, "forward_axis", None)))
    return loaded_session(path, recording, analysis, args)


def loaded_session(path: Path, recording: Recording, analysis: Analysis, args: argparse.Namespace) -> LoadedSession:
    """An analysed recording with its direction (stated, else detected, else unknown) and content hash."""
    from sensors.fileformat import content_hash

    from ..session import direction_of

    direction, source = direction_of(recording, getattr(args, "direction", None), analysis)
    return LoadedSession(path, recording, analysis, direction, source, content_hash(path))


def session_date(recording: Recording, path: Path, stated: str | None = None) -> str:
    """The date a session is filed under: stated, else the recording's start time, else the file's
    modification time (UTC)."""
    from ..history import normalise_date
    if stated:
        return normalise_date(stated)
    if recording.start_time:
        try:
            return normalise_date(recording.start_time, "start time")
        except InputError:
            pass
    mtime = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc).replace(tzinfo=None)
    return mtime.isoformat(timespec="seconds")


def write_binary(outputs: dict[Path, bytes]) -> None:
    """Write each file atomically and say so."""
    for path, data in outputs.items():
        try:
            atomic_write(path, data)
        except OSError as exc:
            raise RetrorunError(f"{path}: cannot write: {exc.strerror}") from None
        print(f"wrote {path}")
