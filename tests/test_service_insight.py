"""The worker's looks inside, without a window: a TrainingService in this process answers the
new requests (explain, saliency, activation curve, range test, run history) with plain data
equal to the engine's own results, and forwards histograms and markers as events."""
from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest

from layerlab.engine.project import project_to_dict
from layerlab.engine.service import handlers  # noqa: F401  (declares the requests)
from layerlab.engine.service.protocol import (Call, Event, ExplainFrames, HistogramStrips,
                                              Reply, SaliencyMaps)
from layerlab.engine.service.service import TrainingService
from layerlab.engine.templates import load_template

WAIT_S = 120


class Collector:
    def __init__(self) -> None:
        self.items: list = []
        self.cond = threading.Condition()

    def __call__(self, message) -> None:
        with self.cond:
            self.items.append(message)
            self.cond.notify_all()

    def wait_for(self, test, timeout: float = WAIT_S):
        with self.cond:
            assert self.cond.wait_for(lambda: any(test(m) for m in self.items), timeout), \
                f"nothing arrived; got {[getattr(m, 'kind', getattr(m, 'name', m)) for m in self.items]}"
            return next(m for m in self.items if test(m))

    def events(self, kind: str) -> list:
        with self.cond:
            return [m.payload for m in self.items if isinstance(m, Event) and m.kind == kind]


def _reply(out: Collector, call_id: int) -> Reply:
    reply = out.wait_for(lambda m: isinstance(m, Reply) and m.id == call_id)
    assert reply.error is None, reply.error
    return reply


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """digits_cnn trained 2 epochs in a service that records its runs."""
    folder = tmp_path_factory.mktemp("run")
    out = Collector()
    service = TrainingService(out)
    service.start(boot=False)
    project = load_template("digits_cnn")
    project.training = {**project.training, "epochs": 2, "device": "cpu",
                        "snapshots": {"histogram_budget": 1.0}}      # a strip every epoch
    ids = iter(range(1, 10_000))
    service.handle(Call(next(ids), "train", {
        "project": project_to_dict(project), "base_dir": None, "epochs": 2,
        "run_folder": str(folder), "graph_key": "g", "settings_key": "s"}))
    out.wait_for(lambda m: isinstance(m, Event) and m.kind == "run_ended")
    yield service, out, ids, folder, project
    service.close()


def ask(trained, name, **args):
    service, out, ids, *_ = trained
    call_id = next(ids)
    service.handle(Call(call_id, name, args))
    return _reply(out, call_id).value


def test_histograms_stack_every_epoch_and_cross_the_pipe_as_plain_data(trained):
    _service, out, *_ = trained
    strips = out.events("histograms")[-1]
    assert isinstance(strips, HistogramStrips)
    assert strips.weights["conv1"].epochs == (0, 1, 2)          # initial weights, 2 epochs
    counts = strips.weights["conv1"].counts
    assert counts.shape == (3, len(strips.weights["conv1"].edges) - 1)
    assert (counts.sum(axis=1) == 16 * 9).all()                  # every conv1 weight binned
    assert "relu1" in strips.activations and "relu1" in strips.dead_relu
    assert [e for e, _ in strips.dead_relu["relu1"]] == [0, 1, 2]
    assert b"torch" not in pickle.dumps(strips)


def test_explain_gives_the_engines_numbers_for_a_clicked_cell_and_its_whole_map(trained):
    from layerlab.engine.explain import Explainer
    service = trained[0]
    frames = ask(trained, "explain", node="conv1", index=(3, 0, 5), sample=2)
    assert isinstance(frames, ExplainFrames)
    assert frames.channel == 3 and frames.total == 64 and frames.start == 0
    assert len(frames.frames) == 64                      # the whole 8×8 sweep at once
    here = frames.frames[frames.position_of((3, 0, 5))]
    trainer = service.trainer
    x = trainer.dataset.x_val[2].numpy()
    e = Explainer(trainer.model, trainer.graph, x).explain("conv1", (3, 0, 5))
    assert here["index"] == (3, 0, 5)
    assert here["value"] == e.value and here["sum"] == e.sum and here["bias"] == e.bias
    np.testing.assert_array_equal(here["window"], e.window)
    np.testing.assert_array_equal(here["kernel"], e.kernel)
    np.testing.assert_array_equal(here["products"], e.products)
    assert here["activation"]["node"] == "relu1"
    assert here["lines"][0].startswith("conv1 (Conv2d) output [3, 0, 5]")
    assert frames.source == "input" and frames.source_maps.shape == (1, 8, 8)
    assert frames.output_map.shape == (8, 8)
    assert frames.output_map[0, 5] == pytest.approx(e.value, rel=1e-6)
    assert frames.image.shape == (8, 8) and frames.label and frames.predicted
    assert b"torch" not in pickle.dumps(frames)


def test_explain_vectors_softmax_free_linear_and_errors_in_words(trained):
    frames = ask(trained, "explain", node="fc2", index=(6,))
    assert frames.channel is None and frames.total == 10 and len(frames.frames) == 10
    f = frames.frames[6]
    assert f["type"] == "Linear" and len(f["products"]) == 64
    assert f["sum"] + f["bias"] == pytest.approx(f["value"], rel=1e-5, abs=1e-6)
    service, out, ids, *_ = trained
    call_id = next(ids)
    service.handle(Call(call_id, "explain", {"node": "conv1", "index": (99, 0, 0)}))
    reply = out.wait_for(lambda m: isinstance(m, Reply) and m.id == call_id)
    assert "not in conv1's output" in reply.error


def test_saliency_for_samples_a_raw_drawing_and_the_true_class(trained):
    maps = ask(trained, "saliency", method="gradcam", indices=[0, 1, 2], which="true")
    assert isinstance(maps, SaliencyMaps)
    assert maps.node == "conv2" and maps.heat.shape == (3, 8, 8)
    assert maps.heat_raw.shape == (3, 4, 4) and maps.images.shape == (3, 8, 8)
    assert maps.targets == tuple(maps.labels)                  # explained for the true class
    assert np.allclose(maps.probabilities.sum(axis=1), 1.0)
    drawing = np.zeros((1, 8, 8))
    drawing[0, 2:6, 3] = 1.0
    one = ask(trained, "saliency", method="gradient", raw=drawing, target=4)
    assert one.targets == (4,) and one.heat.shape == (1, 8, 8) and one.indices == ()
    assert float(one.heat.max()) == pytest.approx(1.0)


def test_activation_curve_on_trained_weights_and_without_a_model(trained):
    service, *_ = trained
    project = trained[4]
    data = ask(trained, "activation_curve", project=project_to_dict(project), base_dir=None,
               node="relu1", graph_key="g")
    assert data["basis"] == "trained" and data["samples"] > 0
    assert data["low"] < 0 < data["high"]
    assert np.allclose(data["y"], np.maximum(data["x"], 0))
    broken = load_template("digits_cnn")
    broken.graph.node("conv1").params["kernel_size"] = 99     # does not build any more
    fallback = ask(trained, "activation_curve", project=project_to_dict(broken),
                   base_dir=None, node="relu3", graph_key="other")
    assert fallback["basis"] == "none" and fallback["low"] == -4.0
    assert fallback["counts"] is None and "why" in fallback


def test_range_test_from_initial_weights_and_the_run_history(trained):
    service, out, *_ = trained
    project = trained[4]
    result = ask(trained, "lr_find", project=project_to_dict(project), base_dir=None,
                 batches=30, graph_key="g", settings_key="s")
    assert result.batches == 30 and len(result.lrs) == len(result.losses) > 3
    assert result.result.suggestion is None or result.result.suggestion > 0
    history = ask(trained, "runs", folder=str(trained[3]))
    assert len(history["runs"]) == 1
    run = history["runs"][0]
    assert run["summary"]["status"] == "finished" and len(run["history"]) == 2
    headers, rows = history["table"]
    assert "best val acc" in headers and len(rows) == 1
    assert ask(trained, "runs", folder=None)["runs"] == ()
