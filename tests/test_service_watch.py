"""Feature maps of the watched nodes only: the worker's visual snapshots carry the maps the
views show, and the Trainer copies no others off the device (issue 9: looking inside must
leave training its speed)."""
from __future__ import annotations

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


def test_the_worker_sends_the_watched_maps_and_all_of_them_when_nobody_chooses():
    out = Collector()
    service = TrainingService(out)
    service.start(boot=False)
    try:
        project = load_template("digits_cnn")
        project.training = {**project.training, "epochs": 1, "device": "cpu"}
        service.handle(Call(1, "watch", {"nodes": ["conv1"]}))
        service.handle(Call(2, "train", {"project": project_to_dict(project),
                                         "base_dir": None, "epochs": 1}))
        out.wait_for(lambda m: isinstance(m, Event) and m.kind == "run_ended")
        visuals = out.events("visuals")
        assert visuals and all(set(v.feature_maps) == {"conv1"} for v in visuals)
        count = len(visuals)
        service.handle(Call(3, "watch", {"nodes": None}))   # idle: a fresh snapshot, all maps
        out.wait_for(lambda m: isinstance(m, Event) and m.kind == "visuals"
                     and len(out.events("visuals")) > count)
        assert set(out.events("visuals")[-1].feature_maps) == set(service.trainer.model.order)
    finally:
        service.close()


def test_histograms_off_screen_are_measured_after_the_run_and_sent_complete_once():
    out = Collector()
    service = TrainingService(out)
    service.start(boot=False)
    try:
        project = load_template("digits_cnn")
        project.training = {**project.training, "epochs": 4, "device": "cpu",
                            "snapshots": {"histogram_budget": 1.0}}
        service.handle(Call(1, "histograms_live", {"on": False}))
        service.handle(Call(2, "train", {"project": project_to_dict(project),
                                         "base_dir": None, "epochs": 4}))
        out.wait_for(lambda m: isinstance(m, Event) and m.kind == "run_ended")
        sent = out.events("histograms")
        # None during the run; after it, every epoch at once — before the run's end.
        assert [s.weights["conv1"].epochs for s in sent] == [(0, 1, 2, 3, 4)]
        kinds = [m.kind for m in out.items if isinstance(m, Event)]
        assert kinds.index("histograms") < kinds.index("run_ended")
        # On screen again: the next run measures live, within its budget (here: every epoch).
        service.handle(Call(3, "histograms_live", {"on": True}))
        assert service.trainer.histograms_live
        service.handle(Call(4, "train", {"project": project_to_dict(project),
                                         "base_dir": None, "epochs": 2}))
        out.wait_for(lambda m: isinstance(m, Event) and m.kind == "run_ended"
                     and len(out.events("run_ended")) == 2)
        assert [s.weights["conv1"].epochs for s in out.events("histograms")[1:]] == \
            [(0,), (0, 1), (0, 1, 2)]
    finally:
        service.close()


def test_histograms_shown_mid_run_measure_the_weights_of_now_at_once():
    out = Collector()
    service = TrainingService(out)
    service.start(boot=False)
    try:
        project = load_template("digits_cnn")
        project.training = {**project.training, "epochs": 3, "device": "cpu"}
        service.handle(Call(1, "histograms_live", {"on": False}))
        service.handle(Call(2, "train", {"project": project_to_dict(project), "base_dir": None,
                                         "epochs": 3, "start_paused": True, "steps": 50}))
        out.wait_for(lambda m: isinstance(m, Event) and m.kind == "state"
                     and m.payload.state == "paused" and m.payload.step == 50)
        assert out.events("histograms") == []           # off screen: nothing measured yet
        service.handle(Call(3, "histograms_live", {"on": True}))
        out.wait_for(lambda m: isinstance(m, Event) and m.kind == "histograms")
        [now] = out.events("histograms")
        assert now.step == 50 and now.weights["conv1"].epochs == (1,)   # 1 epoch done
        service.handle(Call(4, "stop", {}))
        out.wait_for(lambda m: isinstance(m, Event) and m.kind == "run_ended")
        # The epochs kept while off screen (the initial weights, epoch 1's end) follow.
        assert out.events("histograms")[-1].weights["conv1"].epochs == (0, 1)
    finally:
        service.close()


def test_a_run_ended_by_another_project_is_not_measured_after_it():
    out = Collector()
    service = TrainingService(out)
    service.start(boot=False)
    try:
        project = load_template("digits_cnn")
        project.training = {**project.training, "epochs": 3, "device": "cpu"}
        service.handle(Call(1, "histograms_live", {"on": False}))
        service.handle(Call(2, "train", {"project": project_to_dict(project), "base_dir": None,
                                         "epochs": 3, "start_paused": True, "steps": 50}))
        out.wait_for(lambda m: isinstance(m, Event) and m.kind == "state"
                     and m.payload.state == "paused" and m.payload.step == 50)
        trainer = service.trainer
        service.handle(Call(3, "reset", {"generation": 7}))     # another project opens
        out.wait_for(lambda m: isinstance(m, Event) and m.kind == "run_ended")
        assert out.events("histograms") == []       # its kept epochs were not measured
        assert len(trainer.histogram_backlog) == 2  # (the initial weights, epoch 1's end)
    finally:
        service.close()
