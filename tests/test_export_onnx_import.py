"""ONNX import of files LayerLab did not write: hand-made graphs in the styles of other
exporters (MatMul+Add, Gemm with alpha/beta, Flatten, GlobalAveragePool, Clip, weights behind
Transpose or Constant nodes, initializers listed as inputs), the list of every unsupported
operator, and errors that name the node at fault. Outputs are compared with onnx's own
reference evaluator, so onnxruntime is not needed here."""
from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

from layerlab.engine.builder import build_model  # noqa: E402
from layerlab.engine.export import OnnxImportError  # noqa: E402
from layerlab.engine.export.onnx_import import import_model  # noqa: E402
from layerlab.engine.inference import analyze  # noqa: E402

RNG = np.random.default_rng(0)


def weights(*shape):
    return RNG.standard_normal(shape).astype(np.float32) * 0.3


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def model(nodes, input_shape, output_shape, initializers=(), opset=17, extra_inputs=()):
    graph = helper.make_graph(
        nodes, "handmade",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *input_shape]),
         *extra_inputs],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", *output_shape])],
        list(initializers))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(m)
    return m


def assert_same_outputs(onnx_model, project, state, input_shape, batch=3):
    x = RNG.standard_normal((batch, *input_shape)).astype(np.float32)
    expected = ReferenceEvaluator(onnx_model).run(None, {"x": x})[0]
    net = build_model(project.graph)
    net.load_state_dict(state)  # strict: the imported keys are exactly GraphModule's
    with torch.no_grad():
        got = net.eval()(torch.from_numpy(x)).numpy()
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() <= 1e-4


def test_mlp_in_the_style_of_other_exporters():
    w1, b1, w2, b2, w3 = weights(6, 8), weights(8), weights(5, 8), weights(5), weights(5, 4)
    nodes = [
        helper.make_node("Transpose", ["w1t"], ["w1"], perm=[1, 0]),       # folded away
        helper.make_node("MatMul", ["x", "w1"], ["h1"], name="dense"),
        helper.make_node("Add", ["b1", "h1"], ["h2"]),                     # the bias, first
        helper.make_node("Clip", ["h2", "zero", "six"], ["h3"]),          # ReLU6
        helper.make_node("Identity", ["h3"], ["h4"]),
        helper.make_node("Dropout", ["h4", "ratio"], ["h5"]),
        helper.make_node("Gemm", ["h5", "fc2.weight", "b2c"], ["h6"], alpha=2.0, beta=0.5,
                         transB=1),
        helper.make_node("Constant", [], ["b2c"], value=numpy_helper.from_array(b2)),
        helper.make_node("LeakyRelu", ["h6"], ["h7"], alpha=0.1),
        helper.make_node("Gemm", ["h7", "w3"], ["h8"]),                    # no bias, B as [in, out]
        helper.make_node("Softmax", ["h8"], ["y"], axis=-1),
    ]
    # Constant after its use is not topological; put it first
    nodes.insert(0, nodes.pop(7))
    inits = [init("w1t", w1.T), init("b1", b1), init("zero", np.float32(0)),
             init("six", np.float32(6)), init("ratio", np.float32(0.25)),
             init("fc2.weight", w2), init("w3", w3)]
    m = model(nodes, [6], [4], inits,
              extra_inputs=[helper.make_tensor_value_info("w3", TensorProto.FLOAT, [5, 4])])
    project, state = import_model(m, "mlp.onnx", "mlp")
    types = [n.type for n in project.graph.nodes.values()]
    assert types == ["Input", "Linear", "ReLU6", "Dropout", "Linear", "LeakyReLU", "Linear",
                     "Softmax"]
    nodes_by_type = {n.type: n for n in project.graph.nodes.values()}
    assert nodes_by_type["Dropout"].params == {"p": 0.25}
    assert "fc2" in project.graph.nodes  # named after its weight
    assert project.graph.nodes["fc2"].params == {"out_features": 5}
    assert analyze(project.graph).total_params == 6 * 8 + 8 + 8 * 5 + 5 + 5 * 4
    assert state["layers.fc2.bias"].shape == (5,)
    assert_same_outputs(m, project, state, [6])
    assert project.name == "handmade" and "Imported from mlp.onnx" in project.description


def test_cnn_in_the_style_of_other_exporters():
    nodes = [
        helper.make_node("Conv", ["x", "c1.weight", "c1.bias"], ["a1"], auto_pad="SAME_UPPER",
                         kernel_shape=[3, 3]),
        helper.make_node("BatchNormalization", ["a1", "bn_gamma", "bn_beta", "bn_mean",
                                                "bn_var"], ["a2"], epsilon=1e-3),
        helper.make_node("Relu", ["a2"], ["a3"]),
        helper.make_node("Conv", ["a3", "c2w"], ["b1"], pads=[1, 1, 1, 1], strides=[2, 2],
                         group=4),
        helper.make_node("MaxPool", ["a3"], ["b2"], kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Concat", ["b1", "b2"], ["c"], axis=1),
        helper.make_node("AveragePool", ["c"], ["d1"], kernel_shape=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("LpPool", ["c"], ["d2"], kernel_shape=[2, 2], strides=[1, 1], p=2),
        helper.make_node("Conv", ["d2", "c3w", "c3b"], ["d3"], pads=[2, 2, 2, 2]),
        helper.make_node("Add", ["d1", "d3"], ["e"]),
        helper.make_node("Elu", ["e"], ["e1"], alpha=0.5),
        helper.make_node("GlobalAveragePool", ["e1"], ["f"]),
        helper.make_node("Flatten", ["f"], ["g"], axis=1),
        helper.make_node("Gemm", ["g", "fcw", "fcb"], ["h"], transB=1),
        helper.make_node("ReduceMean", ["e1"], ["k"], axes=[2, 3], keepdims=0),
        helper.make_node("Gemm", ["k", "fcw", "fcb"], ["k2"], transB=1),
        helper.make_node("Add", ["h", "k2"], ["y"]),
    ]
    inits = [init("c1.weight", weights(4, 2, 3, 3)), init("c1.bias", weights(4)),
             init("bn_gamma", np.ones(4, np.float32)), init("bn_beta", np.zeros(4, np.float32)),
             init("bn_mean", weights(4)), init("bn_var", 1 + np.abs(weights(4))),
             init("c2w", weights(4, 1, 3, 3)), init("c3w", weights(8, 8, 3, 3)),
             init("c3b", weights(8)), init("fcw", weights(3, 8)), init("fcb", weights(3))]
    m = model(nodes, [2, 9, 9], [3], inits)
    project, state = import_model(m)
    counts = Counter(n.type for n in project.graph.nodes.values())
    assert counts == Counter({"Conv2d": 3, "Linear": 2, "Add": 2, "AdaptiveAvgPool2d": 2,
                              "Flatten": 2, "Input": 1, "BatchNorm2d": 1, "ReLU": 1,
                              "MaxPool2d": 1, "Concat": 1, "AvgPool2d": 1, "LPPool2d": 1,
                              "ELU": 1})
    by_type = {n.type: n for n in project.graph.nodes.values()}
    assert by_type["BatchNorm2d"].params == {"eps": 0.001}  # named γ/β: affine stays on
    assert by_type["AvgPool2d"].params["count_include_pad"] is False  # ONNX's default
    convs = [n for n in project.graph.nodes.values() if n.type == "Conv2d"]
    assert convs[0].params["padding"] == 1 and convs[1].params["groups"] == 4
    assert convs[2].params["padding"] == 2
    assert_same_outputs(m, project, state, [2, 9, 9])


def test_every_unsupported_operator_is_listed_with_its_count():
    hidden = 3
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Unsqueeze", ["r", "axis0"], ["seq"]),
        helper.make_node("LSTM", ["seq", "W", "R"], ["out"], hidden_size=hidden),
        helper.make_node("Squeeze", ["out", "axes01"], ["s"]),
        helper.make_node("Erf", ["s"], ["e1"]),
        helper.make_node("Erf", ["e1"], ["e2"]),
        helper.make_node("Transpose", ["Wfc"], ["WfcT"], perm=[1, 0]),  # constant: not listed
        helper.make_node("MatMul", ["e2", "WfcT"], ["m"]),
        helper.make_node("Mul", ["m", "half"], ["h"]),                 # not a no-op
        helper.make_node("FusedGemm", ["h", "Wfc2"], ["y"], domain="com.microsoft"),
    ]
    inits = [init("axis0", np.array([0], np.int64)), init("axes01", np.array([0, 1], np.int64)),
             init("W", weights(1, 4 * hidden, 5)), init("R", weights(1, 4 * hidden, hidden)),
             init("Wfc", weights(2, hidden)), init("half", np.float32(0.5)),
             init("Wfc2", weights(2, 2))]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                helper.make_opsetid("com.microsoft", 1)])
    with pytest.raises(OnnxImportError) as err:
        import_model(m, "rnn.onnx")
    assert err.value.unsupported == Counter({"LSTM": 1, "Unsqueeze": 1, "Squeeze": 1, "Erf": 2,
                                             "Mul with a constant": 1,
                                             "com.microsoft.FusedGemm": 1})
    message = str(err.value)
    assert message.startswith("rnn.onnx cannot be imported: 7 node(s)")
    assert "Erf ×2" in message and "LSTM ×1" in message and "Transpose" not in message


def test_asymmetric_padding_names_the_node():
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[0, 0, 1, 1], strides=[2, 2],
                              name="stem_conv"),
             helper.make_node("Flatten", ["c"], ["y"])]
    m = model(nodes, [1, 8, 8], [64], [init("w", weights(4, 1, 3, 3))])
    with pytest.raises(OnnxImportError) as err:
        import_model(m)
    assert err.value.node == "stem_conv"
    assert "node 'stem_conv' (Conv): asymmetric padding [0, 0, 1, 1]" in str(err.value)
    assert err.value.unsupported == Counter()


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_torch_same_padding_with_an_even_kernel_comes_back_as_same():
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 2, 2]),
             helper.make_node("Flatten", ["c"], ["y"])]
    m = model(nodes, [1, 6, 6], [72], [init("w", weights(2, 1, 4, 4))])
    project, state = import_model(m)
    conv = next(n for n in project.graph.nodes.values() if n.type == "Conv2d")
    assert conv.params["padding"] == "same"
    assert_same_outputs(m, project, state, [1, 6, 6])


@pytest.mark.parametrize("nodes, inits, message", [
    ([helper.make_node("Reshape", ["x", "shape"], ["y"], name="fold")],
     [init("shape", np.array([-1, 4, 3], np.int64))], "node 'fold' (Reshape): a reshape"),
    ([helper.make_node("Clip", ["x", "lo", "hi"], ["y"], name="clamp")],
     [init("lo", np.float32(-1)), init("hi", np.float32(1))], "clipping to [-1.0, 1.0]"),
    ([helper.make_node("Add", ["x", "x"], ["y"], name="twice")], [], "the same tensor twice"),
    ([helper.make_node("Softmax", ["x"], ["y"], axis=0, name="sm")], [], "another axis"),
])
def test_configurations_without_a_layer_are_explained(nodes, inits, message):
    m = model(nodes, [12], [12], inits)
    with pytest.raises(OnnxImportError, match=message.replace("[", r"\[").replace("(", r"\(")
                       .replace(")", r"\)").replace("]", r"\]")):
        import_model(m)


def test_inputs_layerlab_cannot_take_are_refused():
    two = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["y"])], "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", 3]) for n in "ab"],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])])
    with pytest.raises(OnnxImportError, match=r"has 2 inputs \(a, b\)"):
        import_model(helper.make_model(two))
    free = model([helper.make_node("Relu", ["x"], ["y"])], [3, "H", "W"], [3, "H", "W"])
    with pytest.raises(OnnxImportError, match="the input 'x' is N×3×H×W"):
        import_model(free)


def test_missing_file_and_garbage_are_import_errors(tmp_path):
    from layerlab.engine.export import import_onnx
    with pytest.raises(OnnxImportError, match="does not exist"):
        import_onnx(tmp_path / "nothing.onnx")
    (tmp_path / "bad.onnx").write_bytes(b"\x00\xffnot a protobuf at all" * 10)
    with pytest.raises(OnnxImportError, match="bad.onnx is not a readable ONNX file"):
        import_onnx(tmp_path / "bad.onnx")


SUPPORTED = ("Relu", "Tanh", "Sigmoid", "Selu", "HardSwish")
OTHERS = ("Erf", "Sin", "Exp", "Abs", "Neg", "Softplus", "Cos")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(SUPPORTED + OTHERS), min_size=1, max_size=8))
def test_random_chains_list_exactly_their_unsupported_operators(ops):
    names = ["x"] + [f"t{i}" for i in range(len(ops) - 1)] + ["y"]
    nodes = [helper.make_node(op, [a], [b]) for op, a, b in zip(ops, names, names[1:])]
    m = model(nodes, [6], [6])
    expected = Counter(op for op in ops if op in OTHERS)
    if expected:
        with pytest.raises(OnnxImportError) as err:
            import_model(m)
        assert err.value.unsupported == expected
    else:
        project, state = import_model(m)
        assert len(project.graph.nodes) == len(ops) + 1
        assert_same_outputs(m, project, state, [6])
