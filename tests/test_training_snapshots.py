"""Observers get plain data (numpy copies, Python numbers) at rates bounded by wall clock."""
import dataclasses
import time

import numpy as np
import pytest
import torch

from layerlab.engine.compose import Composer
from layerlab.engine.data import load_dataset
from layerlab.engine.inference import analyze
from layerlab.engine.training import (BatchSnapshot, EpochSnapshot, EvalSnapshot, RateLimiter,
                                      RunInfo, StateSnapshot, Trainer, TrainingObserver,
                                      VisualSnapshot)

from training_helpers import digits, one_thread  # noqa: F401


def cnn():
    g = Composer()
    x = g.input([1, 8, 8])
    x = g.layer("Conv2d", x, id="conv1", out_channels=6, kernel_size=3, padding=1)
    x = g.layer("ReLU", x, id="relu1")
    x = g.layer("MaxPool2d", x, id="pool1", kernel_size=2)
    x = g.layer("Flatten", x, id="flatten")
    x = g.layer("Linear", x, id="fc1", out_features=12)
    x = g.layer("ReLU", x, id="relu2")
    g.layer("Linear", x, id="fc2", out_features=10)
    return g.graph


class Recorder(TrainingObserver):
    def __init__(self):
        self.events = []

    def _add(self, kind, snap):
        self.events.append((kind, time.perf_counter(), snap))

    def on_start(self, info): self._add("start", info)
    def on_batch(self, snap): self._add("batch", snap)
    def on_epoch(self, snap): self._add("epoch", snap)
    def on_evaluation(self, snap): self._add("evaluation", snap)
    def on_visuals(self, snap): self._add("visuals", snap)
    def on_state(self, snap): self._add("state", snap)
    def on_finish(self, result): self._add("finish", result)

    def of(self, kind):
        return [s for k, _, s in self.events if k == kind]


PLAIN = (int, float, str, bool, type(None), np.ndarray, np.integer, np.floating)


def assert_plain(value, where="snapshot"):
    """Only Python numbers/strings, numpy arrays and containers of them — no tensors."""
    assert not isinstance(value, torch.Tensor), where
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            assert_plain(getattr(value, f.name), f"{where}.{f.name}")
    elif isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, (str, int, tuple)), where
            assert_plain(v, f"{where}[{k!r}]")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            assert_plain(v, f"{where}[{i}]")
    else:
        assert isinstance(value, PLAIN), f"{where} is {type(value).__name__}"
        if isinstance(value, np.ndarray):
            assert value.dtype != object, where


def test_every_snapshot_is_plain_data_and_owns_its_arrays(digits):
    rec = Recorder()
    trainer = Trainer(cnn(), digits, {"epochs": 2, "device": "cpu",
                                      "snapshots": {"visual_hz": 60, "batch_hz": 1000}},
                      observers=[rec])
    result = trainer.run()
    kinds = {k for k, _, _ in rec.events}
    assert kinds == {"start", "batch", "epoch", "evaluation", "visuals", "state", "finish"}
    expected_type = {"start": RunInfo, "batch": BatchSnapshot, "epoch": EpochSnapshot,
                     "evaluation": EvalSnapshot, "visuals": VisualSnapshot,
                     "state": StateSnapshot}
    for kind, _, snap in rec.events:
        if kind in expected_type:
            assert isinstance(snap, expected_type[kind])
        assert_plain(snap, kind)
    assert all(isinstance(b.loss, float) and b.loss > 0 for b in rec.of("batch"))
    # Arrays are copies: training further does not change a snapshot already sent.
    last = rec.of("visuals")[-1]
    kept = last.filters["conv1"].copy()
    assert np.array_equal(kept, trainer.model.layers["conv1"].weight.detach().numpy())
    trainer.set_epochs(3)
    trainer.run()
    assert np.array_equal(last.filters["conv1"], kept)
    assert not np.array_equal(kept, trainer.model.layers["conv1"].weight.detach().numpy())
    assert result.history[-1].epoch == 2


def test_visual_snapshot_contents(digits):
    rec = Recorder()
    graph = cnn()
    trainer = Trainer(graph, digits, {"epochs": 1, "device": "cpu"}, observers=[rec])
    trainer.run()
    snap = rec.of("visuals")[-1]   # the forced one at the end
    assert snap.forced
    shapes = {n: i.output_shape for n, i in analyze(graph).nodes.items()}
    assert set(snap.feature_maps) == set(graph.nodes)
    for node_id, fmap in snap.feature_maps.items():
        assert fmap.shape == shapes[node_id] and fmap.dtype == np.float32
    assert snap.filters["conv1"].shape == (6, 1, 3, 3) and set(snap.filters) == {"conv1"}
    assert set(snap.grad_norms) == {"conv1", "fc1", "fc2"}
    assert all(isinstance(v, float) and v > 0 for v in snap.grad_norms.values())
    assert set(snap.dead_relu) == {"relu1", "relu2"}
    assert all(0.0 <= v <= 1.0 for v in snap.dead_relu.values())
    assert snap.probe_index == 0 and snap.probe_target == int(digits.y_val[0])
    assert snap.probe_output.shape == (10,) and snap.probe_output.sum() == pytest.approx(1.0)
    np.testing.assert_array_equal(snap.feature_maps["input"], digits.x_val[0].numpy())
    # A custom probe array: the input node's map is that array.
    custom = np.full((1, 8, 8), 0.5, dtype=np.float32)
    trainer.set_probe(custom)  # idle: a fresh snapshot is sent at once
    fresh = rec.of("visuals")[-1]
    assert fresh.probe_index is None and fresh.probe_target is None
    np.testing.assert_array_equal(fresh.feature_maps["input"], custom)
    with pytest.raises(ValueError, match="shape"):
        trainer.set_probe(np.zeros((8, 8)))
    with pytest.raises(ValueError, match="outside the validation set"):
        trainer.set_probe(10_000)


def test_dead_relu_fraction_counts_units_that_never_fire(digits):
    trainer = Trainer(cnn(), digits, {"epochs": 1, "device": "cpu"})
    with torch.no_grad():  # fc1 bias hugely negative: every relu2 unit is dead
        trainer.model.layers["fc1"].bias.fill_(-1e6)
    snap = trainer.capture_visuals()
    assert snap.dead_relu["relu2"] == 1.0
    assert snap.dead_relu["relu1"] < 1.0


def test_evaluation_snapshot_is_consistent(digits):
    rec = Recorder()
    trainer = Trainer(cnn(), digits, {"epochs": 2, "device": "cpu",
                                      "snapshots": {"misclassified_per_cell": 2}},
                      observers=[rec])
    trainer.run()
    ev, epoch = rec.of("evaluation")[-1], rec.of("epoch")[-1]
    y = digits.y_val.numpy()
    assert ev.confusion.shape == (10, 10) and ev.confusion.sum() == len(y)
    assert np.trace(ev.confusion) / len(y) == pytest.approx(epoch.val_acc) == ev.accuracy
    assert (ev.confusion.sum(axis=1) == ev.support).all()
    for arr in (ev.precision, ev.recall, ev.f1):
        assert arr.shape == (10,) and ((0 <= arr) & (arr <= 1)).all()
    assert ev.misclassified, "an undertrained model makes mistakes"
    for (true, pred), indices in ev.misclassified.items():
        assert true != pred and 1 <= len(indices) <= 2
        assert ev.confusion[true, pred] >= len(indices)
        assert (y[indices] == true).all() and (ev.predictions[indices] == pred).all()


def test_regression_snapshots_report_mae_and_rmse():
    house = load_dataset({"kind": "csv", "path": "resources:data/house_prices.csv",
                          "target": "price"})
    g = Composer()
    x = g.input([3])
    x = g.layer("Linear", x, id="fc1", out_features=8)
    x = g.layer("ReLU", x, id="relu1")
    g.layer("Linear", x, id="price", out_features=1)
    rec = Recorder()
    result = Trainer(g.graph, house, {"epochs": 3, "device": "cpu", "lr": 0.01},
                     observers=[rec]).run()
    last = result.history[-1]
    assert last.train_acc is None and last.val_acc is None
    assert last.val_mae > 0 and last.val_rmse >= last.val_mae
    ev = rec.of("evaluation")[-1]
    assert ev.task == "regression" and ev.mae.shape == (1,) and ev.predictions.shape[1] == 1
    assert ev.mae[0] == pytest.approx(last.val_mae)
    # MAE is in the target's real units (prices in the tens of thousands), not standardized.
    assert last.val_mae > 1000


def test_snapshot_rates_are_bounded_by_wall_clock(digits):
    rec = Recorder()
    trainer = Trainer(cnn(), digits, {"epochs": 12, "device": "cpu",
                                      "snapshots": {"batch_hz": 10, "visual_hz": 4}},
                      observers=[rec])
    start = time.perf_counter()
    trainer.run()
    elapsed = time.perf_counter() - start
    batches = rec.of("batch")
    visuals = [v for v in rec.of("visuals") if not v.forced]
    assert len(batches) <= elapsed * 10 + 1
    assert len(visuals) <= elapsed * 4 + 1
    assert len(batches) < trainer.global_step  # fewer snapshots than batches


class SlowStartAndEnd(TrainingObserver):
    """Takes ``seconds`` when the run starts and over the last look inside at its end."""

    def __init__(self, seconds):
        self.seconds = seconds

    def on_start(self, info):
        time.sleep(self.seconds)

    def on_visuals(self, snap):
        if snap.forced:
            time.sleep(self.seconds)


def test_a_runs_clock_counts_training_not_what_observers_do_before_and_after_it(digits):
    # The run's seconds (and so its samples/s) run from its first batch to its last epoch's
    # end, like its epochs' seconds: a slow start (the run record being written, the first
    # histograms) or a slow last look inside is not training.
    slow = 1.0
    result = Trainer(cnn(), digits, {"epochs": 2, "device": "cpu"},
                     observers=[SlowStartAndEnd(slow)]).run()
    assert result.status == "finished"
    trained = sum(h.seconds for h in result.history)
    assert trained <= result.seconds < trained + slow / 2
    assert result.samples_per_s == pytest.approx(2 * len(digits.y_train) / result.seconds,
                                                 rel=0.05)


def test_switched_off_snapshots_are_not_sent(digits):
    rec = Recorder()
    Trainer(cnn(), digits, {"epochs": 1, "device": "cpu",
                            "snapshots": {"batch_hz": 0, "visual_hz": 0}},
            observers=[rec]).run()
    assert rec.of("batch") == [] and rec.of("visuals") == []
    assert len(rec.of("epoch")) == 1


def test_rate_limiter_spacing_and_budget():
    limiter = RateLimiter(hz=4)
    assert limiter.ready(0.0)
    limiter.done(0.0, 0.01)
    assert not limiter.ready(0.2) and limiter.ready(0.25)
    budgeted = RateLimiter(hz=4, budget=0.05)
    budgeted.done(10.0, 10.2)  # a 0.2 s snapshot may only take 5 %: next one 4 s later
    assert not budgeted.ready(13.9) and budgeted.ready(14.0)
    assert not RateLimiter(hz=0).ready(1e9)


def test_taking_snapshots_does_not_change_training(digits):
    # Snapshots run in eval mode without gradients: no dropout draws, no BatchNorm updates.
    def graph():
        g = Composer()
        x = g.input([1, 8, 8])
        x = g.layer("Conv2d", x, id="conv1", out_channels=4, kernel_size=3, padding=1)
        x = g.layer("BatchNorm2d", x, id="bn1")
        x = g.layer("ReLU", x, id="relu1")
        x = g.layer("Flatten", x, id="flatten")
        x = g.layer("Dropout", x, id="drop", p=0.3)
        g.layer("Linear", x, id="fc", out_features=10)
        return g.graph
    cfg = {"epochs": 2, "device": "cpu", "snapshots": {"visual_hz": 60, "batch_hz": 1000}}
    rec = Recorder()
    watched = Trainer(graph(), digits, cfg, observers=[rec])
    plain = Trainer(graph(), digits, cfg)
    a, b = watched.run(), plain.run()
    assert len(rec.of("visuals")) >= 2
    assert [(h.train_loss, h.val_loss) for h in a.history] == \
        [(h.train_loss, h.val_loss) for h in b.history]
    for key, value in plain.model.state_dict().items():
        assert torch.equal(value, watched.model.state_dict()[key]), key


def evaluated(rec, history):
    """The epochs of the evaluation snapshots, each checked against its epoch's history row."""
    epochs = []
    for snap in rec.of("evaluation"):
        assert snap.accuracy == pytest.approx(history[snap.epoch - 1].val_acc)
        epochs.append(snap.epoch)
    return epochs


def test_evaluations_come_at_most_evaluation_hz_and_the_last_epoch_always(digits):
    # (the window asks for 5 a second: a fast run's 15 epochs a second do not each need a
    # confusion matrix built, sent and read)
    rec = Recorder()
    trainer = Trainer(cnn(), digits, {"epochs": 5, "device": "cpu",
                                      "snapshots": {"evaluation_hz": 0.001}}, observers=[rec])
    result = trainer.run()
    assert result.status == "finished" and len(rec.of("epoch")) == 5
    assert evaluated(rec, result.history) == [1, 5]


def test_a_run_that_stops_between_evaluations_ends_on_its_last_evaluated_epoch(digits):
    rec = Recorder()
    trainer = Trainer(cnn(), digits, {"epochs": 5, "device": "cpu",
                                      "snapshots": {"evaluation_hz": 0.001}}, observers=[rec])
    result = trainer.run(max_batches=2 * trainer.batches_per_epoch + 1)
    assert result.status == "stopped" and result.epochs_completed == 2
    assert evaluated(rec, result.history) == [1, 2]     # epoch 2's, skipped, sent at the end
    kinds = [k for k, _, _ in rec.events]
    assert max(i for i, k in enumerate(kinds) if k == "evaluation") < kinds.index("finish")


def test_a_paused_run_shows_the_evaluation_of_its_last_epoch(digits):
    rec = Recorder()
    trainer = Trainer(cnn(), digits, {"epochs": 5, "device": "cpu",
                                      "snapshots": {"evaluation_hz": 0.001}}, observers=[rec])
    trainer.pause()
    trainer.start()
    try:
        assert trainer.pause(wait=True, timeout=60)
        assert trainer.step(2 * trainer.batches_per_epoch, wait=True, timeout=60)
        assert trainer.epoch == 2
        assert evaluated(rec, trainer.history) == [1, 2]
    finally:
        trainer.stop(wait=True, timeout=60)


def test_evaluation_hz_zero_sends_no_evaluations(digits):
    rec = Recorder()
    Trainer(cnn(), digits, {"epochs": 2, "device": "cpu",
                            "snapshots": {"evaluation_hz": 0}}, observers=[rec]).run()
    assert rec.of("evaluation") == [] and len(rec.of("epoch")) == 2


def test_set_probe_while_paused_sends_a_fresh_snapshot_from_the_training_thread(digits):
    import threading
    rec = Recorder()
    threads = []
    rec.on_visuals = lambda snap: (threads.append(threading.get_ident()),
                                   rec._add("visuals", snap))

    trainer = Trainer(cnn(), digits, {"epochs": 1, "device": "cpu"}, observers=[rec])
    trainer.pause()
    trainer.start()
    try:
        assert trainer.pause(wait=True, timeout=60)
        before = len(rec.of("visuals"))
        trainer.set_probe(5)
        deadline = time.monotonic() + 60
        while len(rec.of("visuals")) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        fresh = rec.of("visuals")[-1]
        assert fresh.probe_index == 5 and fresh.probe_target == int(digits.y_val[5])
        np.testing.assert_array_equal(fresh.feature_maps["input"], digits.x_val[5].numpy())
        assert threads[-1] != threading.get_ident()  # computed by the training thread
        assert trainer.global_step == 0               # and still paused
    finally:
        trainer.stop(wait=True, timeout=60)


def test_format_eta_for_the_progress_bars():
    from layerlab.engine.training import format_eta
    assert [format_eta(s) for s in (0, 59.6, 65, 3700, float("inf"), float("nan"))] == \
        ["0:00", "1:00", "1:05", "1:01:40", "--:--", "--:--"]
