"""Each epoch re-seeds dropout's generator from (seed, epoch, process). On the CPU that is the
CPU generator alone: torch.manual_seed would seed every GPU backend too and, while none has
been used, record a stack trace for each (0.14 ms of every epoch's start)."""
from __future__ import annotations

import torch

from layerlab.engine.templates import load_template
from layerlab.engine.training import Trainer
from layerlab.engine.training.rng import DROPOUT_STREAM, derive_seed

from training_helpers import digits, one_thread  # noqa: F401


def test_a_cpu_run_seeds_only_the_cpu_generator(digits, monkeypatch):
    project = load_template("digits_cnn")
    trainer = Trainer(project.graph, digits, {**project.training, "epochs": 2,
                                              "device": "cpu"})
    calls = []
    real = torch.manual_seed
    monkeypatch.setattr(torch, "manual_seed", lambda s: (calls.append(s), real(s))[1])
    trainer.run()
    assert calls == []
    # what an epoch's start leaves: the CPU generator seeded for that epoch's dropout
    trainer._begin_epoch()
    want = torch.Generator().manual_seed(derive_seed(trainer.config.seed, DROPOUT_STREAM,
                                                     trainer.epoch, 0))
    assert torch.equal(torch.get_rng_state(), want.get_state())
