"""The worker's capture process (engine/service/capture.py) takes a run's periodic visual
snapshots off the training thread (issue 9: looking inside must leave training its speed).
What it sends is what the Trainer would take of the same weights; the forced snapshots stay
the Trainer's and arrive after it; one that dies leaves the snapshots to the Trainer; and
in the app's worker, a pause still shows exactly the paused weights last."""
from __future__ import annotations

import errno
import os
import pickle
import secrets
import signal
import threading
import time
from multiprocessing.connection import Listener

import numpy as np
import pytest
import torch

from layerlab.engine.builder import build_model
from layerlab.engine.inference import analyze
from layerlab.engine.project import project_to_dict
from layerlab.engine.service.capture import CaptureProcess
from layerlab.engine.service.connect import accept_child
from layerlab.engine.service.protocol import Event
from layerlab.engine.templates import list_templates, load_template
from layerlab.engine.training import Trainer

from test_training_snapshots import Recorder
from training_helpers import digits, one_thread  # noqa: F401

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_getaffinity"),
                                reason="the capture process runs where threads are placed")

FAST_VISUALS = {"visual_hz": 60.0, "visual_budget": 1.0}
WAIT_S = 60.0


class AppPipe:
    """The app's end of the capture process's pipe: every message it sends, as it comes."""

    def __init__(self, conn) -> None:
        self.conn, self.messages = conn, []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                items = pickle.loads(self.conn.recv_bytes())
            except (EOFError, OSError):
                return
            with self.cond:
                self.messages.extend(items)
                self.cond.notify_all()

    def visuals(self) -> list:
        with self.cond:
            return [m.payload for m in self.messages if m.kind == "visuals"]

    def wait_for(self, count: int) -> list:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.visuals()) >= count, WAIT_S), \
                f"{len(self.visuals())} snapshots came, not {count}"
        return self.visuals()


@pytest.fixture
def capture():
    """A capture process connected to this test as its app (the app's end of its pipe)."""
    authkey = secrets.token_bytes(32)
    listener = Listener(authkey=authkey)
    core = frozenset({min(os.sched_getaffinity(0))})
    process = CaptureProcess.start({"address": listener.address, "authkey": authkey.hex()},
                                   core)
    assert process is not None
    try:
        conn = accept_child(listener, process.process)
        assert conn is not None, "the capture process did not connect"
        deadline = time.monotonic() + WAIT_S
        while not process.ready and time.monotonic() < deadline:
            time.sleep(0.01)
        assert process.ready
        yield process, conn
    finally:
        process.close()
        listener.close()


def digits_trainer(digits, epochs: int, recorder=None) -> Trainer:
    project = load_template("digits_cnn")
    return Trainer(project.graph, digits, {"epochs": epochs, "device": "cpu",
                                           "snapshots": FAST_VISUALS},
                   observers=[recorder] if recorder else [])


def test_the_capture_process_takes_the_periodic_snapshots_and_the_trainer_the_forced(
        digits, capture):
    process, app = capture[0], AppPipe(capture[1])
    recorder = Recorder()
    trainer = digits_trainer(digits, 10, recorder)
    trainer.visual_offload = process.link(7)
    assert trainer.run().status == "finished"
    assert [v.forced for v in recorder.of("visuals")] == [True]     # the end's, its own
    sent = app.wait_for(2)
    assert all(not v.forced for v in sent)
    steps = [v.step for v in sent]
    assert steps == sorted(set(steps)) and steps[-1] <= trainer.global_step
    assert all(m.generation == 7 for m in app.messages)
    assert {v.epoch for v in sent} <= set(range(1, 11))
    first = sent[0]
    assert set(first.filters) == set(trainer.parts.conv_ids)
    assert set(first.feature_maps) == set(trainer.model.order)
    assert first.grad_norms and first.dead_relu and first.probe_output is not None


def test_its_snapshot_is_the_trainers_own_for_the_same_weights(digits, capture):
    process, app = capture[0], AppPipe(capture[1])
    trainer = digits_trainer(digits, 1)
    trainer.run()
    trainer.set_probe(5)
    trainer.feature_map_nodes = frozenset({"conv1", "relu2"})
    link = process.link(3)
    link.begin(trainer)
    link.settle()                       # the model's set-up, sent as the run begins
    assert link.offer(trainer) is True
    link.settle()
    theirs = app.wait_for(1)[-1]
    ours = trainer.capture_visuals(forced=False)
    assert (theirs.step, theirs.epoch) == (ours.step, ours.epoch) == (trainer.global_step, 2)
    assert (theirs.probe_index, theirs.probe_target) == (5, ours.probe_target)
    assert set(theirs.feature_maps) == {"conv1", "relu2"} == set(ours.feature_maps)
    for name in ("filters", "feature_maps"):
        a, b = getattr(theirs, name), getattr(ours, name)
        assert set(a) == set(b)
        for key in a:
            np.testing.assert_allclose(a[key], b[key], rtol=1e-6, atol=1e-7)
    assert theirs.grad_norms.keys() == ours.grad_norms.keys()
    for key in ours.grad_norms:
        assert theirs.grad_norms[key] == pytest.approx(ours.grad_norms[key], rel=1e-5)
    assert theirs.dead_relu == pytest.approx(ours.dead_relu)
    np.testing.assert_allclose(theirs.probe_output, ours.probe_output, rtol=1e-6)
    # A custom probe sample (a drawing) goes over too.
    drawing = np.linspace(-1, 1, 64, dtype=np.float32).reshape(1, 8, 8)
    trainer.set_probe(drawing)
    assert link.offer(trainer) is True
    link.settle()
    theirs = app.wait_for(2)[-1]
    ours = trainer.capture_visuals(forced=False)
    assert theirs.probe_index is None and theirs.probe_target is None
    np.testing.assert_allclose(theirs.probe_output, ours.probe_output, rtol=1e-6)
    np.testing.assert_allclose(theirs.feature_maps["conv1"], ours.feature_maps["conv1"],
                               rtol=1e-6, atol=1e-7)


def test_a_capture_process_that_dies_leaves_the_snapshots_to_the_trainer(digits, capture):
    process, app = capture[0], AppPipe(capture[1])
    recorder = Recorder()
    trainer = digits_trainer(digits, 200, recorder)
    trainer.visual_offload = process.link(1)
    trainer.start()
    try:
        app.wait_for(2)
        assert trainer.pause(wait=True, timeout=WAIT_S)
        os.kill(process.process.pid, signal.SIGKILL)
        process.process.wait(WAIT_S)
        before = len(recorder.of("visuals"))
        trainer.resume()
        deadline = time.monotonic() + WAIT_S
        while (not any(not v.forced for v in recorder.of("visuals")[before:])
               and time.monotonic() < deadline):
            time.sleep(0.01)
    finally:
        trainer.stop()
        result = trainer.join(WAIT_S)
    assert result is not None and result.status == "stopped"
    assert any(not v.forced for v in recorder.of("visuals")[before:])
    assert not process.ready


def test_no_room_for_the_shared_weights_leaves_that_run_to_the_trainer(digits, capture,
                                                                       monkeypatch):
    """A full /dev/shm (a container's is small): that run's snapshots are taken inline, and
    the capture process stays for the next."""
    from layerlab.engine.service import capture as capture_module

    def full(count):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(capture_module, "_shared_floats", full)
    process, _conn = capture
    recorder = Recorder()
    trainer = digits_trainer(digits, 10, recorder)
    trainer.visual_offload = process.link(1)
    assert trainer.run().status == "finished"
    assert any(not v.forced for v in recorder.of("visuals"))
    assert process.ready


def test_once_settled_the_snapshot_in_flight_is_in_the_apps_pipe(digits, capture):
    """``settle`` returns only once the capture process has sent what it took: a forced
    snapshot the worker sends after it reaches the app after it."""
    process, conn = capture
    trainer = digits_trainer(digits, 1)
    trainer.run()
    link = process.link(1)
    link.begin(trainer)
    link.settle()
    for _ in range(5):
        assert link.offer(trainer) is True
        link.settle()
        assert conn.poll(0), "settle() returned before the snapshot was sent"
        (message,) = pickle.loads(conn.recv_bytes())
        assert message.kind == "visuals" and message.payload.step == trainer.global_step


def test_the_app_reads_the_capture_pipe_before_the_workers():
    """What the capture process sent before the worker's next message is handed on first,
    even when both wait to be read."""
    from multiprocessing import Pipe

    from layerlab.engine.service.process import WorkerProcess
    worker_app, worker_child = Pipe()
    capture_app, capture_child = Pipe()
    capture_child.send_bytes(pickle.dumps([Event("visuals", "periodic", 1)]))
    worker_child.send_bytes(pickle.dumps([Event("visuals", "forced", 1)]))
    worker_child.close()                    # then the worker's pipe closes: the pump ends
    got: list = []
    app = WorkerProcess()
    app.on_messages = got.extend
    app._conn, app._capture = worker_app, capture_app
    app._pump()
    assert [m.payload for m in got] == ["periodic", "forced"]


def test_every_templates_model_goes_over_by_pickle():
    """The capture process gets the run's model pickled: every template's must survive it."""
    for template in list_templates():
        project = load_template(template.key)
        model = build_model(project.graph, analyze(project.graph))
        clone = pickle.loads(pickle.dumps(model))
        shape = analyze(project.graph).nodes[model.input_id].output_shape
        x = torch.randn(2, *shape)
        model.eval(), clone.eval()
        with torch.no_grad():
            torch.testing.assert_close(clone(x), model(x))


# --- in the app's worker ------------------------------------------------------------------------
def test_in_the_worker_a_pause_shows_the_paused_weights_last():
    """A real worker with its capture process: periodic snapshots come from the capture
    process; after a pause, the last snapshot the app reads is the forced one of the paused
    weights — none of the capture's arrives after it."""
    from layerlab.engine.service.process import WorkerProcess
    from test_service_insight import Collector
    out = Collector()
    worker = WorkerProcess()
    worker.on_messages = lambda items: [out(m) for m in items]
    worker.start()
    try:
        deadline = time.monotonic() + WAIT_S
        while not worker.capture_connected and time.monotonic() < deadline:
            time.sleep(0.02)
        assert worker.capture_connected, "the worker's capture process never connected"
        project = load_template("digits_cnn")
        project.training = {**project.training, "epochs": 300, "device": "cpu",
                            "snapshots": FAST_VISUALS}
        worker.call("reset", 0, generation=1, rescue_dir=None)
        worker.call("train", 1, project=project_to_dict(project), base_dir=None, epochs=300)
        out.wait_for(lambda m: isinstance(m, Event) and m.kind == "visuals"
                     and not m.payload.forced and m.payload.step > 30, WAIT_S)
        worker.call("pause", 1)
        paused = out.wait_for(lambda m: isinstance(m, Event) and m.kind == "state"
                              and m.payload.state == "paused", WAIT_S).payload
        forced = out.wait_for(lambda m: isinstance(m, Event) and m.kind == "visuals"
                              and m.payload.forced and m.payload.step == paused.step,
                              WAIT_S).payload
        time.sleep(0.5)                 # anything still on its way arrives meanwhile
        visuals = out.events("visuals")
        assert visuals[-1] is forced and forced.step == paused.step
        assert any(not v.forced for v in visuals)
    finally:
        worker.call("stop", 1)
        worker.close()
