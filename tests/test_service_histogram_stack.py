"""The worker's histogram strips for the window (engine/service/histogram_stack.py): stacked
as the snapshots arrive, exactly what engine strips() gives for all of them at once — and a
new epoch costs one row, not every row again."""
from __future__ import annotations

import dataclasses

import numpy as np

from layerlab.engine.service.histogram_stack import HistogramStack
from layerlab.engine.training import Trainer, TrainingObserver
from layerlab.engine.training import histograms as H

from test_training_snapshots import cnn
from training_helpers import digits, one_thread  # noqa: F401

#: Budget 1: histograms every epoch; a large learning rate makes the grids widen.
CFG = {"epochs": 4, "batch_size": 32, "lr": 0.05, "seed": 3, "device": "cpu",
       "snapshots": {"histogram_budget": 1.0}}


class Keep(TrainingObserver):
    def __init__(self):
        self.snaps = []

    def on_histograms(self, snap):
        self.snaps.append(snap)


def measured(digits, **config):
    keep = Keep()
    trainer = Trainer(cnn(), digits, {**CFG, **config}, observers=[keep])
    trainer.run()
    return trainer, keep.snaps


def reference(snaps):
    """What the worker sent before: every snapshot (a later one of an epoch replacing the
    earlier) stacked again by engine strips(); bins that do not line up: the newest
    trainer's only."""
    kept = []
    for snap in snaps:
        kept = [s for s in kept if s.epoch != snap.epoch] + [snap]
    out = {}
    for kind in ("weights", "activations"):
        nodes = list(dict.fromkeys(n for s in kept for n in getattr(s, kind)))
        for node in nodes:
            try:
                out[kind, node] = H.strips(kept, node, kind)
            except ValueError:
                out[kind, node] = H.strips([s for s in kept if s.epoch >= kept[-1].epoch],
                                           node, kind)
    dead = {}
    for snap in kept:
        for node, share in snap.dead_relu.items():
            dead.setdefault(node, {})[snap.epoch] = share
    return out, {n: tuple(sorted(v.items())) for n, v in dead.items()}


def assert_same(stack, snaps):
    got = stack.strips(serial=5)
    want, dead = reference(snaps)
    assert got.serial == 5 and got.epoch == snaps[-1].epoch and got.step == snaps[-1].step
    assert {("weights", n) for n in got.weights} | {("activations", n) for n in
                                                    got.activations} == set(want)
    for (kind, node), strip in want.items():
        layer = getattr(got, kind)[node]
        assert layer.epochs == strip.epochs
        np.testing.assert_array_equal(layer.edges, strip.edges)
        np.testing.assert_array_equal(layer.counts, strip.counts)
    assert got.dead_relu == dead


def test_stacked_as_they_come_equals_stacking_them_all_each_time(digits):
    _, snaps = measured(digits)
    stack = HistogramStack()
    assert stack.strips() is None
    for i, snap in enumerate(snaps):
        stack.add(snap)
        assert_same(stack, snaps[:i + 1])
    widened = [n for n, s in snaps[-1].weights.items() if s.grid != snaps[0].weights[n].grid]
    assert widened          # the rows were re-binned onto wider grids on the way


def test_an_epoch_measured_again_replaces_its_row(digits):
    trainer, snaps = measured(digits, epochs=2)
    again = trainer.capture_histograms()        # the last epoch's weights, measured again
    assert again.epoch == snaps[-1].epoch
    stack = HistogramStack()
    for snap in [*snaps, again]:
        stack.add(snap)
    assert_same(stack, [*snaps, again])
    assert stack.strips().weights["conv1"].epochs == (0, 1, 2)


def test_another_trainers_bins_that_do_not_line_up_keep_only_the_newest(digits):
    _, first = measured(digits, epochs=2)
    _, second = measured(digits, epochs=1, lr=0.001, seed=9)
    snaps = [*first, dataclasses.replace(second[-1], epoch=3)]
    mismatched = 0
    for node in snaps[-1].activations:
        try:
            H.strips(snaps, node, "activations")
        except ValueError:
            mismatched += 1
    assert mismatched       # the case under test: some layer's bins do not line up
    stack = HistogramStack()
    for snap in snaps:
        stack.add(snap)
    assert_same(stack, snaps)


def test_a_new_epoch_costs_one_row_not_every_row_again(digits, monkeypatch):
    _, snaps = measured(digits, epochs=1)
    last = snaps[-1]
    stack = HistogramStack()
    for epoch in range(1, 60):                  # a long run: 59 epochs on the same grids
        stack.add(dataclasses.replace(last, epoch=epoch))
    calls = []
    rebin = H.rebin
    monkeypatch.setattr(H, "rebin", lambda hist, grid: calls.append(1) or rebin(hist, grid))
    stack.add(dataclasses.replace(last, epoch=60))
    strips = stack.strips()
    assert len(calls) == len(last.weights) + len(last.activations)   # one row per layer
    assert strips.weights["conv1"].epochs == tuple(range(1, 61))
