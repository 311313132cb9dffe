"""Weight and activation histograms per layer and epoch (issue 11, "Watch it learn"), checked
against numpy's histograms of the same tensors; strips line up across epochs."""
import math
import pickle
import time

import numpy as np
import pytest
import torch

from layerlab.engine.training import Trainer, TrainingObserver
from layerlab.engine.training.histograms import (ACTIVATION_VALUES, HISTOGRAM_BINS, Grid,
                                                 Histogram, activation_samples, histogram,
                                                 rebin, strips)
from layerlab.engine.training.visuals import dead_relu_fractions, feature_maps

from test_training_snapshots import cnn
from training_helpers import digits, one_thread  # noqa: F401

#: Budget 1: a histogram every epoch however long the reference observer takes.
CFG = {"epochs": 3, "batch_size": 32, "lr": 0.01, "seed": 3, "device": "cpu",
       "snapshots": {"histogram_budget": 1.0}}


class Reference(TrainingObserver):
    """Keeps every histogram snapshot and, at the same moment, the tensors it describes."""

    def __init__(self):
        self.trainer = None
        self.snaps, self.weights, self.outputs, self.dead = [], [], [], []

    def on_histograms(self, snap):
        t = self.trainer
        self.snaps.append(snap)
        self.weights.append({n: m.weight.detach().numpy().copy()
                             for n, m in t.model.layers.items()
                             if getattr(m, "weight", None) is not None})
        x = t.dataset.x_val[:t.config.snapshots.probe_batch]
        self.outputs.append({n: v.numpy().copy() for n, v in feature_maps(t.model, x).items()})
        self.dead.append(dead_relu_fractions(t.model, t.parts.relu_ids, x))


def run_with_reference(digits, **config):
    ref = Reference()
    trainer = Trainer(cnn(), digits, {**CFG, **config}, observers=[ref])
    ref.trainer = trainer
    result = trainer.run()
    return trainer, ref, result


def assert_matches_numpy(hist, values):
    values = np.asarray(values, dtype=np.float32).ravel()
    expected, _ = np.histogram(values, bins=hist.edges)
    np.testing.assert_array_equal(hist.counts, expected)
    assert hist.counts.sum() == values.size and hist.nonfinite == 0
    assert hist.edges[0] <= values.min() and values.max() <= hist.edges[-1]


def test_one_snapshot_for_the_initial_weights_then_one_per_epoch(digits):
    trainer, ref, result = run_with_reference(digits)
    assert result.status == "finished"
    assert [s.epoch for s in ref.snaps] == [0, 1, 2, 3]
    assert [s.step for s in ref.snaps] == [0] + [h.step for h in result.history]
    snap = ref.snaps[-1]
    assert set(snap.weights) == {"conv1", "fc1", "fc2"}
    assert set(snap.activations) == {"conv1", "relu1", "pool1", "fc1", "relu2", "fc2"}
    assert snap.samples == CFG_PROBE(trainer)
    assert all(len(h.counts) == HISTOGRAM_BINS for h in snap.weights.values())
    # plain data that pickles cheaply (the GUI may live in another process)
    assert len(pickle.dumps(snap)) < 20_000


def CFG_PROBE(trainer):
    return min(trainer.config.snapshots.probe_batch, trainer.num_val)


def test_weight_histograms_equal_numpys(digits):
    _, ref, _ = run_with_reference(digits)
    for snap, weights in zip(ref.snaps, ref.weights):
        for node, hist in snap.weights.items():
            assert_matches_numpy(hist, weights[node])


def test_activation_histograms_and_dead_share_equal_the_reference(digits):
    _, ref, _ = run_with_reference(digits)
    for snap, outputs, dead in zip(ref.snaps, ref.outputs, ref.dead):
        for node, hist in snap.activations.items():
            k = activation_samples(torch.from_numpy(outputs[node]))
            assert_matches_numpy(hist, outputs[node][:k])
        assert snap.dead_relu == pytest.approx(dead)


def test_strips_line_up_across_epochs(digits):
    # A large learning rate makes the weights and activations outgrow the first epoch's
    # range: the grid widens, and every earlier strip is re-binned onto the latest edges.
    _, ref, _ = run_with_reference(digits, lr=0.05, epochs=4)
    widened = 0
    for kind, tensors in (("weights", ref.weights), ("activations", ref.outputs)):
        for node in ref.snaps[0].__getattribute__(kind):
            grids = [getattr(s, kind)[node].grid for s in ref.snaps]
            widened += grids[-1] != grids[0]
            for a, b in zip(grids, grids[1:]):
                assert b == a or b.widens(a)
            strip = strips(ref.snaps, node, kind)
            assert strip.epochs == (0, 1, 2, 3, 4)
            np.testing.assert_array_equal(strip.edges, getattr(ref.snaps[-1], kind)[node].edges)
            for row, values in zip(strip.counts, tensors):
                v = values[node]
                if kind == "activations":
                    v = v[:activation_samples(torch.from_numpy(v))]
                expected, _ = np.histogram(np.asarray(v, np.float32).ravel(),
                                           bins=strip.edges)
                np.testing.assert_array_equal(row, expected)
    assert widened > 0   # the test exercised re-binning


def test_nobody_listening_costs_nothing_and_the_setting_turns_them_off(digits):
    _, ref, _ = run_with_reference(digits, epochs=1, snapshots={"histograms": False})
    assert ref.snaps == []


# --- the grid ------------------------------------------------------------------------------

def test_a_grid_covers_its_values_with_round_edges_and_counts_what_is_not_finite():
    values = torch.tensor([-0.31, 0.0, 0.12, 0.29, math.nan, math.inf], dtype=torch.float32)
    hist, grid = histogram(values, None)
    assert hist.nonfinite == 2 and hist.counts.sum() == 4
    assert grid.edges()[0] <= -0.31 and 0.29 <= grid.edges()[-1]
    mantissa = grid.width / 10 ** math.floor(math.log10(grid.width))
    assert np.isclose(mantissa, [1, 2, 5]).any()          # a round bin width
    # Values beyond the grid widen it around the same centre: every new edge is an edge of
    # the old lattice, so an old strip re-bins exactly.
    bigger, wider = histogram(torch.tensor([3.0, -2.0]), grid)
    assert wider.widens(grid) and bigger.counts.sum() == 2
    steps = (wider.edges().astype(np.float64) - grid.center) / grid.width
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-6)
    assert wider.edges()[0] <= -2.0 and 3.0 <= wider.edges()[-1]


def test_constant_values_still_get_a_grid():
    hist, grid = histogram(torch.zeros(10), None)
    assert grid.width > 0 and hist.counts.sum() == 10
    hist, grid = histogram(torch.full((4,), math.nan), None)
    assert hist.nonfinite == 4 and hist.counts.sum() == 0


def test_rebin_refuses_grids_that_do_not_line_up():
    a = Histogram.empty(Grid(0.0, 0.1, HISTOGRAM_BINS))
    with pytest.raises(ValueError, match="line up"):
        rebin(a, Grid(0.05, 0.2, HISTOGRAM_BINS))


def test_measuring_them_changes_nothing(digits):
    plain = Trainer(cnn(), digits, {**CFG, "epochs": 2}).run()
    _, ref, watched = run_with_reference(digits, epochs=2)
    assert ref.snaps
    assert [h.row() | {"seconds": 0} for h in watched.history] == \
        [h.row() | {"seconds": 0} for h in plain.history]


class Slow(TrainingObserver):
    """Takes ``seconds`` over each histogram snapshot (a costly observer, or a slow capture)."""

    def __init__(self, seconds):
        self.seconds, self.epochs = seconds, []

    def on_histograms(self, snap):
        self.epochs.append(snap.epoch)
        time.sleep(self.seconds)


def test_histograms_keep_to_their_share_of_the_time_and_the_last_weights_always_get_one(digits):
    # 0.2 s per snapshot at the default 1 % budget: the next one is due 20 s later — after
    # this whole run, so of its five epochs only the initial weights and the last are shown.
    slow = Slow(0.2)
    result = Trainer(cnn(), digits, {**CFG, "epochs": 5, "snapshots": {}},
                     observers=[slow]).run()
    assert result.status == "finished" and result.epochs_completed == 5
    assert slow.epochs == [0, 5]
    # A run stopped mid-epoch ends with a strip for the epochs completed by then.
    slow = Slow(0.2)
    trainer = Trainer(cnn(), digits, {**CFG, "epochs": 5, "snapshots": {}}, observers=[slow])
    per_epoch = trainer.batches_per_epoch
    result = trainer.run(max_batches=2 * per_epoch + 1)
    assert result.status == "stopped" and slow.epochs == [0, 2]
    # Budget 1: every epoch, whatever the cost.
    slow = Slow(0.05)
    Trainer(cnn(), digits, {**CFG, "epochs": 3}, observers=[slow]).run()
    assert slow.epochs == [0, 1, 2, 3]


def test_large_outputs_are_binned_over_the_first_samples_only():
    assert activation_samples(torch.zeros(32, 6, 28, 28)) == ACTIVATION_VALUES // (6 * 28 * 28)
    assert activation_samples(torch.zeros(32, 120)) == 32
    assert activation_samples(torch.zeros(2, 64, 256, 256)) == 1
