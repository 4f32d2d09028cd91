"""Wall-clock timing shared by the benchmarks."""
from __future__ import annotations

import statistics
import time


def timed(fn, repeats: int = 3) -> tuple[float, float]:
    """Best and median wall time (s) of `repeats` calls of `fn`."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)
