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
