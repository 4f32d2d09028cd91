"""`retrorun record`: stream a wearable over BLE into a crash-safe journal, then the canonical recording."""
from __future__ import annotations

import argparse
import asyncio
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from sensors.errors import DeviceError, InputError
from sensors.recording import PLACEMENTS

from .output import check_recording_output

EPILOG_RECORD = """\
examples:
  retrorun record --device "Polar H10 A1B2C3D4" --seconds 1200 -o run.csv
  retrorun record --profile verity-sense --rate-hz 52 --placement shank -o run.npz
  retrorun record --emulate polar-h10 --seconds 30 -o try.csv        # no hardware: an emulated H10
  retrorun record --emulate polar-h10 --replay run.csv --emulate-speed 10 -o again.csv

Samples go to FILE.journal as they arrive (flushed at least every second); when the session ends (after
--seconds, or Ctrl-C) the journal becomes FILE and is deleted. After a crash or kill, rebuild the recording
with `retrorun recover FILE.journal -o FILE`. Disconnects are survived (reconnect, restart the stream)
and every lost stretch is recorded as a gap. --emulate needs Google Bumble (pip install "retrorun[test]").
"""

EMULATED_SECONDS_DEFAULT = 60.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("record", help="record a wearable over BLE (or an emulated one)",
                       description="Connect to a wearable, stream its accelerometer and write a recording.",
                       epilog=EPILOG_RECORD, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_recording_arguments(p)
    p.set_defaults(func=cmd_record)


def add_recording_arguments(p: argparse.ArgumentParser) -> None:
    """The options of every command that records (`record`, `live`)."""
    from sensors.devices import PROFILES

    p.add_argument("--device", metavar="NAME|ADDRESS", help="advertised name or address (default: the first supported)")
    p.add_argument("--profile", choices=tuple(PROFILES), help="device family (default: detected from the advertisement)")
    p.add_argument("--emulate", choices=tuple(PROFILES), help="record an emulated device streaming a simulated run")
    p.add_argument("--replay", type=Path, metavar="FILE",
                   help="with --emulate: the device streams this recording (any importable format) instead of a "
                        "simulated run, resampled to its rate")
    p.add_argument("--emulate-speed", type=float, default=1.0, metavar="X",
                   help="the emulated device runs X times faster than real time (default 1)")
    p.add_argument("--rate-hz", type=float, help="sampling rate (default: the device's default)")
    p.add_argument("--range-g", type=float, help="accelerometer range in g (default: the device's default)")
    p.add_argument("--seconds", type=float, help="session length (default: until Ctrl-C; when emulating 60, or the whole --replay file)")
    p.add_argument("--placement", choices=PLACEMENTS, help="where the sensor is worn (stored in the output)")
    p.add_argument("--journal", type=Path, metavar="FILE", help="journal path (default: OUTPUT.journal)")
    p.add_argument("--keep-journal", action="store_true", help="keep the journal after a successful finalise")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing output file (default: refuse, so no earlier session is lost)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.csv|FILE.npz")


@dataclass
class SessionHooks:
    """How a command that records extends the session (`retrorun live`), without changing how it records.

    wrap_journal(journal, rate_hz, placement): what the Recorder appends to instead of the journal itself (it
    must forward every call to the journal); on_status: called with the Recorder's status about once a second.
    """

    wrap_journal: Callable[[Any, float, str | None], Any] | None = None
    on_status: Callable[[Any], None] | None = None


@dataclass
class RecordedSession:
    journal_path: Path
    result: Any
    interrupted: bool


def cmd_record(args: argparse.Namespace) -> None:
    finalise_session(args, record_session(args))


def record_session(args: argparse.Namespace, hooks: SessionHooks | None = None) -> RecordedSession:
    """Record until --seconds or Ctrl-C into the journal (closed on return); DeviceError if nothing was recorded."""
    hooks = hooks or SessionHooks()
    check_recording_output(args.output)
    if args.output.exists() and not args.overwrite:
        raise InputError("the output file exists: a new session would replace it", path=args.output,
                         expected="another -o name, or --overwrite")
    if args.replay is not None and not args.emulate:
        raise InputError("--replay needs --emulate PROFILE (the emulated device streams the file)")
    seconds = args.seconds if args.seconds is not None else (EMULATED_SECONDS_DEFAULT if args.emulate else math.inf)
    if not seconds > 0:
        raise InputError("--seconds must be positive", found=str(args.seconds))
    _check_cadence_output(args)
    journal_path = args.journal or args.output.with_name(args.output.name + ".journal")
    holder: dict = {}
    interrupted = False
    try:
        result = asyncio.run(_record(args, seconds, journal_path, holder, hooks))
    except KeyboardInterrupt:
        interrupted, result = True, None
    finally:
        if "journal" in holder:
            holder["journal"].close()
        print(file=sys.stderr)
    if "journal" not in holder:
        raise DeviceError("nothing recorded")
    return RecordedSession(journal_path, result, interrupted)


def _check_cadence_output(args: argparse.Namespace) -> None:
    """A profile without acceleration records a cadence track, which is written as CSV only."""
    from sensors.devices import get_profile

    key = args.emulate or args.profile
    if key and not get_profile(key).streams_acceleration and args.output.suffix != ".csv":
        raise InputError(f"{key} records a cadence track, written as CSV", path=args.output,
                         found=repr(args.output.suffix), expected="FILE.csv")


def finalise_session(args: argparse.Namespace, session: RecordedSession):
    """Turn the journal into the output recording, delete the journal (unless kept), print what was written."""
    from sensors.journal import finalise

    recovered = finalise(session.journal_path, args.output)
    if not args.keep_journal:
        session.journal_path.unlink(missing_ok=True)
    rec = recovered.track
    status = session.result.status if session.result else None
    lost = rec.metadata.get("lost_samples", 0)
    what = "cadence readings" if recovered.cadence is not None else "samples"
    print(f"wrote {args.output}: {len(rec)} {what} at {rec.sampling_rate_hz:g} Hz over {rec.duration_s:.1f} s, "
          f"gaps {len(rec.gaps)}" + ("" if recovered.cadence is not None else f" ({lost} samples lost)")
          + (f", reconnects {status.reconnects}, malformed frames {status.malformed_frames}" if status else "")
          + (" (stopped by Ctrl-C)" if session.interrupted else ""))
    return recovered


async def _record(args: argparse.Namespace, seconds: float, journal_path: Path, holder: dict,
                  hooks: SessionHooks):
    from sensors.ble import Recorder, find_device
    from sensors.devices import get_profile
    from sensors.journal import JournalWriter

    profile = get_profile(args.emulate or args.profile) if (args.emulate or args.profile) else None
    emulator, scanner_kwargs, client_kwargs, wall_limit_s = None, {}, {}, seconds
    if args.emulate:
        emulator, air, seconds = await _start_emulator(args, profile, seconds)
        from sensors.emulator.backend import bleak_kwargs
        scanner_kwargs, client_kwargs = bleak_kwargs(air)
        wall_limit_s = seconds / args.emulate_speed + 30.0
    try:
        device, profile = await find_device(args.device or (emulator.name if emulator else None), profile,
                                            scanner_kwargs=scanner_kwargs)
        rate_hz = args.rate_hz or profile.default_rate_hz
        profile.session(rate_hz, args.range_g)   # an unsupported rate or range fails before the journal exists
        placement = args.placement or (emulator.recording.placement or "shank" if emulator else None)
        holder["journal"] = JournalWriter(journal_path, sampling_rate_hz=rate_hz, placement=placement,
                                          device=f"{profile.key} {device.name or ''} {device.address}".strip(),
                                          metadata={"profile": profile.key, "emulated": bool(args.emulate)})
        sink = hooks.wrap_journal(holder["journal"], rate_hz, placement) if hooks.wrap_journal else holder["journal"]
        recorder = Recorder(profile, sink, duration_s=seconds, rate_hz=rate_hz, range_g=args.range_g,
                            wall_limit_s=wall_limit_s, client_kwargs=client_kwargs,
                            on_status=hooks.on_status or _print_status,
                            device_speed=args.emulate_speed if emulator else 1.0)
        return await recorder.run(device)
    finally:
        if emulator is not None:
            await emulator.stop()


async def _start_emulator(args: argparse.Namespace, profile, seconds: float):
    """(an advertising emulated device of `profile` serving --replay or a simulated run, its air, the
    session length: the whole replayed file unless --seconds is shorter)."""
    from sensors.emulator import require_bumble
    require_bumble()
    from sensors.emulator.registry import replayed_source, simulated_source, start_emulated

    device_rate_hz = args.rate_hz or profile.default_rate_hz
    if args.replay is not None:
        served = replayed_source(profile, args.replay, device_rate_hz)
        seconds = min(seconds, served.duration_s) if args.seconds is not None else served.duration_s
    else:
        served = simulated_source(profile, seconds=seconds, rate_hz=device_rate_hz, placement=args.placement or "shank")
    air, emulator = await start_emulated(profile, served, speed=args.emulate_speed)
    return emulator, air, seconds


def _print_status(status) -> None:
    print("\r" + status.line(), end="", file=sys.stderr, flush=True)
