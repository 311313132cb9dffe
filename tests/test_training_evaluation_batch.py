"""A validation pass feeds its samples in chunks sized to the model: on the CPU as many as
keep one pass's activations within EVAL_CPU_BYTES (a big network's 512 at a time spilled
out of the cache and took up to twice as long), on a GPU EVAL_BATCH or a training batch."""
from __future__ import annotations

import torch

from layerlab.engine.inference import analyze
from layerlab.engine.templates import load_template
from layerlab.engine.training import Trainer
from layerlab.engine.training.loop import (EVAL_BATCH, EVAL_BATCH_MIN, EVAL_CPU_BYTES,
                                           evaluation_batch)

from training_helpers import one_thread  # noqa: F401

CPU, GPU = torch.device("cpu"), torch.device("cuda")


def test_the_chunk_keeps_a_pass_within_the_cpu_budget():
    values = analyze(load_template("digits_cnn").graph).activation_elements()
    chunk = evaluation_batch(values, CPU)
    assert chunk * values * 4 <= EVAL_CPU_BYTES < (chunk + 1) * values * 4
    assert evaluation_batch(10 ** 7, CPU) == EVAL_BATCH_MIN        # a huge network
    assert evaluation_batch(3, CPU) == EVAL_BATCH                  # a tiny one
    assert evaluation_batch(10 ** 7, CPU, train_batch=1024) == EVAL_BATCH_MIN


def test_on_a_gpu_a_pass_takes_at_least_a_training_batch():
    assert evaluation_batch(10 ** 7, GPU, train_batch=32) == EVAL_BATCH
    assert evaluation_batch(10 ** 7, GPU, train_batch=1024) == 1024


def test_the_trainer_validates_in_those_chunks():
    project = load_template("digits_cnn")          # all 1,797 digits: 359 to validate
    trainer = Trainer.from_project(project, epochs=1, device="cpu")
    values = analyze(project.graph).activation_elements()
    n, chunk = len(trainer.dataset.y_val), trainer.eval_batch
    assert chunk == evaluation_batch(values, CPU) < n
    seen = []
    hook = trainer.model.register_forward_pre_hook(
        lambda _m, args: None if trainer.model.training else seen.append(len(args[0])))
    try:
        trainer.run()
    finally:
        hook.remove()
    assert seen[:2] == [chunk, min(chunk, n - chunk)]
    assert sum(seen) % n == 0            # every validation sample, each pass
