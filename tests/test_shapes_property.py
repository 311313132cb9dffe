"""Property tests: inference agrees with what torch really does.

For random conv/pool settings the inferred shape equals torch's output shape, and inference
reports an error exactly when torch refuses. For random valid graphs the built module has the
inferred parameter count and every intermediate shape.
"""
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from layerlab.engine import analyze, build_model
from layerlab.engine.compose import Composer

torch.set_num_threads(1)
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

pairs = lambda lo, hi: st.one_of(st.integers(lo, hi), st.lists(st.integers(lo, hi), min_size=2,  # noqa: E731
                                                                max_size=2))


def _single(type_name, shape, params):
    g = Composer()
    x = g.input(list(shape))
    g.layer(type_name, x, id="n", **params)
    return g.graph, analyze(g.graph)


def _torch_shape(graph, shape):
    """torch's output shape, or None when torch refuses the input."""
    model = build_model.__globals__["make_layer"]  # the builder's own layer factory
    from layerlab.engine.registry import get
    node = graph.nodes["n"]
    spec = get(node.type)
    name, kwargs = spec.torch_call(spec.resolve(node.params), [tuple(shape)])
    try:
        layer = model(name, kwargs)
        with torch.no_grad():
            return tuple(layer(torch.randn((2,) + tuple(shape))).shape[1:])
    except (RuntimeError, ValueError):
        return None


def _agree(type_name, shape, params):
    graph, analysis = _single(type_name, shape, params)
    info = analysis.nodes["n"]
    if info.status == "error" and "must" in (info.error or "") and "PyTorch" not in info.error:
        assume(False)  # a parameter outside its declared bounds: not a shape question
    actual = _torch_shape(graph, shape)
    if actual is None:
        assert info.status == "error", f"torch refuses {params} on {shape}, inference said " \
                                       f"{info.output_shape}"
    else:
        assert info.status == "ok", f"torch gives {actual} for {params} on {shape}, " \
                                    f"inference said: {info.error}"
        assert info.output_shape == actual


@SETTINGS
@given(c=st.integers(1, 4), h=st.integers(1, 18), w=st.integers(1, 18),
       out_mult=st.integers(1, 3), groups=st.sampled_from([1, 2]), kernel=pairs(1, 5),
       stride=pairs(1, 3), padding=st.one_of(pairs(0, 3), st.sampled_from(["same", "valid"])),
       dilation=pairs(1, 3), bias=st.booleans())
def test_conv2d_shape_matches_torch(c, h, w, out_mult, groups, kernel, stride, padding,
                                    dilation, bias):
    c = c * groups
    params = dict(out_channels=out_mult * groups, kernel_size=kernel, stride=stride,
                  padding=padding, dilation=dilation, groups=groups, bias=bias)
    if padding == "same" and stride not in (1, [1, 1]):
        graph, analysis = _single("Conv2d", (c, h, w), params)
        assert analysis.nodes["n"].status == "error"
        return
    _agree("Conv2d", (c, h, w), params)


@SETTINGS
@given(kind=st.sampled_from(["MaxPool2d", "AvgPool2d", "LPPool2d"]), h=st.integers(1, 16),
       w=st.integers(1, 16), kernel=pairs(1, 5), stride=st.one_of(st.none(), pairs(1, 4)),
       padding=pairs(0, 2), dilation=pairs(1, 3), ceil_mode=st.booleans())
def test_pooling_shape_matches_torch(kind, h, w, kernel, stride, padding, dilation, ceil_mode):
    params = dict(kernel_size=kernel, stride=stride, ceil_mode=ceil_mode)
    if kind != "LPPool2d":
        params["padding"] = padding
    if kind == "MaxPool2d":
        params["dilation"] = dilation
    _agree(kind, (2, h, w), params)


@SETTINGS
@given(h=st.integers(1, 12), w=st.integers(1, 12), out=pairs(1, 6))
def test_adaptive_pool_shape_matches_torch(h, w, out):
    _agree("AdaptiveAvgPool2d", (3, h, w), {"output_size": out})


# --- random graphs ---------------------------------------------------------------------------

IMAGE_OPS = ["Conv2d", "MaxPool2d", "AvgPool2d", "LPPool2d", "AdaptiveAvgPool2d", "ReLU",
             "LeakyReLU", "ELU", "SELU", "GELU", "Sigmoid", "Tanh", "ReLU6", "BatchNorm2d",
             "Dropout", "Softmax", "residual", "branch_concat"]
VECTOR_OPS = ["Linear", "ReLU", "Tanh", "BatchNorm1d", "Dropout", "Softmax", "residual_fc",
              "Flatten"]


def _try(g, type_name, inputs, **params):
    """Add a node; keep it only if the graph stays valid (so the draw explores valid graphs)."""
    node_id = g.layer(type_name, inputs, **params)
    if analyze(g.graph).ok:
        return node_id
    g.graph.remove_node(node_id)
    return None


@st.composite
def random_graphs(draw):
    g = Composer()
    image = draw(st.booleans())
    if image:
        x = g.input([draw(st.integers(1, 3)), draw(st.integers(4, 14)), draw(st.integers(4, 14))])
    else:
        x = g.input([draw(st.integers(1, 12))])
    for _ in range(draw(st.integers(1, 8))):
        ops = IMAGE_OPS + ["Flatten"] if image else VECTOR_OPS
        op = draw(st.sampled_from(ops))
        new = None
        if op == "Conv2d":
            new = _try(g, "Conv2d", x, out_channels=draw(st.integers(1, 6)),
                       kernel_size=draw(pairs(1, 3)), stride=draw(st.integers(1, 2)),
                       padding=draw(st.one_of(st.integers(0, 1), st.just("same"))),
                       bias=draw(st.booleans()))
            if new is None:  # "same" with stride 2 etc.
                new = _try(g, "Conv2d", x, out_channels=2, kernel_size=1)
        elif op in ("MaxPool2d", "AvgPool2d", "LPPool2d"):
            new = _try(g, op, x, kernel_size=draw(st.integers(1, 3)),
                       ceil_mode=draw(st.booleans()))
        elif op == "AdaptiveAvgPool2d":
            new = _try(g, op, x, output_size=draw(st.integers(1, 4)))
        elif op == "Linear":
            new = _try(g, "Linear", x, out_features=draw(st.integers(1, 10)),
                       bias=draw(st.booleans()))
        elif op == "residual":
            branch = g.layer("Conv2d", x, kernel_size=3, padding=1,
                             out_channels=analyze(g.graph).nodes[x].output_shape[0])
            branch = g.layer("BatchNorm2d", branch)
            new = _try(g, "Add", [branch, x])
        elif op == "residual_fc":
            branch = g.layer("Linear", x, out_features=analyze(g.graph).nodes[x].output_shape[0])
            new = _try(g, "Add", [x, branch])
        elif op == "branch_concat":
            a = g.layer("Conv2d", x, out_channels=draw(st.integers(1, 4)), kernel_size=1)
            b = g.layer("Conv2d", x, out_channels=draw(st.integers(1, 4)), kernel_size=3,
                        padding=1)
            new = _try(g, "Concat", [b, a])
        elif op == "Flatten":
            new = _try(g, "Flatten", x)
            image = image and new is None
        else:
            new = _try(g, op, x)
        x = new or x
    return g.graph


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=random_graphs())
def test_built_module_matches_inference(graph):
    analysis = analyze(graph)
    assert analysis.ok, analysis.messages()
    model = build_model(graph).eval()
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params
    shape = analysis.nodes[analysis.input_node].output_shape
    with torch.no_grad():
        outputs = model.forward_all(torch.randn((3,) + shape))
        final = model(torch.randn((3,) + shape))
    assert set(outputs) == set(graph.nodes)
    for node_id, info in analysis.nodes.items():
        assert tuple(outputs[node_id].shape[1:]) == info.output_shape, node_id
    assert tuple(final.shape[1:]) == analysis.output_shape
