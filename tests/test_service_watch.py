"""Feature maps of the watched nodes only: the worker's visual snapshots carry the maps the
views show, and the Trainer copies no others off the device (issue 9: looking inside must
leave training its speed)."""
from __future__ import annotations

import pytest

from layerlab.engine.project import project_to_dict
from layerlab.engine.service import handlers  # noqa: F401  (declares the requests)
from layerlab.engine.service.protocol import Call, Event
from layerlab.engine.service.service import TrainingService
from layerlab.engine.templates import load_template
from layerlab.engine.training import Trainer

from test_service_insight import Collector
from training_helpers import digits, one_thread  # noqa: F401


def test_a_trainer_copies_only_the_feature_maps_asked_for(digits):
    project = load_template("digits_cnn")
    trainer = Trainer(project.graph, digits, {"epochs": 1, "device": "cpu"})
    assert set(trainer.capture_visuals().feature_maps) == set(trainer.model.order)
    trainer.feature_map_nodes = frozenset({"conv2", "relu1"})
    snap = trainer.capture_visuals()
    assert set(snap.feature_maps) == {"conv2", "relu1"}
    assert snap.probe_output is not None          # the prediction still comes with it


@pytest.fixture
def worker():
    """An in-process TrainingService (no torch boot) and what it sends."""
    out = Collector()
    service = TrainingService(out)
    service.start(boot=False)
    yield service, out
    service.close()


def train_digits(call_id: int, epochs: int, snapshots: dict | None = None, **args) -> Call:
    """A "train" call for digits_cnn on the CPU."""
    project = load_template("digits_cnn")
    project.training = {**project.training, "epochs": epochs, "device": "cpu",
                        **({"snapshots": snapshots} if snapshots else {})}
    return Call(call_id, "train", {"project": project_to_dict(project), "base_dir": None,
                                   "epochs": epochs, **args})


def event(kind: str, test=lambda payload: True):
    """A Collector.wait_for test: an Event of ``kind`` whose payload passes ``test``."""
    return lambda m: isinstance(m, Event) and m.kind == kind and test(m.payload)


#: Paused after 50 steps (45 a digits_cnn epoch: one epoch done).
PAUSED_AT_50 = event("state", lambda p: p.state == "paused" and p.step == 50)


def test_the_worker_sends_the_watched_maps_and_all_of_them_when_nobody_chooses(worker):
    service, out = worker
    service.handle(Call(1, "watch", {"nodes": ["conv1"]}))
    service.handle(train_digits(2, 1))
    out.wait_for(event("run_ended"))
    visuals = out.events("visuals")
    assert visuals and all(set(v.feature_maps) == {"conv1"} for v in visuals)
    count = len(visuals)
    service.handle(Call(3, "watch", {"nodes": None}))   # idle: a fresh snapshot, all maps
    out.wait_for(lambda m: event("visuals")(m) and len(out.events("visuals")) > count)
    assert set(out.events("visuals")[-1].feature_maps) == set(service.trainer.model.order)


def test_the_maps_watched_as_a_project_opens_are_kept(worker):
    """The window opens a project with "reset" and at once "watch"es its first layer. The
    reset's switch waits in the job queue; the watch is applied at once, and must not be
    forgotten when the switch comes after it (every node's maps went out instead)."""
    service, out = worker
    service.handle(Call(1, "reset", {"generation": 7, "rescue_dir": None}))
    service.handle(Call(2, "watch", {"nodes": ["conv1"]}, generation=7))
    service.handle(train_digits(3, 1))
    out.wait_for(event("run_ended"))
    visuals = out.events("visuals")
    assert visuals and all(set(v.feature_maps) == {"conv1"} for v in visuals)


def test_a_run_stopped_before_the_switch_to_its_project_stays_stopped(worker):
    """Open a project, Train, Stop at once, while the worker is still busy with the last
    project's jobs: the Stop (applied at once) marks the run's token, and the switch that
    comes after it must not forget that — else the run starts after all."""
    import threading
    service, out = worker
    busy = threading.Event()
    service.call_model(lambda: busy.wait(30))      # the last project's jobs, still running
    service.handle(Call(1, "reset", {"generation": 7, "rescue_dir": None}))
    service.handle(Call(2, "train", train_digits(2, 1, token=2).args, generation=7))
    service.handle(Call(3, "stop", {"token": 2}, generation=7))
    busy.set()
    out.wait_for(event("run_ended"))
    assert out.events("run_started") == []
    assert out.events("run_ended") == [None]         # the stopped run, never begun


def test_histograms_off_screen_are_measured_after_the_run_and_sent_complete_once(worker):
    service, out = worker
    service.handle(Call(1, "histograms_live", {"on": False}))
    service.handle(train_digits(2, 4, {"histogram_budget": 1.0}))
    out.wait_for(event("run_ended"))
    sent = out.events("histograms")
    # None during the run; after it, every epoch at once — before the run's end.
    assert [s.weights["conv1"].epochs for s in sent] == [(0, 1, 2, 3, 4)]
    kinds = [m.kind for m in out.items if isinstance(m, Event)]
    assert kinds.index("histograms") < kinds.index("run_ended")
    # On screen again: the next run measures live, within its budget (here: every epoch).
    service.handle(Call(3, "histograms_live", {"on": True}))
    assert service.trainer.histograms_live
    service.handle(train_digits(4, 2, {"histogram_budget": 1.0}))
    out.wait_for(lambda m: event("run_ended")(m) and len(out.events("run_ended")) == 2)
    assert [s.weights["conv1"].epochs for s in out.events("histograms")[1:]] == \
        [(0,), (0, 1), (0, 1, 2)]


def test_histograms_shown_mid_run_measure_the_weights_of_now_at_once(worker):
    service, out = worker
    service.handle(Call(1, "histograms_live", {"on": False}))
    service.handle(train_digits(2, 3, start_paused=True, steps=50))
    out.wait_for(PAUSED_AT_50)
    assert out.events("histograms") == []           # off screen: nothing measured yet
    service.handle(Call(3, "histograms_live", {"on": True}))
    out.wait_for(event("histograms"))
    [now] = out.events("histograms")
    assert now.step == 50 and now.weights["conv1"].epochs == (1,)   # 1 epoch done
    service.handle(Call(4, "stop", {}))
    out.wait_for(event("run_ended"))
    # The epochs kept while off screen (the initial weights, epoch 1's end) follow.
    assert out.events("histograms")[-1].weights["conv1"].epochs == (0, 1)


def test_a_run_ended_by_another_project_is_not_measured_after_it(worker):
    service, out = worker
    service.handle(Call(1, "histograms_live", {"on": False}))
    service.handle(train_digits(2, 3, start_paused=True, steps=50))
    out.wait_for(PAUSED_AT_50)
    trainer = service.trainer
    service.handle(Call(3, "reset", {"generation": 7}))     # another project opens
    out.wait_for(event("run_ended"))
    assert out.events("histograms") == []       # its kept epochs were not measured
    assert len(trainer.histogram_backlog) == 2  # (the initial weights, epoch 1's end)
