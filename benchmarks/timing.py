"""The benchmarks' one timer: the wall-clock seconds of a piece of work, once or as the median of several runs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def seconds(work: Callable[[], T]) -> tuple[float, T]:
    """Run ``work()`` once; return its wall-clock seconds and what it returned."""
    began = time.perf_counter()
    result = work()
    return time.perf_counter() - began, result


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    """Run ``work()`` ``repeats`` times and return the median of its wall-clock seconds."""
    return statistics.median(seconds(work)[0] for _ in range(repeats))


def warm_median(work: Callable[[], object], repeats: int = 5) -> float:
    """Run ``work()`` once to warm up (tracing, compiling), then return ``median_seconds`` of ``repeats`` runs."""
    work()
    return median_seconds(work, repeats)
