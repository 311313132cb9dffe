"""Reproduced defects of export and import (issue 13): BatchNorm round trips through ONNX and
back out again, a one-input Concat, malformed ONNX files answered with a message naming the
node instead of a traceback, a fuzzed importer, unsafe .pt files refused without suggesting
the unsafe option, and NaN / integer weights refused by name."""
import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from layerlab.engine.builder import build_model  # noqa: E402
from layerlab.engine.cli import main  # noqa: E402
from layerlab.engine.compose import Composer  # noqa: E402
from layerlab.engine.export import ExportError, OnnxImportError, export_onnx  # noqa: E402
from layerlab.engine.export.onnx_import import import_model  # noqa: E402
from layerlab.engine.export.weights import load_weights, save_weights  # noqa: E402
from layerlab.engine.inference import analyze  # noqa: E402
from layerlab.engine.project import save_project  # noqa: E402

RNG = np.random.default_rng(0)


def bn_project():
    g = Composer()
    x = g.input([2, 6, 6])
    x = g.layer("Conv2d", x, id="conv1", out_channels=4, kernel_size=3, padding=1, bias=False)
    x = g.layer("BatchNorm2d", x, id="bn1")
    x = g.layer("ReLU", x)
    x = g.layer("Flatten", x)
    x = g.layer("Linear", x, id="fc", out_features=8)
    x = g.layer("BatchNorm1d", x, id="bn2")
    g.layer("Linear", x, id="out", out_features=3)
    return g.project("BN net")


# --- 1. BatchNorm through ONNX and out again ---------------------------------------------------

def test_batchnorm_round_trip_exports_again_with_the_imported_weights(tmp_path, capsys):
    pytest.importorskip("onnxscript")
    save_project(bn_project(), tmp_path / "bn.json")
    r_onnx, r_json = tmp_path / "r.onnx", tmp_path / "r.json"
    assert main(["export", str(tmp_path / "bn.json"), "-o", str(r_onnx)]) == 0
    assert main(["import", str(r_onnx), "-o", str(r_json)]) == 0
    state = load_weights(tmp_path / "r.safetensors")
    assert state["layers.bn1.num_batches_tracked"].shape == ()   # was (1,)
    assert state["layers.bn2.num_batches_tracked"].dtype == torch.int64
    capsys.readouterr()
    weights = str(tmp_path / "r.safetensors")
    assert main(["export", str(r_json), "-o", str(tmp_path / "x.onnx"), "--weights", weights]) == 0
    assert main(["export", str(r_json), "-o", str(tmp_path / "x.py"), "--weights", weights]) == 0
    assert "num_batches_tracked" not in capsys.readouterr().err


def test_weights_written_by_the_old_importer_still_load(tmp_path):
    """Files already saved with a (1,) num_batches_tracked load into the 0-d slot."""
    project = bn_project()
    state = build_model(project.graph).state_dict()
    state["layers.bn1.num_batches_tracked"] = torch.tensor([7])
    path = save_weights(state, tmp_path / "old.safetensors")
    export_onnx(project, tmp_path / "old.onnx", weights=path)


# --- 2. a Concat of one tensor ----------------------------------------------------------------

def _model(nodes, inits=(), in_shape=(2, 4, 4), out_shape=None, opset=17):
    out_shape = out_shape or ["N", *in_shape]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *in_shape])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)], list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def test_a_concat_of_one_tensor_is_an_identity():
    nodes = [helper.make_node("Relu", ["x"], ["a"]),
             helper.make_node("Concat", ["a"], ["b"], axis=1, name="cat_one"),
             helper.make_node("Sigmoid", ["b"], ["y"])]
    project, _ = import_model(_model(nodes))
    assert [n.type for n in project.graph.nodes.values()] == ["Input", "ReLU", "Sigmoid"]
    assert analyze(project.graph).ok


# --- 3. malformed files: a message naming the node, never a traceback ---------------------------

W = RNG.standard_normal((2, 2, 3, 3)).astype(np.float32)


@pytest.mark.parametrize("nodes, inits, expected", [
    # a cycle: a → b → a
    ([helper.make_node("Add", ["x", "b"], ["a"], name="first"),
      helper.make_node("Relu", ["a"], ["b"], name="second"),
      helper.make_node("Relu", ["b"], ["y"], name="last")], [],
     "a cycle"),
    # a node that reads its own output
    ([helper.make_node("Add", ["x", "y"], ["y"], name="loop")], [], "node 'loop' (Add)"),
    # an input nobody produces
    ([helper.make_node("Add", ["x", "ghost"], ["y"], name="haunted")], [],
     "node 'haunted' (Add): its input 'ghost' is not produced by any node"),
    # Conv with stride 0 and with negative pads
    ([helper.make_node("Conv", ["x", "w"], ["y"], strides=[0, 0], pads=[1, 1, 1, 1],
                       name="zero_stride")], [_init("w", W)], "node 'zero_stride' (Conv): stride"),
    ([helper.make_node("Conv", ["x", "w"], ["y"], pads=[-1, -1, -1, -1], name="neg_pad")],
     [_init("w", W)], "node 'neg_pad' (Conv): padding"),
])
def test_malformed_graphs_are_explained(nodes, inits, expected, tmp_path, capsys):
    m = _model(nodes, inits)
    with pytest.raises(OnnxImportError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        import_model(m, "bad.onnx")
    path = tmp_path / "bad.onnx"
    onnx.save(m, str(path))
    assert main(["import", str(path), "-o", str(tmp_path / "bad.json")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and expected.split(":")[0] in err


def _valid_model():
    """A small model with most of the importer's paths: conv, bn, pooling, branches, dense."""
    nodes = [
        helper.make_node("Conv", ["x", "c1.weight", "c1.bias"], ["a"], pads=[1, 1, 1, 1],
                         name="conv1"),
        helper.make_node("BatchNormalization", ["a", "g", "b", "m", "v"], ["a2"], name="bn"),
        helper.make_node("Relu", ["a2"], ["a3"], name="relu"),
        helper.make_node("MaxPool", ["a3"], ["p"], kernel_shape=[2, 2], strides=[2, 2],
                         name="pool"),
        helper.make_node("Conv", ["p", "c2.weight"], ["q"], group=2, name="conv2"),
        helper.make_node("Concat", ["p", "q"], ["c"], axis=1, name="cat"),
        helper.make_node("GlobalAveragePool", ["c"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["f"], axis=1, name="flat"),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["y"], transB=1, name="fc"),
    ]
    inits = [_init("c1.weight", RNG.standard_normal((4, 2, 3, 3)).astype(np.float32)),
             _init("c1.bias", np.zeros(4, np.float32)), _init("g", np.ones(4, np.float32)),
             _init("b", np.zeros(4, np.float32)), _init("m", np.zeros(4, np.float32)),
             _init("v", np.ones(4, np.float32)),
             _init("c2.weight", RNG.standard_normal((4, 2, 1, 1)).astype(np.float32)),
             _init("fc.weight", RNG.standard_normal((3, 8)).astype(np.float32)),
             _init("fc.bias", np.zeros(3, np.float32))]
    return _model(nodes, inits, (2, 6, 6), ["N", 3])


def test_the_fuzz_seed_model_imports():
    project, state = import_model(_valid_model())
    assert analyze(project.graph).total_params == 4 * 18 + 4 + 4 * 2 + 3 * 8 + 3  # BN: no affine


_ATTR_VALUES = st.one_of(st.integers(-3, 9), st.lists(st.integers(-3, 9), max_size=5),
                         st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=4))


@st.composite
def mutations(draw):
    return draw(st.lists(st.tuples(
        st.sampled_from(["attr", "input", "output", "op", "drop", "dup", "init_shape",
                         "init_dtype", "graph_io", "opset"]),
        st.integers(0, 50), st.integers(0, 50), _ATTR_VALUES), min_size=1, max_size=4))


_OPS = ["Conv", "Relu", "Concat", "Add", "Gemm", "MaxPool", "Reshape", "Mul", "Split", "Slice",
        "Transpose", "Sigmoid", "HardSigmoid", "Resize", "Pad", "ConvTranspose", "Identity",
        "Flatten", "LayerNormalization", "InstanceNormalization", "Shape", "Foo"]


def _mutate(m, ops):
    g = m.graph
    for kind, i, j, value in ops:
        nodes = list(g.node)
        node = nodes[i % len(nodes)] if nodes else None
        names = ["x", "y", "ghost", ""] + [o for n in nodes for o in n.output] + \
            [t.name for t in g.initializer]
        if kind == "attr" and node is not None:
            if node.attribute:
                a = node.attribute[j % len(node.attribute)]
                name = a.name
                node.attribute.remove(a)
            else:
                name = ["axis", "strides", "pads", "group", "kernel_shape", "perm"][j % 6]
            try:
                node.attribute.append(helper.make_attribute(name, value))
            except (ValueError, TypeError):
                pass
        elif kind == "input" and node is not None and node.input:
            node.input[j % len(node.input)] = names[(i + j) % len(names)]
        elif kind == "output" and node is not None:
            node.output[0] = names[(i * 7 + j) % len(names)]
        elif kind == "op" and node is not None:
            node.op_type = _OPS[j % len(_OPS)]
        elif kind == "drop" and node is not None:
            g.node.remove(node)
        elif kind == "dup" and node is not None:
            g.node.insert(j % (len(nodes) + 1), node)
        elif kind == "init_shape" and g.initializer:
            t = g.initializer[j % len(g.initializer)]
            arr = numpy_helper.to_array(t)
            flat = arr.reshape(-1)
            new = flat[: max(0, flat.size - (i % 3))]
            shape = [new.size] if j % 2 else ([1] * (i % 3) + [new.size])
            t.CopyFrom(numpy_helper.from_array(new.reshape(shape), t.name))
        elif kind == "init_dtype" and g.initializer:
            t = g.initializer[j % len(g.initializer)]
            arr = numpy_helper.to_array(t)
            t.CopyFrom(numpy_helper.from_array(arr.astype([np.int64, np.float64, np.int8][i % 3]),
                                               t.name))
        elif kind == "graph_io":
            dims = g.input[0].type.tensor_type.shape.dim
            dims[j % len(dims)].dim_value = i % 4
        elif kind == "opset":
            m.opset_import[0].version = [1, 7, 11, 13, 17, 21, 99][i % 7]
    return m


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=mutations())
def test_fuzzed_models_import_or_explain(ops):
    m = _mutate(_valid_model(), ops)
    try:
        project, state = import_model(m, "fuzz.onnx")
    except OnnxImportError as exc:
        text = str(exc)
        assert text.startswith("fuzz.onnx") and "Traceback" not in text
        assert len(text) < 2000
        return
    analysis = analyze(project.graph)
    assert analysis.ok, analysis.messages()
    build_model(project.graph).load_state_dict(state)


# --- Also: unsafe .pt files, NaN and integer weights ---------------------------------------------

class _Evil:
    def __reduce__(self):
        return (print, ("this ran",))


def test_unsafe_pt_is_refused_without_suggesting_weights_only_false(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"layers.fc.weight": torch.zeros(2), "x": _Evil()}, path)
    with pytest.raises(ExportError) as err:
        load_weights(path)
    text = str(err.value)
    assert "evil.pt" in text and "weights_only" not in text and "only tensors" in text


@pytest.mark.parametrize("poison, expected", [
    (lambda s: s["layers.conv1.weight"].view(-1).__setitem__(0, math.nan),
     "layers.conv1.weight holds 1 NaN"),
    (lambda s: s["layers.fc.bias"].view(-1).__setitem__(1, math.inf),
     "layers.fc.bias holds 1 infinite"),
    (lambda s: s.__setitem__("layers.out.weight", s["layers.out.weight"].to(torch.int64)),
     "layers.out.weight holds integers (int64)"),
])
def test_nan_and_integer_weights_are_refused_by_name(tmp_path, poison, expected):
    pytest.importorskip("onnxscript")
    project = bn_project()
    state = build_model(project.graph).state_dict()
    poison(state)
    for export in (export_onnx, __import__("layerlab.engine.export",
                                           fromlist=["export_pytorch"]).export_pytorch):
        with pytest.raises(ExportError, match=expected.replace("(", r"\(").replace(")", r"\)")):
            export(project, tmp_path / ("m.onnx" if export is export_onnx else "m.py"),
                   weights=state)
