"""Where the benchmarks' figures go: one markdown page per benchmark in benchmarks/results/."""
from __future__ import annotations

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
