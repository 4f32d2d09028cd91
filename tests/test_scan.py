"""`retrorun scan`: emulated devices found with their profile, signal and battery; profile detection."""
from __future__ import annotations

import re

import pytest

from analyzer.cli import main
from sensors.devices import detect_profile, polar_pmd as pmd


def test_the_advertised_name_picks_the_model_of_a_shared_service():
    assert detect_profile("Polar Sense 1A2B3C4D", [pmd.PMD_SERVICE_UUID]).key == "verity-sense"
    assert detect_profile("Polar OH1 1A2B3C4D", [pmd.PMD_SERVICE_UUID]).key == "polar-oh1"
    assert detect_profile(None, [pmd.PMD_SERVICE_UUID]).family == "polar-pmd"      # iOS hides the name
    assert detect_profile("Kettle", ["0000180d-0000-1000-8000-00805f9b34fb"]) is None


def test_scan_lists_every_emulated_profile_with_its_battery(capsys):
    pytest.importorskip("bumble")
    from sensors.emulator.registry import EMULATORS
    from sensors.devices import PROFILES

    assert main(["scan", "--emulate", "--seconds", "2", "--battery"]) == 0
    rows = re.findall(r"^(\S+)\s+(.+?EMU\d{4})\s+([0-9A-F:]{17})\s+(-?\d+)\s+(\d+) %$", capsys.readouterr().out, re.M)
    emulated = {key for key, p in PROFILES.items() if p.family in EMULATORS}
    assert {r[0] for r in rows} == emulated and len(rows) == len(emulated)
    assert all(int(r[4]) == 87 for r in rows)         # the emulators' Battery Level, read over GATT


def test_scan_of_one_profile(capsys):
    pytest.importorskip("bumble")
    assert main(["scan", "--emulate", "verity-sense", "--seconds", "1"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^verity-sense\s+Polar Sense EMU", out, re.M) and "polar-h10" not in out


def test_scan_refuses_a_silly_duration(capsys):
    assert main(["scan", "--seconds", "0"]) == 2
    assert "--seconds must be positive" in capsys.readouterr().err
