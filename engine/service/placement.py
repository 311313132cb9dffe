"""Which cores the worker trains on: all it may use but one, kept for the window.

The worker trains on one core fewer than the machine has (``limit_torch_threads``), so the
window has a core to draw on. Counting threads is not enough: the scheduler still moves the
training thread from core to core as the window and the worker's other threads wake, and
each move leaves its caches behind. So, where the operating system lets a thread choose
(Linux), the model thread keeps to the training cores; torch's intra-op threads, which it
starts, begin there too. On this project's 2-core VM a headless run trained 2 % faster kept
to one core (bench/bench_dashboard.py pins its headless reference the same way).

The worker's reader and sender threads are left free on purpose: kept to the window's core,
a sender that the window pre-empted while it held the GIL (pickling a snapshot) stalled the
training thread with it, and the dashboard trained several per cent slower.

Qt-free and torch-free. On one core, or where placement is not available (macOS, Windows),
nothing here changes anything.
"""
from __future__ import annotations

import os
import threading

__all__ = ["training_cores", "window_cores", "pin_this_thread"]


def training_cores(allowed: set[int] | None = None) -> frozenset[int] | None:
    """The cores of ``allowed`` (default: those this thread may use now, which respects
    ``taskset`` and container limits) but the lowest, left to the window; None with fewer
    than two cores or where threads cannot be placed."""
    if allowed is None:
        getter = getattr(os, "sched_getaffinity", None)
        if getter is None or not hasattr(os, "sched_setaffinity"):
            return None
        try:
            allowed = set(getter(0))
        except OSError:
            return None
    if len(allowed) < 2:
        return None
    return frozenset(set(allowed) - {min(allowed)})


def window_cores(training: frozenset[int] | None) -> frozenset[int] | None:
    """The cores this thread may use that are not among ``training``: the window's (and the
    capture process's, capture.py); None without training cores."""
    if not training:
        return None
    try:
        allowed = set(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None
    return frozenset(allowed - set(training)) or None


def pin_this_thread(cores: frozenset[int] | None) -> bool:
    """Keep the calling thread (and the threads it starts from now on) on ``cores``; False
    when there are none, or the system refuses or cannot place threads."""
    setter = getattr(os, "sched_setaffinity", None)
    if setter is None or not cores:
        return False
    try:
        setter(threading.get_native_id(), cores)
    except OSError:
        return False
    return True
