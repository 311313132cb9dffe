"""Live control from another thread: pause/resume/step/stop/set_lr, and reproducibility."""
import threading

import pytest
import torch

from layerlab.engine.compose import Composer
from layerlab.engine.training import Trainer, TrainingError, TrainingObserver

from training_helpers import digits, one_thread  # noqa: F401

TIMEOUT = 60  # generous: only reached when something hangs


def small_graph():
    g = Composer()
    x = g.input([1, 8, 8])
    x = g.layer("Conv2d", x, id="conv1", out_channels=4, kernel_size=3, padding=1)
    x = g.layer("ReLU", x, id="relu1")
    x = g.layer("Flatten", x, id="flatten")
    x = g.layer("Linear", x, id="fc1", out_features=16)
    x = g.layer("ReLU", x, id="relu2")
    x = g.layer("Dropout", x, id="drop", p=0.3)  # draws random numbers: tests RNG handling
    g.layer("Linear", x, id="fc2", out_features=10)
    return g.graph


CFG = {"epochs": 3, "batch_size": 32, "lr": 0.01, "seed": 7, "device": "cpu"}


def losses(history):
    return [(h.train_loss, h.train_acc, h.val_loss, h.val_acc, h.lr) for h in history]


def weights(trainer):
    return {k: v.clone() for k, v in trainer.model.state_dict().items()}


def same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


class BlockAtEpoch(TrainingObserver):
    """Holds the training thread inside on_epoch (always sent) until released, so the test
    thread can act at a known point of the run without racing it."""

    def __init__(self, epoch):
        self.epoch, self.reached, self.release = epoch, threading.Event(), threading.Event()

    def on_epoch(self, snap):
        if snap.epoch == self.epoch:
            self.reached.set()
            self.release.wait(TIMEOUT)


def test_same_seed_gives_identical_history_and_weights(digits):
    a, b = Trainer(small_graph(), digits, CFG), Trainer(small_graph(), digits, CFG)
    ra, rb = a.run(), b.run()
    assert ra.status == rb.status == "finished"
    assert len(ra.history) == 3
    assert losses(ra.history) == losses(rb.history)
    assert same_weights(weights(a), weights(b))
    c = Trainer(small_graph(), digits, {**CFG, "seed": 8})
    assert losses(c.run().history) != losses(ra.history)


def test_pause_and_resume_from_another_thread_equals_an_uninterrupted_run(digits):
    reference = Trainer(small_graph(), digits, CFG)
    expected = reference.run()

    trainer = Trainer(small_graph(), digits, CFG)
    block = BlockAtEpoch(1)
    trainer.add_observer(block)
    trainer.start()
    assert block.reached.wait(TIMEOUT)
    trainer.pause()
    block.release.set()
    assert trainer.pause(wait=True, timeout=TIMEOUT)
    assert trainer.paused and trainer.running and trainer.state == "paused"
    paused_at = trainer.global_step
    torch.manual_seed(1234)
    torch.rand(1000)  # another part of the program drawing numbers while paused
    assert trainer.global_step == paused_at == trainer.batches_per_epoch  # parked, no progress
    trainer.resume()
    trainer.pause(wait=True, timeout=TIMEOUT)  # a second pause wherever it lands (or after
    trainer.resume()                           # the end): the result must not change
    result = trainer.join(TIMEOUT)
    assert result.status == "finished"
    assert losses(result.history) == losses(expected.history)
    assert same_weights(weights(trainer), weights(reference))


def test_step_while_paused_advances_exactly_one_batch(digits):
    trainer = Trainer(small_graph(), digits, CFG)
    trainer.pause()          # asked before the start: the run starts paused
    trainer.start()
    assert trainer.pause(wait=True, timeout=TIMEOUT)
    assert trainer.global_step == 0
    before = weights(trainer)
    for expected_step in (1, 2, 3):
        assert trainer.step(wait=True, timeout=TIMEOUT)
        assert trainer.global_step == expected_step
        assert trainer.batch == expected_step
    assert not same_weights(before, weights(trainer))
    assert trainer.step(count=4, wait=True, timeout=TIMEOUT)
    assert trainer.global_step == 7
    trainer.stop(wait=True, timeout=TIMEOUT)
    assert trainer.result.status == "stopped"
    assert trainer.global_step == 7


def test_single_steps_then_resume_still_equal_the_uninterrupted_run(digits):
    expected = Trainer(small_graph(), digits, CFG).run()
    trainer = Trainer(small_graph(), digits, CFG)
    trainer.pause()
    trainer.start()
    trainer.pause(wait=True, timeout=TIMEOUT)
    for _ in range(3):
        trainer.step(wait=True, timeout=TIMEOUT)
    trainer.resume()
    assert losses(trainer.join(TIMEOUT).history) == losses(expected.history)


def test_set_lr_while_paused_takes_effect_on_the_next_step(digits):
    cfg = {**CFG, "optimizer": "sgd", "lr": 0.01, "momentum": 0.0}
    trainer = Trainer(small_graph(), digits, cfg)
    visuals = []
    trainer.add_observer(type("V", (), {"on_visuals": lambda self, s: visuals.append(s)})())
    trainer.pause()
    trainer.start()
    trainer.pause(wait=True, timeout=TIMEOUT)
    trainer.set_lr(0.5)
    before = weights(trainer)
    assert trainer.step(wait=True, timeout=TIMEOUT)
    assert trainer.optimizer.param_groups[0]["lr"] == 0.5
    # Plain SGD: the update is exactly lr × gradient; the snapshot after the step holds the
    # gradient's norm, so the weight change must be 0.5 × that norm.
    grad = visuals[-1].grad_norms["fc2"]
    after = trainer.model.state_dict()
    change = torch.sqrt(sum(((after[k] - before[k]) ** 2).sum()
                            for k in before if k.startswith("layers.fc2.")))
    assert float(change) == pytest.approx(0.5 * grad, rel=1e-4)
    trainer.resume()
    result = trainer.join(TIMEOUT)
    assert [h.lr for h in result.history] == [0.5, 0.5, 0.5]


def test_stop_keeps_the_position_and_a_new_run_continues_exactly(digits):
    expected = Trainer(small_graph(), digits, CFG).run()
    trainer = Trainer(small_graph(), digits, CFG)
    trainer.pause()
    trainer.start()
    trainer.pause(wait=True, timeout=TIMEOUT)
    trainer.step(count=9, wait=True, timeout=TIMEOUT)
    trainer.stop(wait=True, timeout=TIMEOUT)
    assert trainer.result.status == "stopped" and trainer.global_step == 9
    result = trainer.run()  # continues from step 9, blocking this time
    assert result.status == "finished"
    assert losses(result.history) == losses(expected.history)


def test_running_twice_at_once_is_refused(digits):
    trainer = Trainer(small_graph(), digits, CFG)
    trainer.pause()
    trainer.start()
    try:
        with pytest.raises(TrainingError, match="already running"):
            trainer.run()
    finally:
        trainer.stop(wait=True, timeout=TIMEOUT)
    assert not trainer.running


def test_set_epochs_extends_a_finished_run(digits):
    trainer = Trainer(small_graph(), digits, {**CFG, "epochs": 1})
    assert trainer.run().epochs_completed == 1
    trainer.set_epochs(2)
    result = trainer.run()
    assert result.epochs_completed == 2 and [h.epoch for h in result.history] == [1, 2]


def test_a_call_queued_after_the_last_batch_still_runs_on_the_training_thread(digits):
    # A GUI asks for a prediction just as the run ends (after its last batch boundary): the
    # call was accepted, so it must run — once, on the training thread — not vanish.
    block = BlockAtEpoch(1)
    trainer = Trainer(small_graph(), digits, {**CFG, "epochs": 1}, observers=[block])
    ran_on = []
    worker = trainer.start().ident
    assert block.reached.wait(TIMEOUT)
    assert trainer.call_soon(lambda: ran_on.append(threading.get_ident()))
    block.release.set()
    assert trainer.join(TIMEOUT).status == "finished"
    assert ran_on == [worker]
    # with no run active the call is refused, for the caller to run itself
    assert not trainer.call_soon(lambda: ran_on.append("late"))
    assert ran_on == [worker]
