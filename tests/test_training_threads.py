"""training.threads pins torch's CPU threads for a run; deterministic CUDA runs set the flags
PyTorch documents (the CUDA part is checked with a stand-in: no GPU here)."""
import os

import pytest
import torch

from layerlab.engine.compose import Composer
from layerlab.engine.training import (Trainer, TrainingConfigError, TrainingObserver,
                                      parse_training)
from layerlab.engine.training.device import apply_determinism

from training_helpers import digits, one_thread  # noqa: F401


def tiny():
    g = Composer()
    x = g.input([1, 8, 8])
    x = g.layer("Flatten", x, id="flatten")
    g.layer("Linear", x, id="fc", out_features=10)
    return g.graph


def test_threads_is_validated_and_defaults_to_leaving_torch_alone():
    assert parse_training({}).threads == 0
    assert parse_training({"threads": 3}).threads == 3
    for bad in (-1, 2.5, "two", True, 100_000):
        with pytest.raises(TrainingConfigError, match="training.threads"):
            parse_training({"threads": bad})


class SeesThreads(TrainingObserver):
    def __init__(self):
        self.seen = []

    def on_epoch(self, snap):
        self.seen.append(torch.get_num_threads())


def test_a_run_pins_the_thread_count_and_gives_it_back(digits):
    torch.set_num_threads(1)
    seen = SeesThreads()
    trainer = Trainer(tiny(), digits, {"epochs": 2, "device": "cpu", "threads": 2},
                      observers=[seen])
    result = trainer.run()
    assert result.status == "finished"
    assert seen.seen == [2, 2]
    assert torch.get_num_threads() == 1        # put back when the run ends
    seen.seen.clear()
    Trainer(tiny(), digits, {"epochs": 1, "device": "cpu"}, observers=[seen]).run()
    assert seen.seen == [1]                    # 0: the process's own setting


def test_more_threads_than_cores_is_noted(digits):
    cores = os.cpu_count() or 1
    trainer = Trainer(tiny(), digits, {"epochs": 1, "device": "cpu", "threads": cores + 1})
    assert any("threads" in n and "cores" in n for n in trainer.notes)


def test_determinism_flags_on_cuda(monkeypatch):
    calls = []
    monkeypatch.setattr(torch, "use_deterministic_algorithms",
                        lambda on, warn_only=False: calls.append((on, warn_only)))
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    before = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    try:
        apply_determinism(torch.device("cuda"), True)
        assert calls == [(True, True)]
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
        calls.clear()
        apply_determinism(torch.device("cuda"), False)
        assert calls == [(False, False)]
        assert not torch.backends.cudnn.deterministic and torch.backends.cudnn.benchmark
        calls.clear()
        apply_determinism(torch.device("cpu"), True)   # nothing to do on the CPU
        assert calls == []
    finally:
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before


def test_a_workspace_setting_of_the_user_is_kept(monkeypatch):
    monkeypatch.setattr(torch, "use_deterministic_algorithms", lambda on, warn_only=False: None)
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")
    before = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    try:
        apply_determinism(torch.device("cuda"), True)
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"
    finally:
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before
