"""The "training" section: defaults, bounds, messages naming the field, device choice."""
import pytest
import torch

from layerlab.engine.training import (DEFAULT_LR, DeviceError, TrainingConfig,
                                      TrainingConfigError, check_training, parse_training,
                                      resolve_loss)
from layerlab.engine.training.device import resolve_device
from layerlab.engine.training.optim import lr_factor


def test_empty_section_gives_documented_defaults():
    cfg = parse_training({})
    assert cfg == TrainingConfig()
    assert (cfg.optimizer, cfg.lr, cfg.batch_size, cfg.epochs, cfg.device) == \
        ("adam", 0.001, 32, 10, "auto")
    assert cfg.schedule.kind == "none"
    assert cfg.snapshots.batch_hz == 20 and cfg.snapshots.visual_hz == 3


def test_lr_default_follows_the_optimizer():
    assert parse_training({"optimizer": "sgd"}).lr == DEFAULT_LR["sgd"] == 0.01
    assert parse_training({"optimizer": "rmsprop"}).lr == 0.001
    assert parse_training({"optimizer": "sgd", "lr": 0.5}).lr == 0.5


def test_loss_auto_resolves_by_task():
    assert resolve_loss("auto", "classification") == "cross_entropy"
    assert resolve_loss("auto", "regression") == "mse"
    assert resolve_loss("l1", "regression") == "l1"


@pytest.mark.parametrize("section, field, words", [
    ({"lr": 0}, "training.lr", "> 0"),
    ({"lr": "fast"}, "training.lr", "number"),
    ({"batch_size": 0}, "training.batch_size", "from 1"),
    ({"batch_size": 2.5}, "training.batch_size", "whole number"),
    ({"epochs": True}, "training.epochs", "whole number"),
    ({"optimizer": "lion"}, "training.optimizer", "sgd, adam, adamw, rmsprop, adagrad"),
    ({"loss": "hinge"}, "training.loss", "cross_entropy"),
    ({"device": "tpu"}, "training.device", "auto, cpu, cuda, mps"),
    ({"weight_decay": -1}, "training.weight_decay", "≥ 0"),
    ({"l1": 2}, "training.l1", "≤ 1"),
    ({"schedule": "linear"}, "training.schedule.kind", "none, step, cosine"),
    ({"schedule": {"kind": "step", "gamma": 0}}, "training.schedule.gamma", "> 0"),
    ({"schedule": 3}, "training.schedule", "object"),
    ({"snapshots": {"visual_hz": 100}}, "training.snapshots.visual_hz", "≤ 60"),
    ({"snapshots": {"sparkles": 1}}, "training.snapshots.sparkles", "unknown field"),
    ({"snapshots": {"histogram_budget": 0}}, "training.snapshots.histogram_budget", "> 0"),
    ({"optimizer": "sgd", "nesterov": True}, "training.nesterov", "momentum > 0"),
    ({"betas": [0.9]}, "training.betas", "two numbers"),
    ({"mixed_precision": "yes"}, "training.mixed_precision", "true, false, \"bf16\" or \"fp16\""),
    ({"learning_rate": 0.1}, "training.learning_rate", "unknown field"),
])
def test_each_bad_field_is_named_with_the_rule(section, field, words):
    with pytest.raises(TrainingConfigError) as info:
        parse_training(section)
    fields = [p.field for p in info.value.problems]
    assert field in fields
    assert words in str(info.value)


def test_all_problems_are_reported_at_once():
    problems = check_training({"lr": -1, "epochs": 0, "device": "gpu"})
    assert {p.field for p in problems} == {"training.lr", "training.epochs", "training.device"}
    assert check_training({"lr": 0.1}) == []
    assert check_training("fast")[0].field == "training"


def test_overrides_replace_keys_and_are_validated():
    cfg = parse_training({"epochs": 50, "seed": 3}, epochs=2, device="cpu", seed=None)
    assert (cfg.epochs, cfg.device, cfg.seed) == (2, "cpu", 3)
    with pytest.raises(TrainingConfigError, match="training.epochs"):
        parse_training({}, epochs=0)


def test_schedule_forms_and_factors():
    assert parse_training({"schedule": "cosine"}).schedule.kind == "cosine"
    step = parse_training({"schedule": {"kind": "step", "step_size": 2, "gamma": 0.5}}).schedule
    assert [lr_factor(step, e, 6) for e in range(6)] == [1, 1, 0.5, 0.5, 0.25, 0.25]
    cos = parse_training({"schedule": "cosine"}).schedule
    factors = [lr_factor(cos, e, 4) for e in range(4)]
    assert factors[0] == 1.0 and all(a > b > 0 for a, b in zip(factors, factors[1:]))


def test_to_dict_round_trips():
    cfg = parse_training({"optimizer": "sgd", "momentum": 0.9, "nesterov": True,
                          "schedule": {"kind": "step", "step_size": 3}})
    assert parse_training(cfg.to_dict()) == cfg


def test_cpu_device_and_unavailable_devices():
    assert resolve_device("cpu").device == "cpu"
    auto = resolve_device("auto")
    assert auto.reason.startswith("auto")
    if not torch.cuda.is_available():
        assert auto.kind in ("cpu", "mps")
        with pytest.raises(DeviceError, match="cuda"):
            resolve_device("cuda")
    else:
        assert auto.kind == "cuda" and auto.name
    if not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        with pytest.raises(DeviceError, match="mps"):
            resolve_device("mps")
