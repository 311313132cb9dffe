"""Overfitting made visible (issue 11): the train/validation gap per epoch from any history,
and a template on a small training subset where the plain network learns its training
samples by heart and dropout or L2 — the documented toggle — closes the gap."""

import pytest
import torch

from layerlab.engine.edits import SetParams, SetSection, apply_edits
from layerlab.engine.templates import load_template
from layerlab.engine.training import EpochSnapshot, Trainer, train_val_gap

from training_helpers import one_thread  # noqa: F401


def row(epoch, train_acc, val_acc, train_loss=0.5, val_loss=0.7):
    return EpochSnapshot(epoch, train_loss, train_acc, val_loss, val_acc, None, None, 0.01,
                         1.0, epoch * 10)


def test_the_gap_per_epoch_from_snapshots_or_rows():
    history = [row(1, 0.60, 0.58), row(2, 0.90, 0.70), row(3, 0.99, 0.71, 0.05, 0.9)]
    gaps = train_val_gap(history)
    assert [g.epoch for g in gaps] == [1, 2, 3]
    assert [round(g.accuracy, 6) for g in gaps] == [0.02, 0.2, 0.28]
    assert gaps[2].loss == pytest.approx(0.85) and gaps[2].train_acc == 0.99
    # the same from the dicts of a metrics file, a run record or history.json
    assert train_val_gap([h.row() for h in history]) == gaps


def test_regression_and_missing_values_have_a_loss_gap_only():
    rows = [{"epoch": 1, "train_loss": 0.9, "val_loss": 1.1, "train_acc": None,
             "val_acc": None},
            {"epoch": 2, "train_loss": 0.4, "val_loss": None, "train_acc": None,
             "val_acc": None},
            {"epoch": 3, "train_loss": float("nan"), "val_loss": 1.0}]
    gaps = train_val_gap(rows)
    assert gaps[0].accuracy is None and gaps[0].loss == pytest.approx(0.2)
    assert gaps[1].loss is None and gaps[2].loss is None


def eval_accuracy(trainer, x, y):
    model = trainer.model
    model.eval()
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def train(project, epochs):
    trainer = Trainer.from_project(project, None, epochs=epochs, device="cpu")
    result = trainer.run()
    ds = trainer.dataset
    # Accuracy on the training split measured like validation (eval mode, the final
    # weights): the history's train_acc is taken during the epoch with dropout active.
    train_acc = eval_accuracy(trainer, ds.x_train, ds.y_train)
    val_acc = result.history[-1].val_acc
    return train_acc, val_acc, train_val_gap(result.history)[-1]


#: The template's toggle (its description and docs/training.md): dropout on, or L2 on.
DROPOUT = [SetParams("drop1", {"p": 0.5}), SetParams("drop2", {"p": 0.5})]
L2 = [SetSection("training", {"weight_decay": 0.01})]


def test_the_overfitting_template_overfits_and_dropout_or_l2_close_the_gap():
    plain = load_template("overfitting")
    assert plain.dataset["train_samples"] == 200
    assert [n.params["p"] for n in plain.graph.nodes.values() if n.type == "Dropout"] == [0, 0]
    epochs = 100
    train_acc, val_acc, gap = train(plain, epochs)
    assert train_acc >= 0.97 and train_acc - val_acc >= 0.12      # learned by heart
    assert gap.accuracy >= 0.10
    for edits in (DROPOUT, L2):
        r_train, r_val, r_gap = train(apply_edits(plain, edits), epochs)
        assert r_train - r_val <= (train_acc - val_acc) / 2, edits  # the gap at least halved
        assert r_val >= val_acc - 0.02                                # without losing on val
        assert r_gap.loss < gap.loss / 2                              # and the loss gap too
