"""Clear errors before training starts, and NaN/inf losses stopped with a diagnosis."""
import pytest
import torch

from layerlab.engine.compose import Composer
from layerlab.engine.data import load_dataset
from layerlab.engine.graph import Project
from layerlab.engine.training import (DataMismatchError, DeviceError, ModelError, Trainer,
                                      TrainingConfigError, TrainingError)

from training_helpers import one_thread  # noqa: F401


@pytest.fixture(scope="module")
def digits():
    return load_dataset({"kind": "digits", "limit": 300})


@pytest.fixture(scope="module")
def house():
    return load_dataset({"kind": "csv", "path": "resources:data/house_prices.csv",
                         "target": "price"})


def mlp(outputs=10, shape=(1, 8, 8), end=None, hidden=16):
    g = Composer()
    x = g.input(list(shape))
    if len(shape) > 1:
        x = g.layer("Flatten", x, id="flatten")
    x = g.layer("Linear", x, id="fc1", out_features=hidden)
    x = g.layer("ReLU", x, id="relu1")
    x = g.layer("Linear", x, id="fc2", out_features=outputs)
    if end:
        g.layer(end, x, id="out")
    return g.graph


def test_nan_loss_stops_with_advice_and_keeps_finite_weights(digits):
    g = Composer()  # a linear model with MSE and a huge step size explodes within batches
    x = g.layer("Flatten", g.input([1, 8, 8]), id="flatten")
    g.layer("Linear", g.layer("Linear", x, id="fc1", out_features=32), id="fc2",
            out_features=10)
    trainer = Trainer(g.graph, digits, {"epochs": 3, "optimizer": "sgd", "lr": 10.0,
                                        "loss": "mse", "device": "cpu"})
    initial = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    states = []
    trainer.add_observer(type("S", (), {"on_state": lambda self, s: states.append(s)})())
    result = trainer.run()
    assert result.status == "diverged"
    assert "learning rate 10 is probably too high" in result.message
    assert "try lr 1" in result.message and "restored" in result.message
    assert states[-1].state == "diverged" and states[-1].message == result.message
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    # The restored weights are a copy taken when the loss was still finite: here, the start.
    assert any(not torch.equal(v, initial[k]) for k, v in trainer.model.state_dict().items()) \
        or "initial weights" in result.message
    # Recoverable: lower the learning rate and carry on.
    trainer.set_lr(0.001)
    assert trainer.run().status == "finished"


def test_nan_in_the_data_is_blamed_on_the_data(digits):
    import copy
    bad = copy.copy(digits)
    bad.x_train = digits.x_train.clone()
    bad.x_train[:] = float("nan")
    result = Trainer(mlp(), bad, {"epochs": 1, "device": "cpu"}).run()
    assert result.status == "diverged"
    assert "before any update" in result.message and "data" in result.message


def test_graph_errors_are_reported_by_node(digits):
    g = mlp()
    g.remove_edge(g.incoming("fc2")[0])  # fc2 loses its input: two ends, an orphan
    with pytest.raises(ModelError) as info:
        Trainer(g, digits, {"device": "cpu"})
    assert "fc2 has no input" in str(info.value)
    assert info.value.problems


def test_dataset_that_does_not_fit_the_input(digits):
    with pytest.raises(DataMismatchError, match=r"set the Input shape to \[1, 8, 8\]"):
        Trainer(mlp(shape=(1, 28, 28)), digits, {"device": "cpu"})


def test_output_width_must_match_the_classes(digits):
    with pytest.raises(ModelError) as info:
        Trainer(mlp(outputs=6), digits, {"device": "cpu"})
    assert str(info.value) == ("fc2 gives 6 outputs but the dataset has 10 classes — "
                               "set out_features to 10")
    # Through a final Softmax the Linear that sets the width is still the one named.
    with pytest.raises(ModelError, match="fc2 gives 6 outputs .* set out_features to 10"):
        Trainer(mlp(outputs=6, end="Softmax"), digits, {"device": "cpu"})


def test_image_shaped_output_asks_for_flatten_and_linear(digits):
    g = Composer()
    x = g.input([1, 8, 8])
    g.layer("Conv2d", x, id="conv1", out_channels=10, kernel_size=3)
    with pytest.raises(ModelError, match=r"10×6×6 per sample.*Flatten and a Linear layer with "
                                         r"out_features = 10"):
        Trainer(g.graph, digits, {"device": "cpu"})


def test_regression_output_and_loss_checks(house):
    with pytest.raises(ModelError, match=r"fc2 gives 2 outputs but the dataset has 1 target "
                                         r"\(price\) — set out_features to 1"):
        Trainer(mlp(outputs=2, shape=(3,)), house, {"device": "cpu"})
    with pytest.raises(TrainingConfigError) as info:
        Trainer(mlp(outputs=1, shape=(3,)), house, {"loss": "cross_entropy", "device": "cpu"})
    assert info.value.problems[0].field == "training.loss"
    assert "regression" in str(info.value)


def test_softmax_at_the_end_trains_on_the_logits(digits):
    cfg = {"epochs": 2, "device": "cpu", "lr": 0.01}
    with_softmax = Trainer(mlp(end="Softmax"), digits, cfg)
    assert any("Softmax" in n and "scores before it" in n for n in with_softmax.notes)
    without = Trainer(mlp(), digits, cfg)
    a, b = with_softmax.run(), without.run()
    # Same initial weights (Softmax has none), same loss on the logits: the same curve.
    assert [h.train_loss for h in a.history] == [h.train_loss for h in b.history]
    assert [h.val_acc for h in a.history] == [h.val_acc for h in b.history]
    # The model itself still ends in probabilities.
    probs = with_softmax.model(digits.x_val[:4])
    assert torch.allclose(probs.sum(dim=1), torch.ones(4))


def test_bce_refuses_a_softmax_end_and_l1_shrinks_weights(digits):
    with pytest.raises(ModelError, match="bce_with_logits needs raw scores"):
        Trainer(mlp(end="Softmax"), digits, {"loss": "bce_with_logits", "device": "cpu"})
    bce = Trainer(mlp(), digits, {"loss": "bce_with_logits", "epochs": 3, "lr": 0.01,
                                  "device": "cpu"}).run()
    assert bce.status == "finished" and bce.history[-1].val_acc > 0.25  # chance: 0.1

    def l1_norm(l1):
        t = Trainer(mlp(), digits, {"epochs": 2, "l1": l1, "lr": 0.01, "device": "cpu"})
        t.run()
        return sum(float(p.detach().abs().sum()) for p in t.model.parameters()
                   if p.dim() >= 2)
    assert l1_norm(0.01) < 0.9 * l1_norm(0.0)


def test_unavailable_device_is_a_clear_error(digits):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(DeviceError, match="device 'cuda' is not available"):
        Trainer(mlp(), digits, {"device": "cuda"})


def test_from_project_wraps_dataset_errors():
    project = Project(mlp(), dataset={"kind": "csv", "path": "no/such.csv", "target": "y"})
    with pytest.raises(DataMismatchError, match="the dataset cannot be loaded"):
        Trainer.from_project(project, device="cpu")
    assert issubclass(DataMismatchError, TrainingError)


def test_accelerator_code_path_detects_nan_without_per_batch_reads(digits, monkeypatch):
    # On GPUs the trainer keeps sums on the device and reads the loss only on wall-clock
    # ticks; exercise that path on the CPU with ticks so rare that only the epoch sums can
    # catch the NaN.
    from layerlab.engine.training import trainer as trainer_module
    g = Composer()
    x = g.layer("Flatten", g.input([1, 8, 8]), id="flatten")
    g.layer("Linear", g.layer("Linear", x, id="fc1", out_features=32), id="fc2",
            out_features=10)
    cfg = {"epochs": 3, "optimizer": "sgd", "lr": 10.0, "loss": "mse", "device": "cpu",
           "snapshots": {"batch_hz": 0.001}}
    healthy = {**cfg, "lr": 0.01, "loss": "cross_entropy"}
    host = Trainer(g.graph, digits, healthy).run()
    monkeypatch.setattr(trainer_module, "reads_every_loss", lambda device: False)
    trainer = Trainer(g.graph, digits, cfg)
    result = trainer.run()
    assert result.status == "diverged" and "NaN" in result.message
    assert "epoch 1" in result.message and "found in the epoch's sums" in result.message
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    # Back to the start of epoch 1 (the copy taken there): position and weights agree.
    assert (trainer.epoch, trainer.batch, trainer.global_step) == (0, 0, 0)
    assert "initial weights were restored" in result.message
    # And a healthy run gives the same history either way (device sums are float64 too).
    dev = Trainer(g.graph, digits, healthy).run()
    for a, b in zip(host.history, dev.history):
        assert a.train_loss == pytest.approx(b.train_loss, rel=1e-6)
        assert (a.train_acc, a.val_loss, a.val_acc) == (b.train_acc, b.val_loss, b.val_acc)


def test_a_project_without_dataset_asks_for_one():
    # Empty dataset section: the default fits the Input when a built-in kind can (engine/data/
    # fit.py); 2 channels no built-in gives, so the message asks for a dataset.
    project = Project(mlp(shape=(2, 32, 32)))
    with pytest.raises(DataMismatchError, match="no dataset section.*image_folder"):
        Trainer.from_project(project, device="cpu")


def test_a_project_without_dataset_trains_on_the_default_that_fits_its_input():
    color = Trainer.from_project(Project(mlp(outputs=6, shape=(3, 16, 16))), device="cpu")
    assert color.dataset.name == "shapes" and color.dataset.input_shape == (3, 16, 16)
    gray = Trainer.from_project(Project(mlp(shape=(1, 28, 28))), device="cpu")
    assert gray.dataset.name == "digits" and gray.dataset.input_shape == (1, 28, 28)
