"""Waiting for a child process to connect back to a listener."""
from __future__ import annotations

import multiprocessing
import subprocess
import threading
from multiprocessing.connection import Client, Listener

__all__ = ["accept_child"]


def accept_child(listener: Listener, process: subprocess.Popen):
    """The next connection to ``listener``, or None when ``process`` (the child expected to
    connect, or the one that starts it) ends first. ``accept()`` has no timeout, so a watcher
    knocks with a wrong key once ``process`` has ended and nobody has connected."""
    accepted = threading.Event()

    def watch() -> None:
        process.wait()
        if not accepted.is_set():
            try:
                Client(listener.address, authkey=b"the child ended").close()
            except (OSError, EOFError, multiprocessing.AuthenticationError):
                pass
    threading.Thread(target=watch, name="layerlab-accept-watch", daemon=True).start()
    try:
        return listener.accept()
    except (OSError, EOFError, multiprocessing.AuthenticationError):
        return None
    finally:
        accepted.set()
