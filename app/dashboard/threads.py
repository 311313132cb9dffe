"""Which thread may touch widgets: only the GUI thread. Slots that receive the worker's
snapshots are wrapped with :func:`gui_only`, which checks the thread on every call, so a
wrong connection type (a direct call from the training thread) is caught instead of
corrupting Qt's state at random."""
from __future__ import annotations

import functools
import logging
import threading

from PySide6.QtCore import QCoreApplication, QThread

__all__ = ["gui_only", "is_gui_thread", "VIOLATIONS", "CALLS"]

log = logging.getLogger(__name__)

#: Names of gui_only slots that ran on another thread (tests assert it stays empty).
VIOLATIONS: list[str] = []
#: How many gui_only calls were checked (tests assert the check really ran).
CALLS = {"count": 0}
_lock = threading.Lock()


def is_gui_thread() -> bool:
    app = QCoreApplication.instance()
    return app is not None and QThread.currentThread() is app.thread()


def gui_only(fn):
    """Decorate a slot that touches widgets. A call off the GUI thread is recorded, logged
    and dropped: touching widgets from another thread can crash Qt, a lost frame cannot."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with _lock:
            CALLS["count"] += 1
        if not is_gui_thread():
            with _lock:
                VIOLATIONS.append(fn.__qualname__)
            log.error("%s called off the GUI thread (%s)", fn.__qualname__,
                      threading.current_thread().name)
            return None
        return fn(*args, **kwargs)
    return wrapper
