"""Histograms measured after the run (engine/training/histogram_backlog.py): while nobody
watches them live, each epoch's weights are kept and measured once the run ends — the same
histograms a live pass gives, every epoch, and the model's own weights untouched."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from layerlab.engine.training import Trainer, TrainingObserver
from layerlab.engine.training.histogram_backlog import HistogramBacklog

from test_training_snapshots import cnn
from training_helpers import digits, one_thread  # noqa: F401

CFG = {"epochs": 4, "batch_size": 32, "lr": 0.01, "seed": 3, "device": "cpu"}


class Seen(TrainingObserver):
    """The histograms in the order they came, and the weights at every epoch's end."""

    def __init__(self):
        self.trainer = None
        self.snaps, self.at_epoch_end = [], {}

    def on_epoch(self, snap):
        self.at_epoch_end[snap.epoch] = weights_of(self.trainer.model)

    def on_histograms(self, snap):
        self.snaps.append(snap)


def weights_of(model):
    return {n: m.weight.detach().numpy().copy() for n, m in model.layers.items()
            if getattr(m, "weight", None) is not None and m.weight.dim() >= 2}


def trainer_with(digits, live, backlog, **config):
    seen = Seen()
    trainer = Trainer(cnn(), digits, {**CFG, **config}, observers=[seen])
    seen.trainer = trainer
    trainer.histograms_live = live
    trainer.histogram_backlog = backlog
    return trainer, seen


def assert_equals_numpy(snap, weights):
    for node, hist in snap.weights.items():
        expected, _ = np.histogram(weights[node].ravel(), bins=hist.edges)
        np.testing.assert_array_equal(hist.counts, expected)


def test_off_screen_the_epochs_are_measured_after_the_run_and_every_one_gets_its_strip(digits):
    trainer, seen = trainer_with(digits, live=False, backlog=HistogramBacklog(),
                                 snapshots={"histogram_budget": 1.0})
    initial = weights_of(trainer.model)
    result = trainer.run()
    assert result.status == "finished"
    assert seen.snaps == [] and len(trainer.histogram_backlog) == 5    # nothing measured yet
    own = weights_of(trainer.model)
    assert trainer.measure_backlog() == 5
    assert [s.epoch for s in seen.snaps] == [0, 1, 2, 3, 4]
    assert [s.step for s in seen.snaps] == [0] + [h.step for h in result.history]
    seen.at_epoch_end[0] = initial
    for snap in seen.snaps:                      # the weights of their epoch's end
        assert_equals_numpy(snap, seen.at_epoch_end[snap.epoch])
    for node, w in weights_of(trainer.model).items():      # and the model's own put back
        np.testing.assert_array_equal(w, own[node])
    assert len(trainer.histogram_backlog) == 0 and trainer.measure_backlog() == 0


def test_live_the_epochs_the_budget_skips_are_kept_for_after_the_run(digits):
    # Budget 0: a pass at the start and the end only; the epochs in between wait.
    trainer, seen = trainer_with(digits, live=True, backlog=HistogramBacklog(),
                                 snapshots={"histogram_budget": 1e-9})
    trainer.run()
    live = [s.epoch for s in seen.snaps]
    trainer.measure_backlog()
    assert sorted(s.epoch for s in seen.snaps) == [0, 1, 2, 3, 4]
    assert live[0] == 0 and live[-1] == 4 and len(live) < 5


def test_weights_that_do_not_fit_are_measured_live_within_the_budget(digits):
    trainer, seen = trainer_with(digits, live=False, backlog=HistogramBacklog(limit=1000),
                                 snapshots={"histogram_budget": 1.0})
    trainer.run()
    assert [s.epoch for s in seen.snaps] == [0, 1, 2, 3, 4]     # nothing lost
    assert len(trainer.histogram_backlog) == 0


def test_without_a_backlog_nothing_changes(digits):
    trainer, seen = trainer_with(digits, live=True, backlog=None,
                                 snapshots={"histogram_budget": 1.0})
    trainer.run()
    assert [s.epoch for s in seen.snaps] == [0, 1, 2, 3, 4]
    assert trainer.measure_backlog() == 0


def test_a_live_pass_of_an_epoch_drops_its_copy():
    backlog = HistogramBacklog()
    model = torch.nn.Linear(3, 2)
    assert backlog.keep(1, 10, model) and backlog.keep(2, 20, model)
    backlog.discard(2)
    assert [(e, s) for e, s, _ in backlog.take()] == [(1, 10)]
    assert not HistogramBacklog(limit=8).keep(1, 10, model)      # 8 floats: too big


def test_measuring_needs_the_model_to_itself(digits):
    trainer, _ = trainer_with(digits, live=False, backlog=HistogramBacklog(), epochs=2)
    refused = []

    class During(TrainingObserver):
        def on_epoch(self, snap):
            try:
                trainer.measure_backlog()
            except RuntimeError as exc:
                refused.append(str(exc))

    trainer.add_observer(During())
    trainer.run()
    assert len(refused) == 2 and "no run may be active" in refused[0]
