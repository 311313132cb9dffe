"""engine/explain: every explanation checked against torch — the window against F.unfold,
sums against the functional ops in float64, the value against the built module."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from explain_helpers import chain, one_thread, sample  # noqa: F401
from layerlab.engine.builder import build_model, make_layer
from layerlab.engine.explain import ELEMENTWISE, Explainer, ExplainError
from layerlab.engine.explain.base import Unsupported
from layerlab.engine.registry import find
from layerlab.engine.templates import load_template


def close(a, b, scale=1.0):
    """Equal to 1e-5 relative (float32 sums against float64 ones), with an absolute floor
    for values near 0 that come from large cancelling terms."""
    return abs(a - b) <= 1e-5 * max(abs(a), abs(b)) + 1e-6 * scale


def torch_value(model, node, x, index) -> float:
    with torch.no_grad():
        return float(model.forward_all(torch.as_tensor(x)[None])[node][0][index])


CONVS = {
    "stride 2, padding 1": dict(out_channels=4, kernel_size=3, stride=2, padding=1),
    "rectangular, dilated": dict(out_channels=3, kernel_size=[3, 2], stride=[2, 1],
                                 padding=[2, 0], dilation=[2, 1]),
    "groups 2": dict(out_channels=6, kernel_size=3, groups=2, padding=1),
    "depthwise, no bias": dict(out_channels=4, kernel_size=3, groups=4, bias=False),
    "same, even kernel": dict(out_channels=2, kernel_size=4, padding="same"),
    "same, dilated": dict(out_channels=2, kernel_size=3, dilation=2, padding="same"),
    "valid": dict(out_channels=2, kernel_size=5, padding="valid"),
}


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("params", CONVS.values(), ids=CONVS.keys())
def test_conv_window_kernel_products_sum_and_bias_match_torch(params):
    graph, model = chain([4, 9, 8], ("Conv2d", params, "conv"))
    x = sample((4, 9, 8))
    explainer = Explainer(model, graph, x)
    conv = model.layers["conv"]
    out = explainer.output("conv")
    # Reference windows: F.unfold pads with zeros, strides and dilates exactly as conv2d.
    padding = conv.padding if conv.padding != "same" else 0
    xt = torch.as_tensor(x)[None].double()
    if conv.padding == "same":  # PyTorch pads the odd one at the bottom/right
        pads = []
        for k, d in zip(reversed(conv.kernel_size), reversed(conv.dilation)):
            total = d * (k - 1)
            pads += [total // 2, total - total // 2]
        xt = F.pad(xt, pads)
    patches = F.unfold(xt, conv.kernel_size, dilation=conv.dilation,
                       padding=padding if padding != "valid" else 0, stride=conv.stride)
    kh, kw = conv.kernel_size
    per_group = 4 // conv.groups
    with torch.no_grad():
        ref = F.conv2d(torch.as_tensor(x)[None].double(), conv.weight.double(),
                       None if conv.bias is None else conv.bias.double(), conv.stride,
                       conv.padding, conv.dilation, conv.groups)[0]
    for index in np.ndindex(*out.shape):
        e = explainer.explain("conv", index)
        o, i, j = index
        group = o // (conv.out_channels // conv.groups)
        column = patches[0, :, i * out.shape[2] + j].view(4, kh, kw)
        want = column[group * per_group:(group + 1) * per_group].numpy()
        np.testing.assert_allclose(e.window, want, rtol=0, atol=0)
        np.testing.assert_array_equal(e.channels, np.arange(group * per_group,
                                                            (group + 1) * per_group))
        np.testing.assert_array_equal(e.kernel, conv.weight[o].double().detach().numpy())
        np.testing.assert_allclose(e.products, e.window * e.kernel)
        bias = None if conv.bias is None else pytest.approx(float(conv.bias[o].detach()))
        assert e.bias == bias
        assert close(e.sum + (e.bias or 0.0), e.value, np.abs(e.products).sum())
        assert e.pre_activation == e.sum + (e.bias or 0.0)
        assert close(e.value, float(ref[index]), np.abs(e.products).sum())
        assert e.value == torch_value(model, "conv", x, index)
        # The taps on the padding are exactly those whose window value is padding.
        outside = ~e.inside
        assert np.all(e.window[:, outside] == 0)
        assert outside.any() == bool(((e.rows < 0) | (e.rows >= 9)).any()
                                     or ((e.cols < 0) | (e.cols >= 8)).any())


def test_conv_is_followed_by_its_activation_with_the_numbers():
    graph, model = chain([1, 6, 6], ("Conv2d", dict(out_channels=3), "conv"),
                         ("Tanh", {}, "act"))
    explainer = Explainer(model, graph, sample((1, 6, 6), 3))
    e = explainer.explain("conv", (2, 1, 3))
    step = e.activation
    assert step.node == "act" and step.type == "Tanh"
    assert step.input == e.value
    assert step.output == pytest.approx(np.tanh(e.value), rel=1e-6)
    assert step.formula.startswith("tanh(")
    assert e.to_json()["activation"]["output"] == step.output
    assert explainer.explain("act", (2, 1, 3)).activation is None


POOLS = {
    "max, padding, ceil_mode": ("MaxPool2d", dict(kernel_size=3, stride=2, padding=1,
                                                  ceil_mode=True)),
    "max, dilated": ("MaxPool2d", dict(kernel_size=2, stride=1, dilation=2)),
    "avg, padding counted, ceil_mode": ("AvgPool2d", dict(kernel_size=3, stride=2, padding=1,
                                                          ceil_mode=True)),
    "avg, padding not counted": ("AvgPool2d", dict(kernel_size=3, stride=2, padding=1,
                                                   ceil_mode=True, count_include_pad=False)),
    "L2, ceil_mode": ("LPPool2d", dict(norm_type=2.0, kernel_size=2, ceil_mode=True)),
    "p = 1.5, stride 1": ("LPPool2d", dict(norm_type=1.5, kernel_size=3, stride=1)),
    "adaptive 3×2": ("AdaptiveAvgPool2d", dict(output_size=[3, 2])),
}


@pytest.mark.parametrize("layer", POOLS.values(), ids=POOLS.keys())
def test_pooling_windows_reproduce_torch(layer):
    type_, params = layer
    # After a ReLU the inputs are ≥ 0, as LP pooling with a fractional p needs.
    # 6×6 with kernel 3, stride 2, padding 1 and ceil_mode: the last window hangs past the
    # padded edge, where PyTorch cuts it.
    graph, model = chain([2, 6, 6], ("ReLU", {}, "relu"), (type_, params, "pool"))
    x = sample((2, 6, 6), 1)
    explainer = Explainer(model, graph, x)
    relu = explainer.output("relu")
    for index in np.ndindex(*explainer.shape("pool")):
        e = explainer.explain("pool", index)
        assert e.value == torch_value(model, "pool", x, index)
        assert e.channel == index[0]
        real = e.window[e.counted & ~np.isnan(e.window)]
        # Every real tap shows the input at its row and column.
        for a, r in enumerate(e.rows):
            for b, c in enumerate(e.cols):
                if 0 <= r < 6 and 0 <= c < 6 and e.counted[a, b]:
                    assert e.window[a, b] == pytest.approx(float(relu[index[0], r, c]))
        if e.op == "max":
            r, c = e.winner
            assert e.window[r, c] == e.value == real.max()
        elif e.op == "average":
            assert e.sum == pytest.approx(float(real.sum()))
            assert close(e.sum / e.divisor, e.value)
        else:
            assert e.sum == pytest.approx(float(np.sum(real ** e.p)))
            assert close((e.sum * e.scale) ** (1 / e.p), e.value)


def test_avg_pool_divisors_follow_count_include_pad():
    for counted, corner in ((True, 9), (False, 4)):
        graph, model = chain([1, 5, 5], ("AvgPool2d", dict(kernel_size=3, stride=2, padding=1,
                                                           count_include_pad=counted), "pool"))
        e = Explainer(model, graph, sample((1, 5, 5))).explain("pool", (0, 0, 0))
        assert e.divisor == corner


def test_lp_pool_at_a_ceil_mode_edge_is_scaled_as_torch_does():
    graph, model = chain([1, 5, 5], ("LPPool2d", dict(norm_type=2.0, kernel_size=2,
                                                      ceil_mode=True), "pool"))
    e = Explainer(model, graph, sample((1, 5, 5))).explain("pool", (0, 2, 2))
    assert e.counted.sum() == 1 and e.scale == 4.0 and "4/1" in e.note
    assert close((e.sum * 4) ** 0.5, e.value)


def test_linear_lists_inputs_weights_products_and_the_largest_contributions():
    graph, model = chain([2, 3, 3], ("Flatten", {}, "flat"),
                         ("Linear", dict(out_features=5), "fc"), ("ReLU", {}, "relu"))
    x = sample((2, 3, 3), 2)
    explainer = Explainer(model, graph, x)
    fc = model.layers["fc"]
    for o in range(5):
        e = explainer.explain("fc", (o,))
        np.testing.assert_array_equal(e.inputs, x.ravel().astype(np.float64))
        np.testing.assert_array_equal(e.weights, fc.weight[o].double().detach().numpy())
        np.testing.assert_allclose(e.products, e.inputs * e.weights)
        assert close(e.sum + e.bias, e.value, np.abs(e.products).sum())
        assert e.source == "flat" and e.source_shape == (2, 3, 3)
        magnitudes = np.abs(e.products[e.top])
        assert np.all(magnitudes[:-1] >= magnitudes[1:])
        assert magnitudes[0] == np.abs(e.products).max()
        assert e.activation.node == "relu" and e.activation.output == max(e.value, 0.0)
    e = explainer.explain("fc", (0,))
    text = "\n".join(e.lines())
    first = e.top[0]
    where = [int(i) for i in np.unravel_index(first, (2, 3, 3))]
    assert "the 10 largest contributions w·x (of 18)" in text
    assert f"input {first} {where}:" in text and f"+ bias {e.bias:.4g}" in text


def test_flatten_points_at_the_source_value():
    graph, model = chain([2, 3, 4], ("Flatten", {}, "flat"))
    x = sample((2, 3, 4))
    explainer = Explainer(model, graph, x)
    e = explainer.explain("flat", (17,))
    assert e.source_index == (1, 1, 1) and e.value == x[1, 1, 1]


@pytest.mark.parametrize("shape,index", [([6], (4,)), ([4, 3, 2], (2, 1, 0))])
def test_softmax_shows_logits_exp_and_their_sum(shape, index):
    graph, model = chain(shape, ("Softmax", {}, "soft"))
    x = sample(tuple(shape)) * 3
    e = Explainer(model, graph, x).explain("soft", index)
    logits = x[(slice(None),) + tuple(index[1:])].astype(np.float64)
    np.testing.assert_array_equal(e.logits, logits)
    np.testing.assert_allclose(e.exp, np.exp(logits))
    assert e.sum_exp == pytest.approx(np.exp(logits).sum())
    assert e.position == index[0]
    assert close(e.exp[index[0]] / e.sum_exp, e.value)
    assert e.probabilities.sum() == pytest.approx(1.0)


def test_softmax_of_huge_logits_shifts_instead_of_overflowing():
    graph, model = chain([3], ("Softmax", {}, "soft"))
    e = Explainer(model, graph, np.array([1000.0, 999.0, 0.0])).explain("soft", (0,))
    assert e.shift == pytest.approx(1000.0) and np.isfinite(e.exp).all()
    assert close(e.probabilities[0], e.value)


@pytest.mark.parametrize("shape,type_,affine", [([3, 4, 4], "BatchNorm2d", True),
                                                 ([5], "BatchNorm1d", True),
                                                 ([5], "BatchNorm1d", False)])
def test_batch_norm_uses_the_running_statistics(shape, type_, affine):
    graph, model = chain(shape, (type_, dict(affine=affine), "bn"))
    x = sample(tuple(shape), 4)
    explainer = Explainer(model, graph, x)
    bn = model.layers["bn"]
    for index in np.ndindex(*shape):
        e = explainer.explain("bn", index)
        c = index[0]
        assert e.mean == pytest.approx(float(bn.running_mean[c]))
        assert e.var == pytest.approx(float(bn.running_var[c]))
        assert e.normalized == pytest.approx((x[index] - e.mean) / np.sqrt(e.var + e.eps))
        result = e.normalized if e.gamma is None else e.gamma * e.normalized + e.beta
        assert close(result, e.value)
        assert (e.gamma is None) == (not affine)


def test_add_concat_dropout_and_input_explain_where_the_value_comes_from():
    from layerlab.engine.compose import Composer
    g = Composer()
    x = g.input([2, 3, 3])
    a = g.layer("Conv2d", x, id="a", out_channels=2, padding=1)
    b = g.layer("Conv2d", x, id="b", out_channels=2, padding=1)
    s = g.layer("Add", [a, b], id="add")
    c = g.layer("Concat", [s, x], id="cat")
    g.layer("Dropout", c, id="drop")
    graph = g.graph
    torch.manual_seed(0)
    model = build_model(graph).eval()
    inp = sample((2, 3, 3))
    explainer = Explainer(model, graph, inp)
    add = explainer.explain("add", (1, 2, 0))
    assert add.sources == ("a", "b")
    assert close(add.terms.sum(), add.value)
    cat = explainer.explain("cat", (3, 1, 2))
    assert cat.source == "input" and cat.source_index == (1, 1, 2)
    assert cat.value == inp[1, 1, 2]
    assert explainer.explain("drop", (3, 1, 2)).value == inp[1, 1, 2]
    assert explainer.explain("input", (0, 0, 0)).value == inp[0, 0, 0]


def test_the_numpy_functions_of_the_element_wise_activations_match_torch():
    x = np.linspace(-7, 7, 301)
    xt = torch.as_tensor(x)
    modules = {"SiLU": torch.nn.SiLU()}
    for type_, entry in ELEMENTWISE.items():
        spec = find(type_)
        if spec is not None:
            name, kwargs = spec.torch_call({**spec.defaults(), "negative_slope": 0.2,
                                            "alpha": 0.7, "approximate": "tanh"}
                                           if spec.params else {}, [(1,)])
            module = make_layer(name, kwargs)
        else:
            module = modules[type_]
        want = module(xt).numpy()
        np.testing.assert_allclose(entry.f(x, module), want, rtol=1e-6, atol=1e-9,
                                   err_msg=type_)


@pytest.mark.parametrize("type_", [t for t in ELEMENTWISE if find(t) is not None])
def test_an_activation_node_explains_itself_with_its_formula(type_):
    graph, model = chain([4], (type_, {}, "act"))
    x = np.array([-1.5, -0.2, 0.3, 2.0], dtype=np.float32)
    explainer = Explainer(model, graph, x)
    for k in range(4):
        e = explainer.explain("act", (k,))
        assert e.input == pytest.approx(float(x[k]))
        assert close(float(ELEMENTWISE[type_].f(np.float64(x[k]), model.layers["act"])),
                     e.value)
        assert e.formula and e.type == type_


def test_a_type_without_an_explanation_says_so_and_still_gives_its_value():
    graph, model = chain([3, 4, 4], ("ReLU", {}, "odd"))
    graph.nodes["odd"].type = "Mish"   # a layer type added later, which nothing here knows
    x = sample((3, 4, 4))
    explainer = Explainer(model, graph, x)
    assert not explainer.explains("odd")
    e = explainer.explain("odd", (1, 2, 3))
    assert isinstance(e, Unsupported) and not e.explained
    assert "no explanation for type Mish yet" in e.message
    assert e.value == max(float(x[1, 2, 3]), 0.0)
    assert e.to_json()["explained"] is False and "Mish" in "\n".join(e.lines())


@pytest.mark.parametrize("index,words", [((3, 0, 0), "0 ≤ channel < 3"),
                                         ((0, 0), "give 3 indices"),
                                         ((0, -1, 0), "0 ≤ row < 5"),
                                         ((0, 0, 5), "0 ≤ column < 5")])
def test_an_index_out_of_range_names_the_valid_range(index, words):
    graph, model = chain([1, 5, 5], ("Conv2d", dict(out_channels=3, padding=1), "conv"))
    explainer = Explainer(model, graph, sample((1, 5, 5)))
    with pytest.raises(ExplainError, match=words):
        explainer.explain("conv", index)


def test_a_wrong_node_or_sample_is_an_explain_error():
    graph, model = chain([1, 5, 5], ("Conv2d", dict(out_channels=3), "conv"))
    with pytest.raises(ExplainError, match="must have shape 1×5×5"):
        Explainer(model, graph, sample((1, 4, 5)))
    explainer = Explainer(model, graph, sample((1, 1, 5, 5)))   # a batch of one is fine
    with pytest.raises(ExplainError, match="no node 'conv9'.*input, conv"):
        explainer.explain("conv9", (0, 0, 0))


def test_explaining_an_element_runs_no_forward_pass_and_results_pickle_small():
    graph, model = chain([3, 16, 16], ("Conv2d", dict(out_channels=8, padding=1), "conv"),
                         ("ReLU", {}, "relu"), ("MaxPool2d", {}, "pool"))
    model.train()
    explainer = Explainer(model, graph, sample((3, 16, 16)))
    assert model.training            # the explainer left the model as it found it

    def no_forward(*args, **kwargs):
        raise AssertionError("explaining an element must use the cached outputs")
    model.forward_all = no_forward
    model.forward = no_forward
    frames = explainer.sweep("conv", channel=5)
    assert len(frames) == 16 * 16
    assert [f.index for f in frames[:3]] == [(5, 0, 0), (5, 0, 1), (5, 0, 2)]
    payload = pickle.dumps(frames[40])
    assert len(payload) < 4000
    back = pickle.loads(payload)
    np.testing.assert_array_equal(back.products, frames[40].products)
    assert back.to_json() == frames[40].to_json()
    with pytest.raises(ExplainError, match="choose one of 0…7"):
        explainer.sweep("conv", channel=8)


@pytest.mark.parametrize("template", ["lenet5", "worked_example", "keras_mnist"])
def test_every_node_of_a_template_explains_or_says_why_not(template):
    project = load_template(template)
    torch.manual_seed(0)
    model = build_model(project.graph).eval()
    shape = tuple(project.graph.node(model.input_id).params["shape"])
    explainer = Explainer(model, project.graph, sample(shape))
    for node in explainer.nodes:
        index = tuple(s // 2 for s in explainer.shape(node))
        e = explainer.explain(node, index)
        assert e.explained, f"{template}: {node} ({e.type}) has no explanation"
        assert e.lines()[0].startswith(f"{node} (")
        pre = getattr(e, "pre_activation", None)
        if pre is not None:
            assert close(pre, e.value, np.abs(e.products).sum())


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(-3, 40) | st.integers(-2**70, 2**70), min_size=0, max_size=5),
       st.sampled_from(["conv", "pool", "flat", "fc"]))
def test_any_index_is_explained_or_refused_with_a_message(index, node):
    graph, model = INDEX_NET
    try:
        e = INDEX_EXPLAINER.explain(node, index)
    except ExplainError as exc:
        assert node in str(exc) and "0 ≤" in str(exc)
    else:
        assert e.index == tuple(index) and e.lines()


def test_json_of_a_nan_value_is_strict():
    import json

    from layerlab.engine.explain.numbers import finite_json
    graph, model = chain([1, 2, 2], ("LPPool2d", dict(norm_type=1.5, kernel_size=2), "pool"))
    e = Explainer(model, graph, -np.ones((1, 2, 2))).explain("pool", (0, 0, 0))
    assert np.isnan(e.value)                   # what PyTorch computes too
    text = json.dumps(finite_json(e.to_json()), allow_nan=False)
    assert json.loads(text)["value"] is None


INDEX_NET = chain([2, 6, 6], ("Conv2d", dict(out_channels=3, padding=1), "conv"),
                  ("MaxPool2d", {}, "pool"), ("Flatten", {}, "flat"),
                  ("Linear", dict(out_features=4), "fc"))
INDEX_EXPLAINER = Explainer(INDEX_NET[1], INDEX_NET[0], sample((2, 6, 6)))
