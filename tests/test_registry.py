"""Each layer type is declared once, completely; the declaration drives docs and arithmetic."""
import pytest

from layerlab.engine import all_specs, analyze, get_layer
from layerlab.engine.compose import Composer
from layerlab.engine.registry import GROUPS

REQUIRED = {"Input", "Conv2d", "MaxPool2d", "AvgPool2d", "LPPool2d", "AdaptiveAvgPool2d",
            "ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "GELU", "Sigmoid", "Tanh", "Softmax",
            "BatchNorm1d", "BatchNorm2d", "Dropout", "Flatten", "Linear", "Add", "Concat",
            # what modern CNNs use (issue 14)
            "SiLU", "Hardswish", "Hardsigmoid", "Mish", "GroupNorm", "LayerNorm",
            "ConvTranspose2d", "Upsample", "Multiply", "ChannelShuffle", "AdaptiveMaxPool2d",
            "Dropout2d", "Identity", "ZeroPad2d", "Narrow"}


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


def _arithmetic(type_name, shapes, **params):
    """The worked arithmetic of one node fed by Inputs / Linears of the given shapes."""
    g = Composer()
    x = g.input(list(shapes[0]))
    sources = [x]
    for shape in shapes[1:]:  # further inputs: a Conv2d/Linear giving that shape from x
        if len(shape) == 3:
            y = g.layer("Conv2d", x, out_channels=shape[0], kernel_size=1)
            y = g.layer("AdaptiveAvgPool2d", y, output_size=[shape[1], shape[2]])
        else:
            y = g.layer("Linear", x, out_features=shape[0])
        sources.append(y)
    g.layer(type_name, sources if len(sources) > 1 else x, id="n", **params)
    analysis = analyze(g.graph)
    assert analysis.ok, analysis.messages()
    info = analysis.nodes["n"]
    return info, get_layer(type_name).arithmetic(info.resolved, info.input_shapes,
                                                 info.output_shape)


def test_depthwise_convolution_is_named_and_compared_with_a_full_one():
    info, lines = _arithmetic("Conv2d", [(32, 16, 16)], out_channels=32, kernel_size=3,
                              padding=1, groups=32)
    assert info.params == 3 * 3 * 32 + 32
    text = "\n".join(lines)
    assert "depthwise: groups = in_channels = 32, so each filter sees 1 input channel" in text
    assert "parameters = 3·3·1·32 + 32 = 320" in text
    assert "a full convolution would need 3·3·32·32 + 32 = 9,248 parameters (28.9× more)" in text
    _, lines = _arithmetic("Conv2d", [(8, 6, 6)], out_channels=16, kernel_size=3, groups=8)
    assert any("depthwise with a channel multiplier of 2: each of the 8 input channels gets 2 "
               "filters" in line for line in lines)
    _, lines = _arithmetic("Conv2d", [(8, 6, 6)], out_channels=4, kernel_size=1, groups=2)
    assert any("grouped: 2 groups of 4 input channels; each filter sees only its group's 4"
               in line for line in lines)
    _, lines = _arithmetic("Conv2d", [(8, 6, 6)], out_channels=4, kernel_size=1)
    assert not any("group" in line or "depthwise" in line for line in lines)


def test_new_layers_work_their_arithmetic_in_the_learners_numbers():
    info, lines = _arithmetic("ConvTranspose2d", [(8, 16, 16)], out_channels=4, kernel_size=3,
                              stride=2, padding=1, output_padding=1)
    assert info.output_shape == (4, 32, 32)
    assert "output height = width = (16 − 1)·2 − 2·1 + 1·(3−1) + 1 + 1 = 32" in lines
    assert any(line.startswith("parameters = 3·3·8·4 + 4 = 292") for line in lines)
    info, lines = _arithmetic("Upsample", [(3, 8, 5)], scale_factor=2.0, mode="bilinear")
    assert info.output_shape == (3, 16, 10)
    assert "output height = ⌊8 · 2⌋ = 16" in lines and "output width = ⌊5 · 2⌋ = 10" in lines
    info, lines = _arithmetic("ZeroPad2d", [(3, 8, 8)], padding=[1, 2, 0, 3])
    assert info.output_shape == (3, 11, 11)
    assert "height = 0 + 8 + 3 = 11 (top + height + bottom)" in lines
    assert "width = 1 + 8 + 2 = 11 (left + width + right)" in lines
    info, lines = _arithmetic("GroupNorm", [(32, 8, 8)], num_groups=4)
    assert info.params == 64
    assert any("the 32 channels form 4 groups of 8; each group is normalized over its "
               "8·8·8 = 512 values" in line for line in lines)
    info, lines = _arithmetic("LayerNorm", [(32, 8, 8)])
    assert info.params == 64 and any("each of the 8×8 = 64 positions is normalized over its "
                                     "32 channels" in line for line in lines)
    info, lines = _arithmetic("LayerNorm", [(20,)], bias=False)
    assert info.params == 20 and any("the 20 features of a sample are normalized together"
                                     in line for line in lines)
    info, lines = _arithmetic("Multiply", [(16, 8, 8), (16, 1, 1)])
    assert info.output_shape == (16, 8, 8) and info.params == 0
    assert any("16×8×8 · 16×1×1 → 16×8×8" in line for line in lines)
    assert any("each of the 16 gate values scales one whole 8×8 channel" in line
               for line in lines)
    info, lines = _arithmetic("ChannelShuffle", [(8, 4, 4)], groups=2)
    assert any("0, 4, 1, 5, 2, 6, 3, 7" in line for line in lines)
    info, lines = _arithmetic("Narrow", [(8, 4, 4)], start=4, length=4)
    assert info.output_shape == (4, 4, 4)
    assert any("channels 4 to 7 of 8" in line for line in lines)
    info, lines = _arithmetic("AdaptiveMaxPool2d", [(3, 9, 9)], output_size=1)
    assert info.output_shape == (3, 1, 1)
    _, lines = _arithmetic("SiLU", [(3, 4, 4)])
    assert any("SiLU(2) = 2 · σ(2) = 1.762" in line for line in lines)
    _, lines = _arithmetic("Hardswish", [(3, 4, 4)])
    assert any("Hardswish(1) = 1 · ReLU6(1 + 3) / 6 = 0.667" in line for line in lines)


@pytest.mark.parametrize("type_name, shapes, params, message", [
    ("GroupNorm", [(6, 4, 4)], {"num_groups": 4}, "its 6 channels cannot be split into 4 groups"),
    ("ChannelShuffle", [(6, 4, 4)], {"groups": 4}, "its 6 channels cannot be split into 4"),
    ("Narrow", [(6, 4, 4)], {"start": 4, "length": 3}, "channels 4 to 6, but it has 6"),
    ("Multiply", [(8, 4, 4), (4, 1, 1)], {}, "8×4×4 and 4×1×1 cannot be multiplied"),
    ("Upsample", [(3, 4, 4)], {"align_corners": True}, 'align_corners only applies to "bilinear"'),
    ("ConvTranspose2d", [(4, 4, 4)], {"stride": 2, "output_padding": 2},
     "output_padding 2 must be smaller than the stride (2) or the dilation (1)"),
    ("Dropout2d", [(12,)], {}, "Dropout2d zeroes whole channels of an image"),
])
def test_new_layers_explain_what_does_not_fit(type_name, shapes, params, message):
    g = Composer()
    x = g.input(list(shapes[0]))
    sources = [x]
    for shape in shapes[1:]:
        y = g.layer("Conv2d", x, out_channels=shape[0], kernel_size=1)
        sources.append(g.layer("AdaptiveAvgPool2d", y, output_size=[shape[1], shape[2]]))
    g.layer(type_name, sources if len(sources) > 1 else x, id="n", **params)
    info = analyze(g.graph).nodes["n"]
    assert info.status == "error" and message in info.error, info.error
