"""The worker's messages onto the pipe: sent by the thread that emits them while the pipe has
room and nothing is queued before them, else queued (outbox.py) for the sender thread.

Why not always the sender thread: a message handed to another Python thread costs the
training thread more than sending it itself. The sender wakes on another core and takes the
interpreter lock to pickle and send, and the training thread, back from its next torch op,
waits for the lock and has to be woken again. Pickling a snapshot and writing it to the
socket takes tens of microseconds. Measured on the 2-core VM over 36 runs each (digits_cnn,
every view open): a run took 18.3 % longer than its batches would at their typical speed
with every message queued, 16.1 % with direct sends (medians; a one-sided Mann-Whitney test
gave p = 0.09: a lean, not proof). A pipe without room (an app that is slow to read) never
blocks the training thread: messages then queue, and the outbox keeps only the newest of
each heavy kind.

The room check asks the kernel how much the socket holds unread (SIOCOUTQ, Linux); elsewhere,
or when the answer is unavailable, every message goes through the sender thread as before.

A message that cannot be pickled (a bug: something not plain data in it) is sent as its
stand-in: a Reply with the error for its caller, a "failed" event the window shows for anything
else. Neither thread dies of it, and the messages around it still arrive. Torch-free, Qt-free.
"""
from __future__ import annotations

import logging
import pickle
import threading
from typing import Callable

from .outbox import Outbox
from .protocol import Event, Reply

__all__ = ["PipeSender", "room_probe", "pickled"]

log = logging.getLogger(__name__)

#: Bytes of the socket's send buffer left free by a direct send: the kernel counts each
#: write with its bookkeeping (about twice a small payload), and replies queued meanwhile
#: by other threads need room too.
HEADROOM = 64 * 1024


def room_probe(conn) -> Callable[[int], bool] | None:
    """``fits(nbytes)``: whether writing ``nbytes`` more to ``conn``'s socket cannot block;
    None where that cannot be known (not Linux, not a socket)."""
    try:
        import fcntl
        import os
        import socket
        import struct
        import termios
        fd = conn.fileno()
        with socket.socket(fileno=os.dup(fd)) as sock:
            limit = sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        request = termios.TIOCOUTQ                  # SIOCOUTQ: bytes written, not yet read
        zero = bytes(4)
        struct.unpack("i", fcntl.ioctl(fd, request, zero))
    except (ImportError, AttributeError, OSError, ValueError):
        return None

    def fits(nbytes: int) -> bool:
        try:
            unread = struct.unpack("i", fcntl.ioctl(fd, request, zero))[0]
        except OSError:
            return False
        return unread + 2 * nbytes + HEADROOM < limit

    return fits


def _dumps(obj) -> bytes:
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def pickled(messages: list) -> bytes:
    """``messages`` pickled as one list, each that cannot be pickled in its stand-in's place."""
    try:
        return _dumps(messages)
    except Exception:   # noqa: BLE001 — which one, and why, is found below
        pass
    kept = []
    for message in messages:
        try:
            _dumps(message)
        except Exception as exc:   # noqa: BLE001 — any error of pickling: a bug, said
            log.error("could not send %s", _what(message), exc_info=True)
            message = stand_in(message, exc)
        kept.append(message)
    return _dumps(kept)


def stand_in(message, error: Exception):
    """What is sent instead of ``message``, which could not be pickled: its caller still gets
    an answer (the error), and the window says what was lost."""
    why = f"{type(error).__name__}: {error}"
    if isinstance(message, Reply):
        return Reply(message.id, message.name, message.store,
                     error=f"the training worker could not send its answer ({why})",
                     generation=message.generation)
    return Event("failed", ("Something could not be shown",
                            f"The training worker could not send {_what(message)} ({why}). "
                            f"This is a bug in LayerLab; training goes on."),
                 getattr(message, "generation", 0))


def _what(message) -> str:
    """A message named in a few words (its payload can be megabytes of arrays)."""
    if isinstance(message, Reply):
        return f"its answer to {message.name!r}"
    if isinstance(message, Event):
        return f"its {message.kind!r} message"
    return f"a {type(message).__name__}"


class PipeSender:
    """``put`` is the service's emit (any thread); ``run`` is the sender thread's loop."""

    def __init__(self, conn, outbox: Outbox,
                 fits: Callable[[int], bool] | None = None) -> None:
        self._conn = conn
        self._outbox = outbox
        self._fits = fits
        # Held while writing to the pipe: one message's bytes never interleave with
        # another's, and a direct send never overtakes what the sender thread took.
        self._lock = threading.Lock()

    def put(self, message) -> None:
        if self._fits is not None and self._lock.acquire(blocking=False):
            try:
                if not len(self._outbox) and self._send_now(message):
                    return
            finally:
                self._lock.release()
        self._outbox.put(message)

    def _send_now(self, message) -> bool:
        payload = pickled([message])
        if not self._fits(len(payload)):
            return False
        try:
            self._conn.send_bytes(payload)
        except (OSError, ValueError):   # the app is gone: the reader sees the pipe close
            pass
        return True

    def run(self) -> None:
        """Send what queues until the outbox is closed and empty, or the app is gone."""
        while self._outbox.wait():
            with self._lock:            # (only this thread takes: what wait saw is there)
                try:
                    self._conn.send_bytes(pickled(self._outbox.take()))
                except (OSError, ValueError):
                    return
