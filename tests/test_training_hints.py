"""When accuracy stays near chance after an epoch, the run says the learning rate may be too
high or too low — and which, when it can tell (issue 11)."""
import numpy as np
import pytest

from layerlab.engine.templates import load_template
from layerlab.engine.training import Trainer, TrainingObserver
from layerlab.engine.training.hints import RunSigns, near_chance, lr_hint

from training_helpers import digits, one_thread  # noqa: F401


def signs(**changes):
    base = dict(epoch=1, steps=45, lr=0.01, chance=0.11, val_acc=0.10, train_acc=0.09, first_loss=2.3,
                max_loss=2.4, train_loss=2.29, norm_start=6.0, norm_now=6.5, dead={})
    return RunSigns(**{**base, **changes})


def test_near_chance_is_relative_to_always_guessing_the_commonest_class():
    assert near_chance(0.20, 0.11) and not near_chance(0.30, 0.11)
    assert near_chance(0.55, 0.5) and not near_chance(0.62, 0.5)
    assert not near_chance(None, 0.5)


def test_no_hint_while_the_network_learns_or_before_it_had_the_time():
    assert lr_hint(signs(val_acc=0.6, train_acc=0.5)) is None
    assert lr_hint(signs(steps=10, max_loss=11_000.0)) is None


@pytest.mark.parametrize("changes, why", [
    ({"max_loss": 11_000.0}, "loss jumped"),
    ({"norm_now": 300.0}, "weights grew"),
    ({"dead": {"relu2": 1.0, "relu1": 0.0}}, "relu2"),
])
def test_too_high_when_the_loss_blew_up_weights_grew_or_units_died(changes, why):
    hint = lr_hint(signs(**changes))
    assert hint.direction == "lower" and why in hint.message
    assert hint.suggested_lr == pytest.approx(0.001)
    assert "too high" in hint.message and "0.001" in hint.message


def test_too_low_when_nothing_moved():
    hint = lr_hint(signs(lr=1e-6, norm_now=6.0001, train_loss=2.31))
    assert hint.direction == "higher" and "too low" in hint.message
    assert hint.suggested_lr == pytest.approx(1e-5)


def test_cannot_tell_says_both_and_the_range_test():
    hint = lr_hint(signs(norm_now=7.0, train_loss=2.0))
    assert hint.direction == "" and "too high or too low" in hint.message
    assert "lr-find" in hint.message and hint.suggested_lr is None


class Events(TrainingObserver):
    def __init__(self):
        self.events = []

    def on_event(self, event):
        self.events.append(event)


def run(digits, **training):
    project = load_template("digits_cnn")
    seen = Events()
    # 400 digits: 10 batches an epoch, so the verdict comes after the fourth (40 steps).
    trainer = Trainer(project.graph, digits, {**project.training, "epochs": 6, "device": "cpu",
                                              **training}, observers=[seen])
    trainer.run()
    return trainer, [e for e in seen.events if e.kind == "lr_hint"]


def test_a_too_high_learning_rate_is_named_once(digits):
    trainer, hints = run(digits, lr=0.5)
    assert len(hints) == 1                      # once per run, not every epoch
    (hint,) = hints
    assert hint.direction == "lower" and hint.new == pytest.approx(0.05)
    assert hint.at_epoch == 4.0 and hint.step == 4 * trainer.batches_per_epoch
    assert "after epoch 4" in hint.message
    assert "too high" in hint.message
    assert trainer.events == hints              # kept with the run's markers
    # where "near chance" ends for this run: a later epoch can tell whether the hint stands
    counts = np.bincount(digits.y_train.numpy())
    chance = counts.max() / counts.sum()
    assert hint.near_chance_below == pytest.approx(chance + 0.15 * (1 - chance))


def test_a_too_low_learning_rate_is_named(digits):
    _, hints = run(digits, lr=1e-6)
    assert [h.direction for h in hints] == ["higher"]


def test_a_healthy_run_gets_no_hint(digits):
    _, hints = run(digits)
    assert hints == []


def test_regression_gets_no_accuracy_hint():
    project = load_template("house_mlp")
    seen = Events()
    Trainer.from_project(project, None, epochs=5, device="cpu", lr=1e-7,
                         observers=[seen]).run()
    assert seen.events == []
