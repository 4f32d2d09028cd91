"""Writing command outputs: everything is computed first, then each file is written atomically."""
from __future__ import annotations

import sys
from pathlib import Path

from sensors.errors import InputError, RetrorunError
from sensors.fileformat import atomic_write


def write_outputs(outputs: dict[Path, str]) -> None:
    """Write each text to its path ('-' is standard output) and say so."""
    for path, text in outputs.items():
        if str(path) == "-":
            sys.stdout.write(text)
            continue
        try:
            atomic_write(path, text.encode())
        except OSError as exc:
            raise RetrorunError(f"{path}: cannot write: {exc.strerror}") from None
        print(f"wrote {path}")


RECORDING_SUFFIXES = (".csv", ".npz")
HTML_SUFFIXES = (".html", ".htm")


def check_recording_output(path: Path) -> None:
    """Refuse an output name that is neither a canonical CSV nor the binary format, before any work."""
    if path.suffix not in RECORDING_SUFFIXES:
        raise InputError("unknown output format", path=path, found=repr(path.suffix or "no suffix"),
                         expected="FILE.csv (canonical CSV) or FILE.npz (binary)")


def check_html_output(path: Path) -> None:
    """Refuse a report name that does not say HTML (report.pdf would be HTML under a false name)."""
    if path.suffix.lower() not in HTML_SUFFIXES:
        raise InputError("the report is an HTML page", path=path, found=repr(path.suffix or "no suffix"),
                         expected="FILE.html (print it to PDF from the browser if you need one)")
