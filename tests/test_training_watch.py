"""Watch it learn (issue 11): slow motion that stays responsive, a Step that shows the batch it
trained on, a batch axis for every curve, and markers where a setting changed mid-run."""
import pickle
import threading

import numpy as np
import pytest
import torch

from layerlab.engine.training import Trainer, TrainingEvent, TrainingObserver
from layerlab.engine.training.rng import SHUFFLE_STREAM, derive_seed

from test_training_control import CFG, TIMEOUT, losses, small_graph
from training_helpers import digits, one_thread  # noqa: F401


class Collect(TrainingObserver):
    def __init__(self):
        self.batches, self.events, self.epochs = [], [], []

    def on_batch(self, snap):
        self.batches.append(snap)

    def on_epoch(self, snap):
        self.epochs.append(snap)

    def on_event(self, event):
        self.events.append(event)


def first_permutation(n, seed):
    return torch.randperm(n, generator=torch.Generator().manual_seed(
        derive_seed(seed, SHUFFLE_STREAM))).numpy()


# --- a Step shows its batch ----------------------------------------------------------------

def test_a_step_sends_the_indices_of_the_samples_it_trained_on(digits):
    seen = Collect()
    trainer = Trainer(small_graph(), digits, CFG, observers=[seen])
    trainer.pause()
    trainer.start()
    try:
        assert trainer.pause(wait=True, timeout=TIMEOUT)
        assert trainer.step(wait=True, timeout=TIMEOUT)
        assert trainer.step(wait=True, timeout=TIMEOUT)
    finally:
        trainer.stop(wait=True, timeout=TIMEOUT)
    parked = [b for b in seen.batches if b.indices is not None]
    perm = first_permutation(trainer.num_train, CFG["seed"])
    b = CFG["batch_size"]
    assert [p.step for p in parked[-2:]] == [1, 2]
    np.testing.assert_array_equal(parked[-2].indices, perm[:b])
    np.testing.assert_array_equal(parked[-1].indices, perm[b:2 * b])
    assert parked[-1].split == "train"
    assert all(type(i) is int for i in parked[-1].indices)
    # plain data that pickles cheaply (the GUI may live in another process)
    assert len(pickle.dumps(parked[-1])) < 2000


def test_batch_snapshots_of_a_running_loop_carry_no_indices(digits):
    seen = Collect()
    Trainer(small_graph(), digits, {**CFG, "epochs": 1, "snapshots": {"batch_hz": 1000}},
            observers=[seen]).run()
    assert seen.batches and all(b.indices is None for b in seen.batches)


def test_every_curve_has_a_batch_axis(digits):
    seen = Collect()
    trainer = Trainer(small_graph(), digits, {**CFG, "snapshots": {"batch_hz": 1000}},
                      observers=[seen])
    trainer.run()
    per_epoch = trainer.batches_per_epoch
    steps = [b.step for b in seen.batches]
    assert steps[0] == 1 and steps == sorted(set(steps)) and steps[-1] <= 3 * per_epoch
    assert [e.step for e in seen.epochs] == [per_epoch, 2 * per_epoch, 3 * per_epoch]
    for b in seen.batches:     # the same place on both axes
        assert b.step == (b.epoch - 1) * per_epoch + b.batch
        assert b.position == pytest.approx(b.step / per_epoch)


# --- slow motion ---------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [-1, float("nan"), 61, "slow", None])
def test_delay_is_validated(bad):
    with pytest.raises(ValueError, match="delay per batch"):
        Trainer.check_delay(bad)
    assert Trainer.check_delay(0.25) == 0.25


class FirstBatch(TrainingObserver):
    def __init__(self):
        self.seen, self.snaps = threading.Event(), []

    def on_batch(self, snap):
        self.snaps.append(snap)
        self.seen.set()


def test_slow_motion_waits_between_batches_yet_pause_answers_at_once(digits):
    # A delay far longer than the test's patience: if pausing waited for it, pause(wait=True)
    # would give up and return False.
    first = FirstBatch()
    trainer = Trainer(small_graph(), digits, {**CFG, "epochs": 1}, observers=[first])
    trainer.set_delay(60)
    assert trainer.delay == 60
    trainer.start()
    try:
        assert first.seen.wait(TIMEOUT)
        assert trainer.pause(wait=True, timeout=30)
        assert trainer.global_step == 1      # one batch, then the wait, cut short by pause
        # Slow motion shows every batch, with the samples it trained on.
        assert first.snaps[0].step == 1 and first.snaps[0].indices is not None
        trainer.set_delay(0)                 # back to full speed: the run ends soon
        trainer.resume()
        assert trainer.join(TIMEOUT).status == "finished"
    finally:
        trainer.stop(wait=True, timeout=TIMEOUT)


def test_stop_answers_during_a_slow_motion_wait(digits):
    first = FirstBatch()
    trainer = Trainer(small_graph(), digits, CFG, observers=[first])
    trainer.set_delay(60)
    trainer.start()
    assert first.seen.wait(TIMEOUT)
    trainer.stop(wait=True, timeout=30)
    assert trainer.result is not None and trainer.result.status == "stopped"
    assert trainer.global_step == 1


def test_a_new_delay_takes_effect_during_the_wait(digits):
    first = FirstBatch()
    trainer = Trainer(small_graph(), digits, {**CFG, "epochs": 1}, observers=[first])
    trainer.set_delay(60)
    trainer.start()
    try:
        assert first.seen.wait(TIMEOUT)
        trainer.set_delay(0)     # queued; run by the waiting loop, which stops waiting
        assert trainer.join(30) is not None and trainer.result.status == "finished"
    finally:
        trainer.stop(wait=True, timeout=TIMEOUT)


def test_slow_motion_changes_nothing_but_time(digits):
    expected = Trainer(small_graph(), digits, {**CFG, "epochs": 1}).run()
    trainer = Trainer(small_graph(), digits, {**CFG, "epochs": 1})
    trainer.set_delay(0.001)
    assert losses(trainer.run().history) == losses(expected.history)


# --- markers where a setting changed -------------------------------------------------------

def test_set_lr_while_paused_leaves_a_marker_that_survives_a_checkpoint(digits, tmp_path):
    from layerlab.engine.training import load_checkpoint, save_checkpoint
    seen = Collect()
    trainer = Trainer(small_graph(), digits, CFG, observers=[seen])
    trainer.pause()
    trainer.start()
    assert trainer.pause(wait=True, timeout=TIMEOUT)
    trainer.step(count=5, wait=True, timeout=TIMEOUT)
    trainer.set_lr(0.002)
    trainer.set_lr(0.002)                     # no change: no marker
    trainer.set_epochs(4)
    trainer.call_soon(lambda: save_checkpoint(tmp_path / "ck", trainer))
    trainer.step(wait=True, timeout=TIMEOUT)
    trainer.stop(wait=True, timeout=TIMEOUT)
    lr, epochs = seen.events
    assert (lr.kind, lr.step, lr.epoch, lr.batch, lr.old, lr.new) == \
        ("lr", 5, 1, 5, 0.01, 0.002)
    assert lr.at_epoch == pytest.approx(5 / trainer.batches_per_epoch)
    assert "0.01" in lr.message and "0.002" in lr.message
    assert (epochs.kind, epochs.old, epochs.new) == ("epochs", 3, 4)
    assert trainer.events == [lr, epochs]
    assert trainer.state_dict()["meta"]["events"][0]["new"] == 0.002
    again = Trainer(small_graph(), digits, CFG)
    again.resume_from(load_checkpoint(tmp_path / "ck"))
    assert again.events == [lr, epochs]
    assert isinstance(lr, TrainingEvent)


def test_set_lr_when_idle_is_marked_at_the_position(digits):
    seen = Collect()
    trainer = Trainer(small_graph(), digits, {**CFG, "epochs": 1}, observers=[seen])
    trainer.run()
    trainer.set_lr(0.05)
    (event,) = seen.events
    assert (event.epoch, event.batch, event.step) == (2, 0, trainer.global_step)


def test_a_damaged_events_list_is_refused(digits):
    from layerlab.engine.training.checkpoint import check_meta
    trainer = Trainer(small_graph(), digits, CFG)
    trainer.set_lr(0.02)
    meta = trainer.state_dict()["meta"]
    assert check_meta(meta) == []
    for bad, words in (("x", "events must be a list"), ([{"kind": 3}], "events[0].kind"),
                       ([{"kind": "lr", "step": -1}], "events[0].step")):
        problems = check_meta({**meta, "events": bad})
        assert any(words in p for p in problems), (bad, problems)
