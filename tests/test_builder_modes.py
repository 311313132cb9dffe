"""GraphModule.train switches every module's mode in one flat loop (a visual snapshot and an
evaluation switch to eval and back: issue 9). It must do exactly what nn.Module.train does:
nested modules, a layer swapped in later, and a module whose own train() keeps a part in
eval."""
from __future__ import annotations

import pytest
from torch import nn

from layerlab.engine.builder import GraphModule


class KeepsNormInEval(nn.Module):
    """A layer with a train() of its own: its BatchNorm stays frozen in training too."""

    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(4)
        self.drop = nn.Dropout(0.5)

    def train(self, mode: bool = True):
        super().train(mode)
        self.norm.train(False)
        return self

    def forward(self, x):
        return self.drop(self.norm(x))


def model() -> GraphModule:
    layers = {"in": nn.Identity(),
              "block": nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.Dropout(), nn.ReLU())),
              "frozen": KeepsNormInEval(),
              "out": nn.Linear(4, 2)}
    order = list(layers)
    sources = {"block": ["in"], "frozen": ["block"], "out": ["frozen"]}
    return GraphModule(layers, order, sources, "in", "out")


def modes(module: nn.Module) -> dict[str, bool]:
    return {name: m.training for name, m in module.named_modules()}


def reference(mode: bool) -> dict[str, bool]:
    m = model()
    nn.Module.train(m, mode)
    return modes(m)


@pytest.mark.parametrize("mode", [False, True])
def test_every_module_gets_the_mode_nn_module_would_give_it(mode):
    m = model()
    nn.Module.train(m, not mode)
    assert m.train(mode) is m
    assert modes(m) == reference(mode)
    assert m.layers["frozen"].norm.training is False    # its own train() kept it in eval


def test_eval_and_back_again():
    m = model()
    m.eval()
    assert not any(modes(m).values())
    m.train()
    assert modes(m) == reference(True)


def test_a_layer_swapped_in_later_is_switched_too():
    m = model()
    m.eval()
    m.train()
    m.layers["out"] = nn.Sequential(nn.Dropout(), nn.Linear(4, 2))  # (the ONNX exporter swaps)
    m.eval()
    assert not any(modes(m).values())


def test_a_mode_that_is_not_a_bool_is_refused_like_torch_does():
    with pytest.raises(ValueError):
        model().train("no")
