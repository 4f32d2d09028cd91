"""`retrorun scan`: the Bluetooth devices around, and which of them retrorun can record."""
from __future__ import annotations

import argparse
import asyncio

from sensors.errors import InputError

EPILOG_SCAN = """\
examples:
  retrorun scan                       # supported devices advertising within 5 s
  retrorun scan --seconds 10 --battery --all
  retrorun scan --emulate             # no hardware: one emulated device of every profile

A device is supported when its advertised name or service matches a profile (see docs/ble.md); record it
with `retrorun record --device NAME -o run.csv`. --battery connects to each supported device for a moment
to read its Battery Level. --emulate needs Google Bumble (pip install "retrorun[test]").
"""


def register(sub: argparse._SubParsersAction) -> None:
    from sensors.devices import PROFILES

    p = sub.add_parser("scan", help="list nearby wearables retrorun can record",
                       description="Scan for advertising Bluetooth LE devices and show which profile each matches.",
                       epilog=EPILOG_SCAN, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=5.0, help="how long to listen (default 5)")
    p.add_argument("--battery", action="store_true", help="connect to each supported device to read its battery")
    p.add_argument("--all", action="store_true", help="also list devices retrorun cannot record")
    p.add_argument("--emulate", nargs="*", metavar="PROFILE", choices=tuple(PROFILES),
                   help="scan emulated devices of these profiles (default: every emulated profile)")
    p.set_defaults(func=cmd_scan)


def cmd_scan(args: argparse.Namespace) -> None:
    if not args.seconds > 0:
        raise InputError("--seconds must be positive", found=str(args.seconds))
    results = asyncio.run(_scan(args))
    shown = [r for r in results if args.all or r.profile]
    if not shown:
        print(f"no supported device advertised within {args.seconds:g} s"
              + ("" if args.all else f" ({len(results)} other device(s); --all lists them)"))
        return
    print(f"{'profile':<16}{'name':<28}{'address':<20}{'RSSI':>6}{'battery':>9}")
    for r in shown:
        rssi = f"{r.rssi_dbm}" if r.rssi_dbm is not None else "-"
        battery = f"{r.battery_percent} %" if r.battery_percent is not None else "-"
        print(f"{r.profile or '-':<16}{(r.name or '?')[:27]:<28}{r.address:<20}{rssi:>6}{battery:>9}")


async def _scan(args: argparse.Namespace):
    from sensors.ble import scan

    if args.emulate is None:
        return await scan(args.seconds, read_battery=args.battery)
    from sensors.emulator import require_bumble
    require_bumble()
    from sensors.devices import PROFILES
    from sensors.emulator.backend import VirtualAir, bleak_kwargs
    from sensors.emulator.registry import EMULATORS, simulated_source, start_emulated

    keys = args.emulate or [key for key, p in PROFILES.items() if p.family in EMULATORS]
    air = VirtualAir()
    devices = []
    try:
        for key in keys:
            profile = PROFILES[key]
            run = simulated_source(profile, seconds=1.0, rate_hz=profile.default_rate_hz)
            devices.append((await start_emulated(profile, run, air=air))[1])
        scanner_kwargs, client_kwargs = bleak_kwargs(air)
        return await scan(args.seconds, read_battery=args.battery, scanner_kwargs=scanner_kwargs,
                          client_kwargs=client_kwargs)
    finally:
        for device in devices:
            await device.stop()
