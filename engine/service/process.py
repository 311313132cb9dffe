"""The training worker as a child process: spawned (not forked), speaking the protocol over a
pipe.

Why a process: the model trains with no interpreter lock shared with the window, so the views
redraw at display rates without slowing training; a crash, an out-of-memory or a CUDA error
in training ends the worker, never the app (the app sees the pipe close, says so, and starts
a new worker); Stop can always stop (the process can be terminated); its memory — GPU memory
included — is released with it.

The worker is ``python -m layerlab.engine.service`` (a new interpreter: nothing of the app is
imported there, and the app's own ``__main__`` is not re-run as multiprocessing's spawn
would). It connects back to a ``multiprocessing.connection`` listener (a Unix socket or a
Windows named pipe, authenticated with a key it reads from its stdin) and ``serve(conn)``
reads Calls and hands them to a TrainingService; what the service emits goes down the pipe
from the thread that emits it while the pipe has room, else through one sender thread, a
list per send (sending.py; outbox.py coalesces). Where the worker keeps a core for the window,
it starts a capture process of its own (capture.py), which connects to the same listener
and sends the run's periodic visual snapshots; the app reads both pipes on one thread, the
capture's first, so that a snapshot sent before one of the worker's messages is read before
it.

:class:`WorkerProcess` is the parent's handle: ``start()``, ``call(name, generation, **args)``
(never waits for the answer), ``kill()``; a reader thread hands every list of messages
that arrives to ``on_messages`` (on that thread: the receiver queues them for its own) and,
when the worker's pipe closes, a :class:`WorkerExited` (the capture process's pipe may close
before: the worker then takes its snapshots itself). ``acquire()``/``release()`` keep one warm
worker for the next window (tests open dozens; the app one).

Qt-free and torch-free on the parent's side.
"""
from __future__ import annotations

import atexit
import io
import itertools
import json
import logging
import multiprocessing
import pickle
import secrets
import subprocess
import sys
import threading
from dataclasses import dataclass
from multiprocessing.connection import Client, Listener, Pipe, wait
from typing import Callable

from .connect import accept_child
from .outbox import Outbox
from .protocol import Call, Event
from .sending import PipeSender, room_probe

__all__ = ["serve", "WorkerProcess", "WorkerExited", "acquire", "release"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerExited:
    """The pipe closed: the worker ended (exit code, negative: killed by that signal)."""
    pid: int | None
    exitcode: int | None
    generation: int = 0      # belongs to every project: whatever was open must hear it

    @property
    def how(self) -> str:
        code = self.exitcode
        if code is None:
            return "it stopped answering"
        if code < 0:
            import signal
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"it was ended by {name}" + (" (often: out of memory)"
                                                 if name == "SIGKILL" else "")
        return f"it exited with code {code}"


# --- the child ------------------------------------------------------------------------------------
def main() -> int:
    """``python -m layerlab.engine.service``: connect to the app, then serve it."""
    try:
        hello = json.loads(sys.stdin.readline())
        address = hello["address"]
        conn = Client(tuple(address) if isinstance(address, list) else address,
                      authkey=bytes.fromhex(hello["authkey"]))
    except (OSError, EOFError, ValueError, KeyError, multiprocessing.AuthenticationError):
        return 1                        # the app is gone already (or this was not the app)
    serve(conn, hello)
    return 0


def serve(conn, app: dict | None = None) -> None:
    """The worker's main: answer Calls until told to end (None) or the app goes away.
    ``app``: the app's listener (address, authkey), for a capture process to connect to."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="layerlab worker: %(levelname)s %(name)s: %(message)s")
    from . import handlers  # noqa: F401  (declares the requests)
    from .capture import CaptureProcess
    from .placement import training_cores, window_cores
    from .service import TrainingService
    outbox = Outbox()
    pipe = PipeSender(conn, outbox, room_probe(conn))
    sender = threading.Thread(target=pipe.run, name="layerlab-send", daemon=True)
    sender.start()
    cores = training_cores()
    capture = CaptureProcess.start(app, window_cores(cores))
    service = TrainingService(pipe.put, cores, capture=capture)
    service.start()
    try:
        while True:
            try:
                call = conn.recv()
            except (EOFError, OSError):
                break                   # the app is gone: end with it
            if call is None:
                break
            service.handle(call)
    finally:
        service.close(timeout=5.0)
        if capture is not None:
            capture.close()
        outbox.close()
        sender.join(2.0)


# --- the parent -----------------------------------------------------------------------------------
class _PlainUnpickler(pickle.Unpickler):
    """Reads the worker's messages, refusing torch objects: the app's process never imports
    torch (a tensor in a message is a bug in the worker — plain data only)."""

    def find_class(self, module: str, name: str):
        if module.split(".")[0] == "torch":
            raise pickle.UnpicklingError(f"the training worker sent a torch object "
                                         f"({module}.{name}); messages must be plain data")
        return super().find_class(module, name)


def _command() -> list[str]:
    """``python -m layerlab.engine.service`` (a frozen app runs that too: packaging/entry.py)."""
    return [sys.executable, "-m", "layerlab.engine.service"]


class WorkerProcess:
    def __init__(self) -> None:
        #: Called on the reader thread with each list of messages (and a WorkerExited).
        self.on_messages: Callable[[list], None] | None = None
        self.info = None                # WorkerInfo, once the worker reported "ready"
        self.warm = False
        self.exited: WorkerExited | None = None
        self.process: subprocess.Popen | None = None
        self._conn = None
        self._capture = None            # the capture process's pipe, once it connects
        self._wake_reader, self._wake = Pipe(duplex=False)    # "the capture connected"
        self._ids = itertools.count(1)
        self._send_lock = threading.Lock()
        self._early: list = []          # calls made before the worker connected
        self._reader = threading.Thread(target=self._read, name="layerlab-worker-reader",
                                        daemon=True)

    def start(self) -> "WorkerProcess":
        """Spawn the worker (a new interpreter, not a fork) and return at once; it connects
        back to a listener only it knows the key of, and imports torch meanwhile."""
        authkey = secrets.token_bytes(32)
        self._listener = Listener(authkey=authkey)
        self.process = subprocess.Popen(_command(), stdin=subprocess.PIPE,
                                        close_fds=True)
        hello = json.dumps({"address": self._listener.address, "authkey": authkey.hex()})
        try:
            self.process.stdin.write(hello.encode() + b"\n")
            self.process.stdin.close()
        except OSError:
            pass                        # it died at once: the reader reports it
        self._reader.start()
        return self

    @property
    def started(self) -> bool:
        return self.process is not None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def capture_connected(self) -> bool:
        """Whether the worker's capture process (capture.py) is connected: the periodic
        visual snapshots of its runs come from there."""
        return self._capture is not None

    @property
    def alive(self) -> bool:
        """Running — or not started yet (then its calls wait for it)."""
        return self.exited is None and (self.process is None or self.process.poll() is None)

    def call(self, name: str, generation: int = 0, /, **args) -> int:
        """Send a request; returns its id (the Reply carries it). Never waits for the answer;
        a dead worker's calls are dropped (the reader reports the exit)."""
        call_id = next(self._ids)
        message = Call(call_id, name, args, generation)
        with self._send_lock:
            if self._conn is None:
                self._early.append(message)     # sent in order once connected
                return call_id
            try:
                self._conn.send(message)
            except (OSError, ValueError):
                pass
        return call_id

    def _accept(self) -> bool:
        """Wait for the worker to connect (False: it died first); then, on a thread of its
        own, for its capture process (which one without a core to spare never starts)."""
        conn = accept_child(self._listener, self.process)
        if conn is None:
            self._listener.close()
            return False
        threading.Thread(target=self._accept_capture, name="layerlab-capture-accept",
                         daemon=True).start()
        with self._send_lock:
            self._conn = conn
            early, self._early = self._early, []
            try:
                for message in early:
                    conn.send(message)
            except (OSError, ValueError):
                pass
        return True

    def _accept_capture(self) -> None:
        try:
            conn = accept_child(self._listener, self.process)
        finally:
            self._listener.close()
        if conn is not None:
            self._capture = conn
            try:
                self._wake.send_bytes(b"")
            except OSError:
                pass                            # the reader is done: the worker ended

    def _read(self) -> None:
        if self._accept():
            self._pump()
        self._wake.close()
        self._wake_reader.close()
        try:
            code = self.process.wait(10.0)
        except subprocess.TimeoutExpired:
            code = None
        self.exited = WorkerExited(self.pid, code)
        receiver = self.on_messages
        if receiver is not None:
            receiver([self.exited])

    def _pump(self) -> None:
        """Hand what arrives on the worker's pipe and the capture's to ``on_messages``, until
        the worker's closes."""
        while True:
            capture = self._capture
            pipes = [self._conn, self._wake_reader] + ([capture] if capture else [])
            ready = wait(pipes)
            if self._wake_reader in ready:
                self._wake_reader.recv_bytes()      # the capture process connected
                continue
            # Its pipe first: what it sent before a message of the worker's comes first.
            conn = capture if capture in ready else self._conn
            try:
                data = conn.recv_bytes()
            except (EOFError, OSError):
                if conn is self._conn:
                    break
                self._capture = None        # the worker takes its snapshots again
                continue
            try:
                items = _PlainUnpickler(io.BytesIO(data)).load()
            except Exception:  # noqa: BLE001 — one bad message must not end the app
                log.exception("a message from the training worker could not be read")
                continue
            for message in items:
                if isinstance(message, Event):
                    if message.kind == "ready":
                        self.info = message.payload
                    elif message.kind == "warm":
                        self.warm = True
            receiver = self.on_messages
            if receiver is not None:
                receiver(items)

    def kill(self, grace_s: float = 2.0) -> None:
        """End the worker now: SIGTERM, then SIGKILL after ``grace_s``."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            try:
                proc.wait(2.0)
            except subprocess.TimeoutExpired:
                log.warning("training worker %s does not end", proc.pid)

    def close(self, timeout: float = 5.0) -> None:
        """Ask the worker to end (a run stops first), then make sure it has."""
        self.on_messages = None
        with self._send_lock:
            if self._conn is not None:
                try:
                    self._conn.send(None)
                except (OSError, ValueError):
                    pass
        if self.process is not None:
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill()


# --- one warm worker for the next window ------------------------------------------------------------
_idle: list[WorkerProcess] = []
_pool_lock = threading.Lock()


def acquire(start: bool = True) -> WorkerProcess:
    """The worker a closed window left warm, or a new one — started, or (``start=False``)
    for the caller to start when it suits it (calls made meanwhile wait for it)."""
    with _pool_lock:
        while _idle:
            worker = _idle.pop()
            if worker.alive:
                return worker
    worker = WorkerProcess()
    return worker.start() if start else worker


def release(worker: WorkerProcess) -> None:
    """The window is done with ``worker``: keep it warm for the next (one at most)."""
    worker.on_messages = None
    keep = worker.alive
    with _pool_lock:
        if keep and not _idle:
            _idle.append(worker)
            return
    threading.Thread(target=worker.close, name="layerlab-worker-close", daemon=True).start()


@atexit.register
def _close_idle() -> None:
    with _pool_lock:
        workers, _idle[:] = list(_idle), []
    for worker in workers:
        worker.close(timeout=2.0)
