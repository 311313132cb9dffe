"""Each layer type is declared once, completely; the declaration drives docs and arithmetic."""
import pytest

from layerlab.engine import all_specs, analyze, get_layer
from layerlab.engine.compose import Composer
from layerlab.engine.registry import GROUPS

REQUIRED = {"Input", "Conv2d", "MaxPool2d", "AvgPool2d", "LPPool2d", "AdaptiveAvgPool2d",
            "ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "GELU", "Sigmoid", "Tanh", "Softmax",
            "BatchNorm1d", "BatchNorm2d", "Dropout", "Flatten", "Linear", "Add", "Concat"}


def test_required_types_are_declared_with_text_and_valid_defaults():
    specs = {s.type: s for s in all_specs()}
    assert REQUIRED <= set(specs)
    for spec in specs.values():
        assert spec.group in GROUPS
        assert spec.summary and len(spec.summary) < 110, spec.type
        assert len(spec.explanation) > 60, spec.type
        for p in spec.params:
            assert p.help, (spec.type, p.name)
            assert p.check(p.default) == p.default or p.default is None
        assert spec.resolve({}) == spec.defaults()
        # in_channels / in_features are inferred, never typed by the user
        assert not {"in_channels", "in_features", "num_features"} & {p.name for p in spec.params}


def test_torch_names_follow_torch_nn():
    import torch.nn as nn
    for spec in all_specs():
        for p in spec.params:
            if spec.type in ("Input",):
                continue
            cls = getattr(nn, spec.type, None)
            if cls is not None:
                import inspect
                assert p.name in inspect.signature(cls).parameters, (spec.type, p.name)


def _conv_on(shape, **params):
    g = Composer()
    x = g.input(list(shape))
    g.layer("Conv2d", x, id="conv1", **params)
    analysis = analyze(g.graph)
    info = analysis.nodes["conv1"]
    return get_layer("Conv2d").arithmetic(info.resolved, info.input_shapes, info.output_shape)


def test_conv_arithmetic_uses_the_learners_numbers():
    lines = _conv_on((1, 28, 28), out_channels=6, kernel_size=5)
    assert "output height = width = ⌊(28 + 2·0 − 1·(5−1) − 1) / 1⌋ + 1 = 24" in lines
    assert any(line.startswith("parameters = 5·5·1·6 + 6 = 156") for line in lines)
    lines = _conv_on((3, 32, 20), out_channels=4, kernel_size=[3, 5], stride=2, padding=1)
    assert "output height = ⌊(32 + 2·1 − 1·(3−1) − 1) / 2⌋ + 1 = 16" in lines
    assert "output width = ⌊(20 + 2·1 − 1·(5−1) − 1) / 2⌋ + 1 = 9" in lines


@pytest.mark.parametrize("spec", list(all_specs()), ids=lambda s: s.type)
def test_every_type_explains_its_arithmetic(spec):
    g = Composer()
    image = spec.type not in ("BatchNorm1d", "Linear")
    x = g.input([4, 8, 8] if image else [12])
    if spec.type == "Input":
        analysis = analyze(g.graph)
        assert analysis.nodes["input"].output_shape == (4, 8, 8)
        return
    inputs = [x, x] if spec.min_inputs == 2 else x
    if spec.min_inputs == 2:
        inputs = [x, g.layer("Dropout", x)]
    g.layer(spec.type, inputs, id="n")
    analysis = analyze(g.graph)
    assert analysis.ok, analysis.messages()
    info = analysis.nodes["n"]
    if spec.arithmetic:
        lines = spec.arithmetic(info.resolved, info.input_shapes, info.output_shape)
        assert lines and all(isinstance(line, str) and line for line in lines)
        assert any(f"{info.params:,}" in line or "parameters = 0" in line for line in lines)
