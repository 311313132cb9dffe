"""PyTorch-code export: the generated file defines the same model as LayerLab's GraphModule
(same parameter count, output shape, and — with the same weights — the same outputs), runs on
its own with only torch, and survives node ids that clash with Python or nn.Module names."""
import ast
import importlib.util
import subprocess
import sys

import pytest
import torch

from layerlab.engine.builder import build_model
from layerlab.engine.cli import main
from layerlab.engine.compose import Composer
from layerlab.engine.export import export_pytorch
from layerlab.engine.export.errors import ExportError
from layerlab.engine.export.pytorch_code import generate_pytorch_code
from layerlab.engine.export.weights import save_weights, to_graph_keys, to_module_keys
from layerlab.engine.inference import analyze
from layerlab.engine.templates import load_template
from layerlab.engine.torch_modules import CUSTOM

from export_projects import modern_project


def branching_project():
    """Every layer type, a three-way Concat, an Add and a reused tensor."""
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
    s = g.layer("Add", [f1, f2])
    s = g.layer("Linear", s, out_features=5)
    g.layer("Softmax", s)
    return g.project("Layer zoo (branches)", 'A """tricky""" description \\ with quotes.')


def keyword_project():
    """Node ids that are Python keywords or the names forward() itself uses."""
    g = Composer()
    x = g.input([1, 8, 8], id="self")
    x = g.layer("Conv2d", x, out_channels=4, kernel_size=3, padding=1, id="class")
    x = g.layer("BatchNorm2d", x, id="None")
    x = g.layer("ReLU", x, id="x")
    a = g.layer("Conv2d", x, out_channels=4, kernel_size=3, padding=1, id="lambda")
    b = g.layer("Conv2d", x, out_channels=4, kernel_size=1, id="torch")
    s = g.layer("Add", [a, b, x], id="nn")
    s = g.layer("Flatten", s, id="match")
    g.layer("Linear", s, out_features=3, id="return_")
    return g.project("class")


def module_attribute_project():
    """Node ids that are Python keywords: valid node ids (the built GraphModule keys them in a
    ModuleDict), but not valid attribute names in generated code."""
    g = Composer()
    x = g.input([1, 8, 8])
    x = g.layer("Conv2d", x, out_channels=4, kernel_size=3, padding=1, id="class")
    x = g.layer("BatchNorm2d", x, id="lambda")
    a = g.layer("Conv2d", x, out_channels=4, kernel_size=3, padding=1, id="class_")
    b = g.layer("Conv2d", x, out_channels=4, kernel_size=1, id="import")
    s = g.layer("Add", [a, b, x], id="def")
    s = g.layer("Flatten", s, id="pass")
    g.layer("Linear", s, out_features=3, id="yield")
    return g.project("Module names")


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


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PROJECTS = {key: (lambda key=key: load_template(key)) for key in
            ("digits_cnn", "lenet5", "keras_mnist", "house_mlp", "worked_example", "resnet18",
             "mobilenet_v2_shapes", "se_net_shapes")}
PROJECTS["branches"] = branching_project
PROJECTS["keywords"] = keyword_project
PROJECTS["modern"] = modern_project


@pytest.mark.parametrize("key", list(PROJECTS))
def test_exported_class_matches_graph_module(key, tmp_path):
    project = PROJECTS[key]()
    analysis = analyze(project.graph)
    reference = build_model(project.graph)
    torch.manual_seed(1)
    reference.load_state_dict(randomized_state(reference))
    reference.eval()
    path = export_pytorch(project, tmp_path / f"{key}.py")[0]
    module = load_module(path, f"exported_{key}")
    cls = next(v for v in vars(module).values()
               if isinstance(v, type) and issubclass(v, torch.nn.Module)
               and v.__module__ == module.__name__ and v.__name__ not in CUSTOM)
    exported = cls()
    # the parameter count equals `layerlab summary`
    assert sum(p.numel() for p in exported.parameters()) == analysis.total_params
    # the state-dict keys map one to one, both ways
    converted = module.from_layerlab_state_dict(reference.state_dict())
    assert set(converted) == set(exported.state_dict())
    assert converted.keys() == to_module_keys(project.graph, reference.state_dict()).keys()
    assert set(to_graph_keys(project.graph, converted)) == set(reference.state_dict())
    exported.load_state_dict(converted)
    exported.eval()
    x = torch.randn(2, *module.INPUT_SHAPE)
    with torch.no_grad():
        expected, got = reference(x), exported(x)
    assert tuple(got.shape[1:]) == analysis.output_shape
    assert torch.allclose(got, expected, atol=1e-6, rtol=0)


def test_keyword_ids_become_valid_names():
    code = generate_pytorch_code(keyword_project())
    tree = ast.parse(code)  # valid Python despite ids like class / None / lambda
    assert "class Class(nn.Module):" in code
    assert "self.class_ = nn.Conv2d" in code and "self.None_ = nn.BatchNorm2d(4)" in code
    assert "self.torch = nn.Conv2d" in code  # fine as an attribute
    model_class = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Class")
    forward = next(n for n in model_class.body if getattr(n, "name", "") == "forward")
    # the input is reused by nothing but the chain, so it is x; the ReLU's output is read
    # three times and gets a name that does not shadow the chain variable x
    assert [a.arg for a in forward.args.args] == ["self", "x"]
    assert "x_ = self.x(x)" in code and "lambda_ = self.lambda_(x_)" in code
    assert "x = self.torch(x_)" in code and "x = self.nn(lambda_, x, x_)" in code


def test_keyword_ids_are_suffixed(tmp_path):
    project = module_attribute_project()
    code = generate_pytorch_code(project)
    assert "self.class__ = nn.Conv2d(1, 4" in code  # node class (class_ is taken)
    assert "self.class_ = nn.Conv2d(4, 4" in code  # node class_
    assert "self.lambda_ = nn.BatchNorm2d(4)" in code and "self.import_ = nn.Conv2d" in code
    assert "self.def_ = Add()" in code and "self.yield_ = nn.Linear(256, 3)" in code
    assert "'class': 'class__'," in code  # the key converter knows the renames
    path = tmp_path / "names.py"
    path.write_text(code)
    module = load_module(path, "exported_names")
    model = module.ModuleNames().eval()
    assert sum(p.numel() for p in model.parameters()) == analyze(project.graph).total_params
    assert model(torch.randn(2, 1, 8, 8)).shape == (2, 3)
    # the engine builds the same graph, and its weights load into the exported module
    built = build_model(project.graph).eval()
    graph_state = built.state_dict()
    converted = module.from_layerlab_state_dict(graph_state)
    assert converted.keys() == model.state_dict().keys()
    assert to_module_keys(project.graph, graph_state).keys() == converted.keys()
    assert to_graph_keys(project.graph, converted).keys() == graph_state.keys()
    model.load_state_dict(converted)
    x = torch.randn(2, 1, 8, 8)
    assert torch.allclose(model(x), built(x), atol=1e-6)


def test_generated_file_reads_like_hand_written_code():
    code = generate_pytorch_code(load_template("resnet18"))
    assert "class ResNet18(nn.Module):" in code
    assert "self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)" in code
    assert "class Add(nn.Module):" in code and "class Concat" not in code
    # the docstring's table carries shapes and parameters; forward comments carry shapes
    assert "l4b1_add      Add                512×7×7" in code
    assert "Total parameters: 11,689,512" in code
    assert "x = self.l1b0_add(x, maxpool)" in code and "# 64×56×56" in code
    assert "layerlab" not in [n.split(".")[0] for n in _imports(code)]


def test_docstring_survives_quotes_and_backslashes():
    code = generate_pytorch_code(branching_project())
    module_doc = ast.get_docstring(ast.parse(code))
    assert 'A """tricky""" description \\ with quotes.' in module_doc
    assert "class Concat(nn.Module):" in code and "class LayerZooBranches(nn.Module):" in code


def _imports(code):
    names = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append(node.module)
    return names


def test_file_runs_standalone_with_its_weights(tmp_path):
    project = load_template("lenet5")
    reference = build_model(project.graph)
    state = randomized_state(reference, seed=3)
    weights = save_weights(state, tmp_path / "trained.safetensors")
    written = export_pytorch(project, tmp_path / "lenet.py", weights=weights)
    assert [p.name for p in written] == ["lenet.py", "lenet.pt"]
    assert set(_imports(written[0].read_text())) <= {"pathlib", "torch"}
    result = subprocess.run([sys.executable, "-I", str(written[0])], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "loaded weights from lenet.pt" in result.stdout
    assert "LeNet5: 61,706 parameters" in result.stdout
    assert "-> output (1, 10)" in result.stdout
    # the .pt beside it holds the trained values under the exported class's keys
    saved = torch.load(written[1], weights_only=True)
    assert torch.equal(saved["fc3.bias"], state["layers.fc3.bias"])


def test_cli_writes_a_runnable_file(tmp_path, capsys):
    out = tmp_path / "model.py"
    assert main(["export", "keras_mnist", "--format", "pytorch", "-o", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    result = subprocess.run([sys.executable, "-I", str(out)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "KerasMNISTConvnet: 34,826 parameters" in result.stdout
    assert "-> output (1, 10)" in result.stdout


def test_weights_that_do_not_fit_are_refused(tmp_path, capsys):
    project = load_template("house_mlp")
    state = build_model(project.graph).state_dict()
    state["layers.fc1.weight"] = torch.zeros(3, 3)
    del state["layers.price.bias"]
    with pytest.raises(ExportError) as err:
        export_pytorch(project, tmp_path / "m.py", weights=state)
    assert "layers.price.bias" in str(err.value) and "layers.fc1.weight is (3, 3)" in str(err.value)
    assert not (tmp_path / "m.py").exists()
    save_weights(state, tmp_path / "bad.safetensors")
    assert main(["export", "house_mlp", "-o", str(tmp_path / "m.py"),
                 "--weights", str(tmp_path / "bad.safetensors")]) == 1
    assert "do not fit" in capsys.readouterr().err


def test_graph_with_problems_is_not_exported(tmp_path):
    project = load_template("lenet5")
    project.graph.remove_node("flatten")
    with pytest.raises(ExportError, match="fix them before exporting"):
        export_pytorch(project, tmp_path / "m.py")
