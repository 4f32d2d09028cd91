"""The one error hierarchy of retrorun.

Library code raises these; only the command line turns them into a message and exit code 2.
`analyzer` re-exports them so users import from either package.
"""
from __future__ import annotations

from pathlib import Path


class RetrorunError(Exception):
    """Base of every error retrorun raises on purpose."""


class InputError(RetrorunError):
    """Bad input data: a file, a column, a value, a parameter.

    The message names where (file, line, column), what was found and what was expected, so the
    command line can print it as one readable line.
    """

    def __init__(self, what: str, *, path: str | Path | None = None, line: int | None = None,
                 column: str | None = None, found: str | None = None, expected: str | None = None):
        self.what = what
        self.path = None if path is None else str(path)
        self.line = line
        self.column = column
        self.found = found
        self.expected = expected
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.path is not None:
            where.append(self.path)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        text = (", ".join(where) + ": " if where else "") + self.what
        if self.found is not None:
            text += f"; found {self.found}"
        if self.expected is not None:
            text += f"; expected {self.expected}"
        return text


class ParameterError(InputError, ValueError):
    """A detector or analysis parameter out of its allowed values: names the parameter, the value found and
    what is allowed. Also a ValueError, as Python code that passes a bad argument expects."""

    def __init__(self, name: str, value, allowed: str):
        self.name = name
        self.value = value
        super().__init__(f"bad parameter {name}", found=repr(value), expected=allowed)


class UnitError(InputError):
    """The unit of the acceleration could not be established without guessing."""


class DeviceError(RetrorunError):
    """A wearable or the BLE link misbehaved."""

