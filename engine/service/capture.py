"""The capture process: a run's periodic visual snapshots, taken off the training thread.

Why: a visual snapshot (the filters, the probe's feature maps and prediction, the gradient
norms) takes the training thread about 0.6 ms (digits CNN) between two batches, and the
batches after it run slower, their caches cold. On the 2-core VM, with this process taking
them, the dashboard trained about 1 % faster for the digits CNN and 2–3 % for the
MobileNetV2-style and ResNet-8 networks (docs/dashboard.md). Taken on a thread of the
worker's own, they cost far more (the GIL). A process of their own shares no lock and no
core with training.

How: the worker starts it (``python -m layerlab.engine.service.capture``) with itself, on the
core it keeps for the window, and it connects to the worker (for work) and to the app (for
its snapshots). As a run starts, the worker sends it the model (pickled), what the snapshots
show and the probe batch, and a shared-memory file the size of the model's float tensors and
gradients. When a periodic snapshot is due, the training thread copies the weights and
gradients there (one ``torch.cat``) and sends a few bytes; the capture process takes the
snapshot from them with the Trainer's own code (training/visuals.py: ``look_inside``), sends
it to the app and says it is done. Until then the training thread leaves that memory alone:
``offer`` answers "busy", and the snapshot is due again after the next batch. Before a forced
snapshot (pause, step, a new probe, the end of a run) the worker waits for the one in flight
to be sent; the app reads the capture's pipe before the worker's (process.py), so the forced
one always arrives last.

Where: only where the worker keeps a core for the window (placement.py), on the CPU, in a
single process, for models of up to MAX_FLOATS float32 numbers (weights, buffers and
gradients); ``LAYERLAB_CAPTURE_PROCESS=0`` turns it off. A capture process that does not
start, dies or fails leaves the snapshots to the training thread (the Trainer takes them
inline, as it does headless): for the rest of the run after a failed snapshot, for the
worker's life after it ended. Its memory: one more Python with torch (about 200 MB), the
model, and the shared copy.
"""
from __future__ import annotations

import json
import logging
import os
import pickle
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Client, Listener
from pathlib import Path
from typing import Any

from .connect import accept_child

__all__ = ["CaptureProcess", "CaptureLink", "Capturer", "MAX_FLOATS", "enabled"]

log = logging.getLogger(__name__)

#: The largest model (weights, float buffers and gradients, in float32 numbers) whose
#: snapshots the capture process takes: pickling a larger one as each run starts would
#: delay its first batch, and the copies would be slow; the Trainer takes those inline.
MAX_FLOATS = 16_000_000
#: How long the training thread waits, before a forced snapshot, for the one in flight.
#: Longer means the capture process is stuck: it is given up for the worker's life.
SETTLE_TIMEOUT_S = 10.0
ENV_SWITCH = "LAYERLAB_CAPTURE_PROCESS"
#: The capture process shares the window's core, and yields it to the window: a snapshot
#: that comes a little later costs nothing; a frame that comes late is a stutter.
NICENESS = 5


def enabled() -> bool:
    """Whether capture processes are allowed (``LAYERLAB_CAPTURE_PROCESS=0``: not)."""
    return os.environ.get(ENV_SWITCH, "1").strip() not in ("0", "false", "no", "off")


def _address(value):
    return tuple(value) if isinstance(value, list) else value


def _shared_dir() -> str | None:
    """Where the shared file goes: memory-backed where there is such a place."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def _shared_floats(count: int):
    """A new file of ``count`` float32 numbers, its space reserved (a full /dev/shm raises
    OSError here, not SIGBUS later), mapped shared: (its path, the tensor)."""
    import torch
    fd, path = tempfile.mkstemp(prefix="layerlab-capture-", dir=_shared_dir())
    try:
        size = max(1, count) * 4
        if hasattr(os, "posix_fallocate"):
            os.posix_fallocate(fd, 0, size)
        else:
            os.ftruncate(fd, size)
        return path, torch.from_file(path, shared=True, size=max(1, count),
                                     dtype=torch.float32)
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)


# --- the child ------------------------------------------------------------------------------------
def main() -> int:
    """``python -m layerlab.engine.service.capture``: connect to the worker and the app, then
    take snapshots until the worker goes away."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="layerlab capture: %(levelname)s %(name)s: %(message)s")
    import multiprocessing
    try:
        hello = json.loads(sys.stdin.readline())
        cores = hello.get("cores")
        if cores and hasattr(os, "sched_setaffinity"):
            try:
                os.sched_setaffinity(0, set(cores))
            except OSError:
                pass
        if hasattr(os, "nice"):
            os.nice(NICENESS)       # the window's core: the window comes first
        # Everything a snapshot needs is imported before connecting: the worker counts on
        # a connected capture process to take the first run's snapshots at once.
        import torch
        torch.set_num_threads(1)
        from .. import builder  # noqa: F401  (unpickling a model needs it)
        from ..training import snapshots, trainer, visuals  # noqa: F401
        from . import protocol, sending  # noqa: F401
        work = Client(_address(hello["worker"]), authkey=bytes.fromhex(hello["worker_key"]))
        app = Client(_address(hello["app"]), authkey=bytes.fromhex(hello["app_key"]))
    except (OSError, EOFError, ValueError, KeyError, multiprocessing.AuthenticationError):
        return 1                        # the worker or the app is gone already
    Capturer(app).serve(work)
    return 0


@dataclass
class _Model:
    """The capture process's copy of one run's model and what its snapshots show. Its float
    tensors, then its gradients, live in the shared file (``grads_at``: where they start)."""
    model: Any
    flat: Any
    params: list
    grads_at: int
    generation: int
    objective: Any
    loss_node: str
    conv_ids: list
    relu_ids: list
    flags: tuple                    # filters, feature maps, gradients, dead ReLUs
    probe_batch: Any                # for the dead-ReLU shares (None: not measured)
    dead_rate: Any
    probe: tuple = (None, None, None)   # validation index, the sample (1, …), its target
    wanted: frozenset | None = None     # the nodes whose maps to send (None: every node's)
    dead: dict | None = None


class Capturer:
    """The capture process's side: one run's model at a time, a snapshot per "take"."""

    def __init__(self, app) -> None:
        self.app = app
        self.run: _Model | None = None

    def serve(self, work) -> None:
        while True:
            try:
                message = work.recv()
            except (EOFError, OSError):
                return                  # the worker is gone: so are we
            if message is None:
                return
            kind, body = message
            try:
                if kind == "setup":
                    self.setup(body)
                else:
                    self.take(body)
                reply: tuple = ("done",)
            except Exception as exc:  # noqa: BLE001 — said to the worker, which takes over
                log.exception("a visual snapshot could not be taken")
                reply = ("failed", f"{type(exc).__name__}: {exc}")
            try:
                work.send(reply)
            except (OSError, ValueError):
                return

    def setup(self, body: dict) -> None:
        import torch

        from ..training.observers import RateLimiter
        from ..training.trainer import DEAD_RELU_HZ
        self.run = None
        model = pickle.loads(body["model"])
        flat = torch.from_file(body["path"], shared=True, size=max(1, body["floats"]),
                               dtype=torch.float32)
        params = list(model.parameters())
        offset = 0
        for t in params + [b for b in model.buffers() if b.is_floating_point()]:
            n = t.numel()
            t.data = flat[offset:offset + n].view_as(t)
            offset += n
        probe_batch = body["probe_batch"]
        self.run = _Model(
            model=model, flat=flat, params=params, grads_at=offset,
            generation=body["generation"], objective=body["objective"],
            loss_node=body["loss_node"], conv_ids=body["conv_ids"],
            relu_ids=body["relu_ids"], flags=body["flags"],
            probe_batch=None if probe_batch is None else torch.from_numpy(probe_batch),
            dead_rate=RateLimiter(DEAD_RELU_HZ))

    def take(self, body: dict) -> None:
        import torch

        from ..training.snapshots import VisualSnapshot
        from ..training.visuals import dead_relu_fractions, look_inside
        from .protocol import Event
        from .sending import pickled
        run = self.run
        if run is None:
            raise RuntimeError("no model was set up")
        if "probe" in body:
            index, x, target = body["probe"]
            run.probe = (index, None if x is None else torch.from_numpy(x), target)
        if "wanted" in body:
            run.wanted = body["wanted"]
        offset = run.grads_at
        for p, present in zip(run.params, body["grads"]):
            if present:
                n = p.numel()
                p.grad = run.flat[offset:offset + n].view_as(p)
                offset += n
            else:
                p.grad = None
        index, x, target = run.probe
        filters, maps, gradients, dead_relu = run.flags
        looks = look_inside(run.model, run.objective, run.loss_node, run.conv_ids, x,
                            run.wanted, filters=filters, maps=maps, gradients=gradients)
        dead: dict = {}
        if dead_relu and run.relu_ids and run.probe_batch is not None:
            # At most once a second, as the Trainer does: a pass over the probe batch.
            now = time.perf_counter()
            if run.dead is None or run.dead_rate.ready(now):
                run.dead_rate.done(now, now)
                run.dead = dead_relu_fractions(run.model, run.relu_ids, run.probe_batch)
            dead = dict(run.dead)
        snap = VisualSnapshot(
            epoch=body["epoch"], step=body["step"], filters=looks.filters,
            feature_maps=looks.feature_maps, grad_norms=looks.grad_norms, dead_relu=dead,
            probe_index=index, probe_target=target, probe_output=looks.probe_output)
        self.app.send_bytes(pickled([Event("visuals", snap, run.generation)]))


# --- the worker's side -------------------------------------------------------------------------------
@dataclass
class _Run:
    """One run's share with the capture process."""
    flat: Any                   # the shared file's float32 tensor
    tensors: list               # the model's parameters, then its float buffers
    params: list
    path: str | None            # removed once both processes have it open
    probe_index: Any = -1       # the probe last sent (a custom one: its tensor)
    probe_x: Any = None
    wanted: Any = -1            # the nodes whose maps were last asked for


class CaptureProcess:
    """The worker's handle on its capture process (``start``): what ``CaptureLink`` (a
    trainer's VisualOffload) asks of it, on the training thread."""

    def __init__(self, process: subprocess.Popen, listener: Listener) -> None:
        self.process = process
        self._listener = listener
        self._conn = None
        self._gone = False          # ended, stuck or refused: the trainer takes snapshots
        self._busy = False          # a setup or a snapshot in flight
        self._run: _Run | None = None
        threading.Thread(target=self._accept, name="layerlab-capture-accept",
                         daemon=True).start()

    @classmethod
    def start(cls, app: dict | None, cores: frozenset[int] | None) -> "CaptureProcess | None":
        """A capture process for a worker whose app listens at ``app`` (its hello: address,
        authkey), kept to ``cores`` (the window's: placement.window_cores) — None without
        them, or when turned off."""
        if not app or not cores or not enabled():
            return None
        authkey = secrets.token_bytes(32)
        listener = Listener(authkey=authkey)
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "layerlab.engine.service.capture"],
                stdin=subprocess.PIPE, close_fds=True)
            hello = {"app": app["address"], "app_key": app["authkey"],
                     "worker": listener.address, "worker_key": authkey.hex(),
                     "cores": sorted(cores)}
            process.stdin.write(json.dumps(hello).encode() + b"\n")
            process.stdin.close()
        except OSError as exc:
            log.warning("no capture process (%s): the training thread takes the snapshots",
                        exc)
            listener.close()
            return None
        return cls(process, listener)

    def _accept(self) -> None:
        try:
            conn = accept_child(self._listener, self.process)
        finally:
            self._listener.close()
        if conn is None:
            self._gone = True
        self._conn = conn

    @property
    def ready(self) -> bool:
        """Connected and not given up."""
        return self._conn is not None and not self._gone

    def link(self, generation: int) -> "CaptureLink":
        return CaptureLink(self, generation)

    # --- on the training thread ------------------------------------------------------------------
    def begin(self, trainer, generation: int) -> None:
        """Share ``trainer``'s model for the run that starts (when it qualifies)."""
        self.settle()
        self._end_run()
        if not self.ready:
            return
        import torch
        model = trainer.model
        if (trainer.device.type != "cpu" or trainer.strategy.world_size != 1
                or trainer.config.snapshots.visual_hz <= 0):
            return
        params = list(model.parameters())
        buffers = [b for b in model.buffers() if b.is_floating_point()]
        tensors = params + buffers
        if any(t.dtype != torch.float32 for t in tensors):
            return
        floats = sum(t.numel() for t in tensors) + sum(p.numel() for p in params)
        if floats > MAX_FLOATS:
            return
        snaps, parts = trainer.config.snapshots, trainer.parts
        probe_batch = trainer.probe_batch() if snaps.dead_relu and parts.relu_ids else None
        try:
            path, flat = _shared_floats(floats)
        except OSError as exc:          # no room (a small /dev/shm): this run's are inline
            log.warning("no shared memory for the capture process (%s): the training "
                        "thread takes this run's snapshots", exc)
            return
        try:
            body = {"generation": int(generation), "model": pickle.dumps(model),
                    "objective": trainer.objective, "loss_node": parts.loss_node,
                    "conv_ids": list(parts.conv_ids), "relu_ids": list(parts.relu_ids),
                    "flags": (snaps.filters, snaps.feature_maps, snaps.gradients,
                              snaps.dead_relu),
                    "probe_batch": None if probe_batch is None else probe_batch.numpy(),
                    "path": path, "floats": floats}
        except Exception as exc:  # noqa: BLE001 — a model that does not pickle: inline
            log.warning("the capture process cannot take this run's snapshots (%s: %s)",
                        type(exc).__name__, exc)
            Path(path).unlink(missing_ok=True)
            return
        try:
            self._conn.send(("setup", body))
        except (OSError, ValueError):
            Path(path).unlink(missing_ok=True)
            self.give_up("its pipe closed")
            return
        self._busy = True               # until it says the setup is done
        self._run = _Run(flat=flat, tensors=tensors, params=params, path=path)

    def offer(self, trainer) -> bool | None:
        if self._run is None:
            return None
        if self._busy and not self._answer(wait=0.0):
            return False                # no reply yet: the run is still shared
        run = self._run                 # (a "failed" reply ended it)
        if run is None:
            return None
        import torch
        grads = [p.grad for p in run.params]
        present = tuple(g is not None for g in grads)
        with torch.no_grad():
            parts = [t.reshape(-1) for t in run.tensors]
            parts += [g.reshape(-1) for g in grads if g is not None]
            n = sum(t.numel() for t in parts)
            torch.cat(parts, out=run.flat[:n])
        body: dict = {"step": int(trainer.global_step), "epoch": int(trainer.epoch) + 1,
                      "grads": present}
        index = trainer.probe_index
        x = target = None
        if index is None:                   # a custom sample: the same one while its tensor is
            x, target = trainer.probe_sample()
        if index != run.probe_index or (index is None and x is not run.probe_x):
            if index is not None:
                x, target = trainer.probe_sample()
            body["probe"] = (index, None if x is None else x.detach().cpu().numpy().copy(),
                             target)
            run.probe_index, run.probe_x = index, (x if index is None else None)
        wanted = trainer.feature_map_nodes
        if wanted != run.wanted:
            body["wanted"] = wanted
            run.wanted = wanted
        try:
            self._conn.send(("take", body))
        except (OSError, ValueError):
            self.give_up("its pipe closed")
            return None
        self._busy = True
        return True

    def settle(self) -> None:
        """Return once nothing is in flight (what was taken has been sent to the app)."""
        if self._busy and not self._answer(wait=SETTLE_TIMEOUT_S):
            self.give_up(f"it took longer than {SETTLE_TIMEOUT_S:g} s over a snapshot")

    def _answer(self, wait: float) -> bool:
        """Read the reply to what is in flight, waiting up to ``wait`` seconds for it;
        whether it came (or there will be none: the process is gone)."""
        try:
            if not self._conn.poll(wait):
                return False
            reply = self._conn.recv()
        except (EOFError, OSError):
            self.give_up("it ended")
            return True
        self._busy = False
        run = self._run
        if run is not None and run.path is not None:
            Path(run.path).unlink(missing_ok=True)      # both have it open now
            run.path = None
        if reply[0] == "failed":
            log.warning("the capture process failed (%s): the training thread takes the "
                        "snapshots for the rest of this run", reply[1])
            self._end_run()
        return True

    def end(self) -> None:
        """The run ended: what is in flight is sent before its end is, and its model is no
        longer shared."""
        self.settle()
        self._end_run()

    def _end_run(self) -> None:
        run, self._run = self._run, None
        if run is not None and run.path is not None:
            Path(run.path).unlink(missing_ok=True)

    def give_up(self, why: str) -> None:
        """Leave the snapshots to the training thread for the worker's life."""
        if not self._gone:
            log.warning("the capture process is given up (%s): the training thread takes "
                        "the snapshots", why)
        self._gone, self._busy = True, False
        self._end_run()
        if self.process.poll() is None:
            self.process.kill()         # stuck: its memory goes with it

    def close(self, timeout: float = 2.0) -> None:
        """End the capture process (the worker ends)."""
        self._gone = True
        self._end_run()
        conn = self._conn
        if conn is not None:
            try:
                conn.send(None)
            except (OSError, ValueError):
                pass
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()


class CaptureLink:
    """The VisualOffload (training/offload.py) of one project's trainers: the capture
    process, with the generation its snapshots belong to."""

    def __init__(self, capture: CaptureProcess, generation: int) -> None:
        self.capture, self.generation = capture, generation

    def begin(self, trainer) -> None:
        try:
            self.capture.begin(trainer, self.generation)
        except Exception:  # noqa: BLE001 — a bug here must not fail the run: inline
            log.exception("the capture process could not be set up for this run")
            self.capture.give_up("a bug")

    def offer(self, trainer) -> bool | None:
        try:
            return self.capture.offer(trainer)
        except Exception:  # noqa: BLE001 — a bug here must not fail the run: inline
            log.exception("a snapshot could not be handed to the capture process")
            self.capture.give_up("a bug")
            return None

    def settle(self) -> None:
        self.capture.settle()

    def end(self) -> None:
        self.capture.end()


if __name__ == "__main__":
    sys.exit(main())
