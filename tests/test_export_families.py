"""ONNX import of every torchvision classifier family (issue 14), from small equivalents of
their characteristic blocks (tests/torch_families.py) with random weights and BatchNorm
statistics, exported the two ways people do: ``torch.onnx.export(..., dynamo=False)`` (the
TorchScript exporter) and ``torch.onnx.export`` at its defaults (torch.export, optimized).

The original file runs in onnxruntime; the imported project must give the same outputs to 1e-4
relative, in torch and — exported again with its imported weights — in onnxruntime."""
import contextlib
import io
import logging
import warnings

import numpy as np
import pytest
import torch

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from layerlab.engine.builder import build_model  # noqa: E402
from layerlab.engine.export import OnnxImportError, export_onnx, import_onnx  # noqa: E402
from layerlab.engine.inference import analyze  # noqa: E402

from torch_families import FAMILIES, make  # noqa: E402

torch.set_num_threads(1)
#: The families whose default (torch.export) export runs in the quick suite; all run as `slow`.
QUICK_DYNAMO = ("efficientnet",)
#: Families whose import runs through `layerlab export` and onnxruntime again in the quick suite.
QUICK_ROUND_TRIP = ("shufflenet_v2",)


@contextlib.contextmanager
def quiet():
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            logger.setLevel(level)


def export(model, path, dynamo: bool):
    x = torch.randn(1, 3, 32, 32)
    with quiet():
        if dynamo:
            torch.onnx.export(model, (x,), str(path))
        else:
            torch.onnx.export(model, (x,), str(path), dynamo=False)
    return path


def run_file(path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def assert_close(got: np.ndarray, expected: np.ndarray) -> None:
    assert got.shape == expected.shape
    scale = max(1.0, float(np.abs(expected).max()))
    assert float(np.abs(got - expected).max()) <= 1e-4 * scale


def check_import(path, tmp_path, round_trip: bool):
    project, state = import_onnx(path)
    analysis = analyze(project.graph)
    assert analysis.ok, analysis.messages()
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)
    expected = run_file(path, x)
    net = build_model(project.graph)
    net.load_state_dict(state)  # strict: every key, every shape
    with torch.no_grad():
        assert_close(net.eval()(torch.from_numpy(x)).numpy(), expected)
    if round_trip:  # layerlab import → layerlab export --weights → onnxruntime
        again = export_onnx(project, tmp_path / "again.onnx", weights=state)[0]
        assert_close(run_file(again, x), expected)
    return project


def _cases(quick):
    return [pytest.param(name, marks=() if name in quick else pytest.mark.slow)
            for name in FAMILIES]


@pytest.mark.parametrize("family", list(FAMILIES))
def test_torchscript_export_imports_with_equal_outputs(family, tmp_path):
    path = export(make(family), tmp_path / f"{family}.onnx", dynamo=False)
    project = check_import(path, tmp_path, round_trip=family in QUICK_ROUND_TRIP)
    types = {n.type for n in project.graph.nodes.values()}
    expected_types = {
        "resnet": {"Add", "MaxPool2d"}, "resnext": {"Conv2d", "Add"},
        "squeezenet": {"Concat", "MaxPool2d"}, "densenet": {"Concat", "BatchNorm2d"},
        "googlenet": {"Concat"}, "mobilenet_v2": {"ReLU6", "Add"},
        "mobilenet_v3": {"Hardswish", "Hardsigmoid", "Multiply"},
        "efficientnet": {"SiLU", "Sigmoid", "Multiply"},
        "shufflenet_v2": {"Narrow", "ChannelShuffle", "Concat"},
        "regnet": {"Multiply", "Sigmoid", "Add"}, "mnasnet": {"AdaptiveAvgPool2d", "Flatten"},
    }.get(family, set())
    assert expected_types <= types, types


@pytest.mark.parametrize("family", _cases(QUICK_DYNAMO))
def test_default_export_imports_with_equal_outputs(family, tmp_path):
    path = export(make(family), tmp_path / f"{family}.onnx", dynamo=True)
    check_import(path, tmp_path, round_trip=True)


@pytest.mark.slow
@pytest.mark.parametrize("family", [f for f in FAMILIES if f not in QUICK_ROUND_TRIP])
def test_every_torchscript_import_exports_again_with_equal_outputs(family, tmp_path):
    path = export(make(family), tmp_path / f"{family}.onnx", dynamo=False)
    check_import(path, tmp_path, round_trip=True)


def test_imported_names_follow_the_module_paths(tmp_path):
    path = export(make("resnet"), tmp_path / "resnet.onnx", dynamo=False)
    project, _ = import_onnx(path)
    ids = set(project.graph.nodes)
    assert {"conv1", "maxpool", "layer1_0_conv1", "layer1_0_conv2", "layer2_0_downsample_0",
            "fc"} <= ids, sorted(ids)
    path = export(make("shufflenet_v2"), tmp_path / "shuffle.onnx", dynamo=False)
    project, _ = import_onnx(path)
    assert any(i.startswith("stage2_1") for i in project.graph.nodes), sorted(project.graph.nodes)


def test_what_cannot_be_mapped_is_named(tmp_path):
    class Odd(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3)
            self.fc = torch.nn.Linear(4, 2)

        def forward(self, x):
            x = torch.sin(self.conv(x))            # no layer computes a sine
            x = x[:, :, ::2, ::2]                  # a strided crop
            return self.fc(x.amax(dim=(2, 3)))

    path = export(Odd().eval(), tmp_path / "odd.onnx", dynamo=False)
    with pytest.raises(OnnxImportError) as err:
        import_onnx(path)
    text = str(err.value)
    assert "Sin ×1 (/Sin)" in text, text
    assert err.value.unsupported["Sin"] == 1
