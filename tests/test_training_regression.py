"""Regression in the target's units (issue 11): predictions and targets un-standardized with
the column names, the run says its loss is on standardized targets, and numbers print plain."""
import numpy as np
import pytest
import torch

from layerlab.engine.cli import main
from layerlab.engine.templates import load_template
from layerlab.engine.training import Trainer, TrainingObserver, loss_label

from training_helpers import one_thread  # noqa: F401


class Seen(TrainingObserver):
    def __init__(self):
        self.info, self.evals = None, []

    def on_start(self, info):
        self.info = info

    def on_evaluation(self, snap):
        self.evals.append(snap)


@pytest.fixture(scope="module")
def house_run():
    seen = Seen()
    trainer = Trainer.from_project(load_template("house_mlp"), None, epochs=3, device="cpu",
                                   observers=[seen])
    trainer.run()
    return trainer, seen


def test_the_evaluation_carries_predictions_and_targets_in_real_units(house_run):
    trainer, seen = house_run
    snap = seen.evals[-1]
    ds = trainer.dataset
    assert snap.target_names == ("price",)
    with torch.no_grad():
        trainer.model.eval()
        raw = trainer.model(ds.x_val).numpy()
    np.testing.assert_allclose(snap.predicted, ds.denormalize_target(raw), rtol=1e-5)
    np.testing.assert_allclose(snap.actual, ds.denormalize_target(ds.y_val.numpy()),
                               rtol=1e-6)
    assert snap.predicted.shape == snap.actual.shape == (len(ds.y_val), 1)
    assert 50_000 < float(np.median(snap.actual)) < 2_000_000      # dollars, not std units
    # The errors the snapshot reports are those of these very numbers.
    np.testing.assert_allclose(snap.mae, np.abs(snap.predicted - snap.actual).mean(axis=0),
                               rtol=1e-6)
    np.testing.assert_allclose(snap.residuals, snap.predicted - snap.actual)


def test_the_run_says_its_loss_is_on_standardized_targets(house_run):
    trainer, seen = house_run
    info = seen.info
    assert info.standardized_targets
    norm = trainer.dataset.normalization
    assert info.target_mean == pytest.approx(tuple(norm["target_mean"]))
    assert info.target_std == pytest.approx(tuple(norm["target_std"]))
    assert loss_label(info) == "loss (mse on standardized price)"


def test_classification_has_nothing_standardized():
    seen = Seen()
    trainer = Trainer.from_project(load_template("digits_cnn"), None, epochs=1, device="cpu",
                                   observers=[seen])
    trainer.run(max_batches=1)
    assert not seen.info.standardized_targets and seen.info.target_mean == ()
    assert loss_label(seen.info) == "loss (cross_entropy)"


def test_layerlab_train_writes_regression_errors_as_plain_numbers(tmp_path, capsys):
    code = main(["train", "house_mlp", "--epochs", "2", "--device", "cpu",
                 "--out", str(tmp_path / "run")])
    captured = capsys.readouterr()
    assert code == 0
    text = captured.out + captured.err
    assert "e+0" not in text
    assert "MAE" in captured.err and "price" in captured.err
    assert "standardized" in captured.err
