"""ONNX export and the round trip: each project is exported once (with random trained-like
weights), run in onnxruntime against torch at batch sizes 1 and 3, then imported back and
compared node type by node type and output by output."""
from collections import Counter

import numpy as np
import pytest
import torch

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from layerlab.engine.builder import build_model  # noqa: E402
from layerlab.engine.cli import main  # noqa: E402
from layerlab.engine.compose import Composer  # noqa: E402
from layerlab.engine.export import OnnxImportError, export_onnx, import_onnx  # noqa: E402
from layerlab.engine.export.onnx_export import verify_onnx  # noqa: E402
from layerlab.engine.export.weights import load_weights, save_weights  # noqa: E402
from layerlab.engine.inference import analyze  # noqa: E402
from layerlab.engine.project import load_project  # noqa: E402
from layerlab.engine.templates import load_template  # noqa: E402

from export_projects import modern_project  # noqa: E402

TEMPLATES = ("digits_cnn", "lenet5", "keras_mnist", "house_mlp", "worked_example", "resnet18")


def branching_project():
    """Every layer type; a three-way Concat, an Add, a reused tensor, BatchNorm without affine."""
    g = Composer()
    x = g.input([3, 12, 12])
    a = g.layer("Conv2d", x, out_channels=4, kernel_size=3, padding=1, id="conv_a")
    a = g.layer("BatchNorm2d", a, affine=False)
    a = g.layer("ReLU6", a)
    b = g.layer("Conv2d", x, out_channels=4, kernel_size=[3, 1], padding="same", bias=False)
    b = g.layer("LeakyReLU", b, negative_slope=0.2)
    c = g.layer("Conv2d", x, out_channels=6, kernel_size=3, padding=2, dilation=2, groups=3)
    c = g.layer("ELU", c, alpha=0.7)
    y = g.layer("Concat", [a, b, c])
    y = g.layer("SELU", y)
    y = g.layer("MaxPool2d", y, kernel_size=3, stride=2, padding=1, ceil_mode=True)
    y = g.layer("GELU", y, approximate="tanh")
    z = g.layer("AvgPool2d", y, kernel_size=2, stride=1, padding=1, count_include_pad=False)
    z = g.layer("Sigmoid", z)
    z = g.layer("LPPool2d", z, norm_type=2.0, kernel_size=2)
    z = g.layer("Tanh", z)
    z = g.layer("GELU", z)
    z = g.layer("AdaptiveAvgPool2d", z, output_size=1)
    f = g.layer("Flatten", z)
    f = g.layer("Dropout", f, p=0.3)
    f1 = g.layer("Linear", f, out_features=8, bias=False)
    f1 = g.layer("BatchNorm1d", f1)
    f2 = g.layer("Linear", f, out_features=8)
    f3 = g.layer("Linear", f, out_features=8, id="fc_c")
    s = g.layer("Add", [f1, f2, f3])  # three inputs: one node, not a chain, after import
    s = g.layer("Linear", s, out_features=5)
    g.layer("Softmax", s)
    return g.project("Layer zoo")


def randomized_state(model, seed=0):
    """Default initialisation plus random BatchNorm statistics, shifts and biases."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for key, value in model.state_dict().items():
        if key.endswith("running_var"):
            state[key] = 1 + torch.rand(value.shape, generator=gen) * 0.5
        elif value.is_floating_point() and value.ndim == 1:
            state[key] = value + torch.randn(value.shape, generator=gen) * 0.1
        else:
            state[key] = value.clone()
    return state


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """key → (project, state dict, .onnx path); weights go through a safetensors file, as
    training will hand them over."""
    folder = tmp_path_factory.mktemp("onnx")
    out = {}
    projects = {key: load_template(key) for key in TEMPLATES}
    projects["branches"] = branching_project()
    projects["modern"] = modern_project()
    for i, (key, project) in enumerate(projects.items()):
        torch.manual_seed(i)
        state = randomized_state(build_model(project.graph), seed=i)
        weights = save_weights(state, folder / f"{key}.safetensors")
        written = export_onnx(project, folder / f"{key}.onnx", weights=weights)
        assert written == [folder / f"{key}.onnx"]
        out[key] = (project, state, written[0])
    return out


KEYS = TEMPLATES + ("branches", "modern")
#: Layers that are the identity at inference: the ONNX file has no node for them.
VANISH = ("Dropout", "Dropout2d", "Identity")


@pytest.mark.parametrize("key", KEYS)
def test_onnxruntime_matches_torch_for_batches_of_1_and_3(exported, key):
    project, state, path = exported[key]
    model = build_model(project.graph)
    model.load_state_dict(state)
    model.eval()
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    assert inp.name == "input" and isinstance(inp.shape[0], str)  # a named, dynamic batch
    shape = analyze(project.graph).nodes["input"].output_shape
    for batch in (1, 3):
        x = torch.randn(batch, *shape)
        with torch.no_grad():
            expected = model(x).numpy()
        got = session.run(None, {"input": x.numpy()})[0]
        assert got.shape == expected.shape == (batch, *analyze(project.graph).output_shape)
        assert np.abs(got - expected).max() <= 1e-4


def test_batchnorm_stays_and_bias_free_convs_have_no_bias(exported):
    graph = onnx.load(str(exported["resnet18"][2])).graph
    ops = Counter(n.op_type for n in graph.node)
    assert ops["BatchNormalization"] == 20 and ops["Conv"] == 20
    assert all(len(n.input) == 2 for n in graph.node if n.op_type == "Conv")
    # the default torch optimizer would have fused these; nothing was lost
    assert "Dropout" not in Counter(n.op_type for n in
                                    onnx.load(str(exported["digits_cnn"][2])).graph.node)


def test_l2_pooling_is_one_lppool_node(exported):
    ops = [n.op_type for n in onnx.load(str(exported["worked_example"][2])).graph.node]
    assert ops.count("LpPool") == 1 and "Pow" not in ops


def summary_rows(project):
    """(type, output shape, parameters) of every node but those an inference graph drops."""
    analysis = analyze(project.graph)
    return sorted((i.type, i.output_shape, i.params) for i in analysis.nodes.values()
                  if i.type not in VANISH), analysis


@pytest.mark.parametrize("key", KEYS)
def test_import_gives_back_the_same_graph_and_outputs(exported, key):
    project, state, path = exported[key]
    imported, imported_state = import_onnx(path)
    rows, analysis = summary_rows(project)
    rows_back, analysis_back = summary_rows(imported)
    assert rows_back == rows
    assert analysis_back.total_params == analysis.total_params
    assert analysis_back.output_shape == analysis.output_shape
    # node ids come back from the exporter's module names
    assert set(imported.graph.nodes) == {n.id for n in project.graph.nodes.values()
                                         if n.type not in VANISH}
    assert imported.name == project.name
    original = build_model(project.graph)
    original.load_state_dict(state)
    rebuilt = build_model(imported.graph)
    rebuilt.load_state_dict(imported_state)  # strict: every key, every shape
    x = torch.randn(3, *analysis.nodes["input"].output_shape)
    with torch.no_grad():
        assert torch.allclose(rebuilt.eval()(x), original.eval()(x), atol=1e-5, rtol=0)


def test_branching_import_keeps_parameters_that_matter(exported):
    imported, _ = import_onnx(exported["branches"][2])
    nodes = imported.graph.nodes
    assert nodes["bn1"].params.get("affine") is False
    assert nodes["conv1"].params["bias"] is False and nodes["conv_a"].params.get("bias", True)
    assert nodes["conv2"].params["groups"] == 3 and nodes["conv2"].params["dilation"] == 2
    assert nodes["pool1"].params["ceil_mode"] is True
    assert nodes["leakyrelu1"].params["negative_slope"] == 0.2
    assert nodes["gelu1"].params["approximate"] == "tanh"
    assert [e.source for e in imported.graph.incoming("concat1")] == ["relu61", "leakyrelu1",
                                                                     "elu1"]
    assert [e.source for e in imported.graph.incoming("add1")] == ["bn2", "fc2", "fc_c"]


def test_modern_import_keeps_parameters_that_matter(exported):
    imported, state = import_onnx(exported["modern"][2])
    nodes = imported.graph.nodes
    assert nodes["gn"].params["num_groups"] == 2 and nodes["gn_plain"].params["affine"] is False
    assert nodes["shuffle"].params["groups"] == 2
    assert (nodes["half_b"].params["start"], nodes["half_b"].params["length"]) == (4, 4)
    assert nodes["pad"].params["padding"] == [0, 1, 0, 1]
    assert nodes["deconv"].params["output_padding"] == 1 and nodes["deconv"].params["stride"] == 2
    assert nodes["up_nearest"].params["scale_factor"] == 0.5
    assert nodes["up_corners"].params == {"scale_factor": 1.5, "mode": "bilinear",
                                          "align_corners": True}
    assert nodes["ln_fc"].params.get("bias") is False
    assert [e.source for e in imported.graph.incoming("excite")] == ["shuffle", "gate"]
    assert {n.type for n in nodes.values()} >= {"SiLU", "Hardswish", "Hardsigmoid", "Mish",
                                                 "Multiply", "LayerNorm", "ChannelShuffle"}


def test_odd_lp_norm_exports_faithfully_but_does_not_import(tmp_path):
    g = Composer()
    x = g.input([2, 8, 8])
    x = g.layer("ReLU", x)
    x = g.layer("LPPool2d", x, norm_type=3.0, kernel_size=2)
    g.layer("Flatten", x)
    project = g.project("Cubic pooling")
    path = export_onnx(project, tmp_path / "cubic.onnx")[0]
    state = build_model(project.graph).state_dict()
    assert verify_onnx(project, path, state) <= 1e-4
    with pytest.raises(OnnxImportError) as err:
        import_onnx(path)
    assert err.value.unsupported["Pow"] == 2 and "Sign" in err.value.unsupported


def test_cli_export_verify_then_import(tmp_path, capsys):
    onnx_path = tmp_path / "house.onnx"
    assert main(["export", "house_mlp", "-o", str(onnx_path), "--verify"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {onnx_path}" in out and "onnxruntime matches torch" in out
    project_path = tmp_path / "house.json"
    assert main(["import", str(onnx_path), "-o", str(project_path)]) == 0
    out = capsys.readouterr().out
    assert "Total parameters: 353" in out and "price  Linear  1" in out
    project = load_project(project_path)
    assert analyze(project.graph).total_params == 353
    state = load_weights(tmp_path / "house.safetensors")
    build_model(project.graph).load_state_dict(state)  # strict
    assert main(["import", str(tmp_path / "missing.onnx"), "-o", str(project_path)]) == 1
    assert "does not exist" in capsys.readouterr().err
