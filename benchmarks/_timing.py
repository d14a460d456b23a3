"""Timing shared by the benchmark scripts (run as `python benchmarks/NAME.py`, so this folder is on sys.path)."""

import statistics
import time


def median_ms(fn, repeats: int) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls after one warm-up call, in milliseconds."""
    fn()  # warm up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)
