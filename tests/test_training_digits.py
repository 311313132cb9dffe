"""The digits CNN template learns its dataset within the budget it ships with."""
import torch

from layerlab.engine.templates import load_template
from layerlab.engine.training import Trainer


def test_digits_cnn_template_reaches_95_percent_on_cpu():
    project = load_template("digits_cnn")
    assert project.training["epochs"] <= 10  # the bundled budget stays small
    torch.set_num_threads(1)
    trainer = Trainer.from_project(project, device="cpu")
    result = trainer.run()
    assert result.status == "finished", result.message
    assert result.epochs_completed == project.training["epochs"]
    best = max(h.val_acc for h in result.history)
    assert result.history[-1].val_acc >= 0.95, [h.val_acc for h in result.history]
    assert best >= result.history[-1].val_acc
    # Learning happened: the loss fell by a large factor from the first epoch.
    assert result.history[-1].train_loss < result.history[0].train_loss / 4
