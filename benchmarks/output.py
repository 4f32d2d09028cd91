"""Where the benchmarks' figures go: one markdown page per benchmark in benchmarks/results/."""
from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def publish(name: str, lines: list[str], *, echo: bool = True) -> Path:
    """Write `lines` to benchmarks/results/NAME.md (and print them unless `echo` is False)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.md"
    text = "\n".join(lines)
    path.write_text(text if text.endswith("\n") else text + "\n")
    if echo:
        print(text)
    return path


def publish_json(name: str, data, *, indent: int = 1) -> Path:
    """Write `data` as JSON to benchmarks/results/NAME.json (the raw numbers behind NAME.md)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=indent) + "\n")
    return path
