"""Messages waiting to cross the pipe, in order, with the heavy ones coalesced.

The worker's threads *put* (a lock and an append: they never wait for the pipe) what cannot
go down the pipe at once (sending.py), and one sender thread *takes* everything waiting and
sends it as one list. While the app reads slowly (a busy GUI, a large snapshot in the pipe),
batches and epochs queue up — every point of the curves arrives — but a newer visual or
evaluation snapshot replaces an unsent older one: only the latest look inside is worth
drawing.

The app side uses the same class as its inbox (``polling``): a message that arrives while
the GUI is not drawing frames asks for a wake-up, once, until the GUI takes.

Qt-free, torch-free, thread-safe.
"""
from __future__ import annotations

import threading

__all__ = ["Outbox", "COALESCED"]

#: Event kinds of which only the newest unsent one is kept (each holds everything before it:
#: histograms stack every epoch so far, a range test its whole curve so far).
COALESCED = ("visuals", "evaluation", "histograms", "lr_find")


def _kind(message) -> str | None:
    return getattr(message, "kind", None)


class Outbox:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._items: list = []
        self._closed = False
        self._polling = False

    def put(self, message) -> bool:
        """Queue ``message``; True when the taker should be woken (nothing was waiting and
        it is not polling)."""
        kind = _kind(message)
        with self._cond:
            was_empty = not self._items
            if kind in COALESCED:
                gen = getattr(message, "generation", None)
                self._items = [m for m in self._items
                               if not (_kind(m) == kind and getattr(m, "generation", None) == gen)]
            self._items.append(message)
            self._cond.notify_all()
            return was_empty and not self._polling

    def take(self) -> list:
        """Everything waiting (oldest first), at once; ``wait`` first to wait for it."""
        with self._cond:
            items, self._items = self._items, []
            return items

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until something is waiting (True) or the box is closed and empty (False;
        also when the wait timed out)."""
        with self._cond:
            self._cond.wait_for(lambda: self._items or self._closed, timeout)
            return bool(self._items)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # --- the app's inbox -------------------------------------------------------------------------
    def start_polling(self) -> None:
        """The taker looks on its own (frames): puts never ask for a wake-up."""
        with self._cond:
            self._polling = True

    def stop_polling(self) -> list:
        """The last take of a polling stretch: from now on a put to the empty box wakes."""
        with self._cond:
            items, self._items = self._items, []
            self._polling = False
            return items

    @property
    def polling(self) -> bool:
        return self._polling

    def __len__(self) -> int:
        return len(self._items)
