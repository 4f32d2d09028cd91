"""The `retrorun` command line: the only place that wires sensors and analyzer to files, printing and exit codes.

Each subcommand lives in analyzer/commands/<name>.py with a `register(subparsers)` function; list it in
COMMANDS to add it.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from sensors.errors import RetrorunError

from . import __version__

EXIT_INPUT_ERROR = 2
COMMANDS = ("analyze", "simulate", "import_", "report", "history", "compare", "trends", "batch", "scan", "record", "recover",
            "live")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="retrorun",
        description="Running-form analysis from wearable accelerometers, for backward and forward running.")
    parser.add_argument("--version", action="version", version=f"retrorun {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"analyzer.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_INPUT_ERROR
    try:
        args.func(args)
    except RetrorunError as exc:
        print(f"retrorun: error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except KeyboardInterrupt:
        print("retrorun: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`retrorun analyze ... | head`): stop quietly; point stdout at nothing so
        # that the interpreter's final flush does not complain again (Python docs, "Note on SIGPIPE")
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
