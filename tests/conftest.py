from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def write_csv(path: Path, rows: list[str], header: str = "time_s,acc_x,acc_y,acc_z", meta: tuple[str, ...] = ()) -> Path:
    path.write_text("".join(f"{m}\n" for m in meta) + header + "\n" + "".join(r + "\n" for r in rows))
    return path


def still_rows(seconds: float = 5.0, rate_hz: float = 100.0, scale: float = 1.0, seed: int = 0) -> list[str]:
    """A sensor lying still: gravity on z plus a little noise, in any unit via `scale`."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate_hz)
    t = np.arange(n) / rate_hz
    acc = rng.normal(0, 0.005, (n, 3)) + [0, 0, 1.0]
    return [f"{ti:.4f},{a:.5f},{b:.5f},{c:.5f}" for ti, (a, b, c) in zip(t, acc * scale)]


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real recordings not present at {SHARED_DATA} (a fresh clone without ../shared)")
    return SHARED_DATA
