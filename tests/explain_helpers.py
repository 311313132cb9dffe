"""Shared set-up for tests/test_explain_*.py and test_saliency*.py: small graphs with seeded
random weights (non-zero biases, BatchNorm statistics that are not 0 and 1), and one digits
project trained for real in a temporary folder."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from layerlab.engine.builder import build_model
from layerlab.engine.compose import Composer
from training_helpers import one_thread  # noqa: F401  (re-exported: tiny models, one thread)


def chain(input_shape, *layers, seed: int = 0):
    """(graph, model in eval mode) of Input → layers…; each layer is (type, params) or
    (type, params, id)."""
    g = Composer()
    x = g.input(list(input_shape))
    for layer in layers:
        type_, params = layer[0], layer[1]
        x = g.layer(type_, x, id=layer[2] if len(layer) > 2 else None, **params)
    project = g.project("test")
    torch.manual_seed(seed)
    model = build_model(project.graph)
    randomize(model, seed)
    return project.graph, model.eval()


def randomize(model, seed: int = 0) -> None:
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=gen) * 2 + 0.2)
            elif name.endswith("running_mean") or name.endswith(".bias"):
                tensor.copy_(torch.randn(tensor.shape, generator=gen) * 0.5)
            elif name.endswith(".weight") and tensor.dim() == 1:   # BatchNorm γ
                tensor.copy_(torch.rand(tensor.shape, generator=gen) + 0.5)


def random_weights(template: str, path) -> str:
    """Seeded untrained weights of a template, saved as a weights file: for commands whose
    checks do not depend on training."""
    from layerlab.engine.export.weights import save_weights
    from layerlab.engine.templates import load_template
    torch.manual_seed(0)
    return str(save_weights(build_model(load_template(template).graph).state_dict(), path))


def sample(shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


_TRAINED: dict[str, tuple] = {}


@pytest.fixture(scope="session")
def trained_digits(tmp_path_factory):
    """A digits_cnn project file trained for 3 epochs on 400 digits, its run folder beside it
    (what ``layerlab train`` leaves): (project path, the project). Trained once per session,
    however many test modules import the fixture."""
    if "digits" not in _TRAINED:
        _TRAINED["digits"] = _train_digits(tmp_path_factory)
    path, project = _TRAINED["digits"]
    return path, project.copy()


def _train_digits(tmp_path_factory):
    from layerlab.engine import save_project
    from layerlab.engine.locations import open_project
    from layerlab.engine.templates import load_template
    from layerlab.engine.training import Trainer, save_checkpoint

    folder = tmp_path_factory.mktemp("digits")
    project = load_template("digits_cnn")
    project.dataset = {**project.dataset, "kind": "digits", "limit": 400}
    path = folder / "digits.json"
    save_project(project, path)
    opened = open_project(path)
    trainer = Trainer.from_project(opened.project, opened.base_dir, epochs=3, seed=1,
                                   device="cpu")
    result = trainer.run()
    assert result.status == "finished"
    save_checkpoint(opened.run_dir / "checkpoint", trainer, opened.project)
    return path, opened.project
