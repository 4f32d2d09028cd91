"""Client CPU while recording a 200 Hz Polar H10 stream (issue 3 target: under 10 % of one core).

Runs the emulated H10 in real time (speed 1) on Bumble's virtual link, in one process, twice:
  bare      bleak subscribed with a callback that does nothing (emulated device + both Bumble stacks)
  recorder  sensors.ble.Recorder: decode, place on the sample grid, journal with fsync every second
The recorder's own cost is the difference; the total is an upper bound for the client side (on real
hardware the central's stack is BlueZ/CoreBluetooth, outside this process, and the device is not emulated).
Writes benchmarks/results/ble_client_cpu.md.
    python -m benchmarks.ble_client_cpu [--seconds 10]
"""
from __future__ import annotations

import argparse
import asyncio
import platform
import tempfile
import time
from pathlib import Path

from bleak import BleakClient

from sensors.ble import Recorder
from sensors.devices import polar_pmd as pmd
from sensors.emulator.backend import BumbleClient
from sensors.emulator.registry import simulated_run, start_emulated
from sensors.journal import JournalWriter
from benchmarks.output import publish

RATE_HZ = 200.0
TARGET_PERCENT = 10.0


async def bare(seconds: float) -> tuple[float, int]:
    air, device = await start_emulated(pmd.POLAR_H10, simulated_run(seconds=seconds, rate_hz=RATE_HZ))
    received = 0

    def on_data(_, data: bytearray) -> None:
        nonlocal received
        received += 1

    async with BleakClient(device.address, backend=BumbleClient, air=air) as client:
        await client.start_notify(pmd.PMD_CONTROL_UUID, lambda _, data: None)
        await client.start_notify(pmd.PMD_DATA_UUID, on_data)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await client.write_gatt_char(pmd.PMD_CONTROL_UUID, pmd.start_acc_request(200, 8), response=True)
        await device.reached(round(seconds * RATE_HZ)).wait()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    await device.stop()
    return 100.0 * cpu / wall, received


async def recorder(seconds: float, folder: Path) -> tuple[float, int]:
    air, device = await start_emulated(pmd.POLAR_H10, simulated_run(seconds=seconds, rate_hz=RATE_HZ))
    with JournalWriter(folder / "bench.journal", sampling_rate_hz=RATE_HZ) as journal:
        rec = Recorder(pmd.POLAR_H10, journal, duration_s=seconds, wall_limit_s=seconds + 30,
                       client_kwargs={"backend": BumbleClient, "air": air})
        cpu0, wall0 = time.process_time(), time.perf_counter()
        result = await rec.run(device.address)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    await device.stop()
    return 100.0 * cpu / wall, result.status.samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    bare_percent, frames = asyncio.run(bare(args.seconds))
    with tempfile.TemporaryDirectory() as folder:
        total_percent, samples = asyncio.run(recorder(args.seconds, Path(folder)))
    own = total_percent - bare_percent
    lines = [
        "# BLE client CPU at 200 Hz (python -m benchmarks.ble_client_cpu)", "",
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"{args.seconds:g} s of a Polar H10 stream (36 samples per notification), one process.", "",
        "| run | CPU, % of one core | received |", "|---|---|---|",
        f"| bare bleak subscription (emulated device + both Bumble stacks) | {bare_percent:.1f} | {frames} notifications |",
        f"| recorder (decode, journal, fsync, supervisor) on top | {total_percent:.1f} | {samples} samples |",
        "", f"Recorder's own cost: {own:.1f} % of one core"
        + (" (within run-to-run noise)" if abs(own) < 1.0 else "") + f"; total {total_percent:.1f} % "
        f"({'under' if total_percent < TARGET_PERCENT else 'over'} the {TARGET_PERCENT:g} % target, an upper bound "
        "for the client side).", ""]
    publish("ble_client_cpu", lines)


if __name__ == "__main__":
    main()
