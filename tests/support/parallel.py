"""Races in tests: run one piece of work in many threads released at the same instant."""

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.db import connection

T = TypeVar("T")


def in_parallel(count: int, work: Callable[[int], T]) -> list[T]:
    """Call ``work(n)`` for n in range(count), each in its own thread, all released together by a
    barrier; returns the results in order and re-raises the first exception. Each thread closes
    its own database connection when done."""
    barrier = threading.Barrier(count)

    def run(n: int) -> T:
        try:
            barrier.wait(timeout=10)
            return work(n)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def clear_of_window_end(period: int, margin: float = 15.0) -> None:
    """Wait out the end of the current rate-limit window of ``period`` seconds if it is less than
    ``margin`` seconds away, so that a burst that follows cannot straddle two windows (windows are
    aligned on the clock: users/ratelimits.py)."""
    left = period - time.time() % period
    if left < margin:
        time.sleep(left + 0.1)


def outcome(call: Callable[[], object], **names: type[BaseException]) -> str:
    """ "ok" if ``call()`` returns, else the name given to the exception class it raised."""
    try:
        call()
    except tuple(names.values()) as exc:
        return next(name for name, kind in names.items() if isinstance(exc, kind))
    return "ok"
