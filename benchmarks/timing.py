"""The benchmarks' one timer: the median wall-clock seconds of several runs of a piece of work."""

from __future__ import annotations

import statistics
import time


def median_seconds(work, repeats: int) -> float:
    """Run ``work()`` ``repeats`` times and return the median of its wall-clock seconds."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return statistics.median(times)
