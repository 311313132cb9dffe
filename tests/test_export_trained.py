"""Export uses what was trained (issue 9): the trained weights beside a project by default (and
says which file), --no-weights for random ones; an ONNX file takes samples as the dataset's
files store them — the normalization is inside the graph, class names and layout in its
metadata — so a trained digits model classifies raw 0–16 pixel arrays in onnxruntime exactly as
well as LayerLab's own evaluation."""
import json
import shutil

import numpy as np
import pytest
import torch

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from layerlab.engine.builder import build_model  # noqa: E402
from layerlab.engine.cli import main  # noqa: E402
from layerlab.engine.data import load_dataset  # noqa: E402
from layerlab.engine.data.digits import digits_file, read_digits_csv  # noqa: E402
from layerlab.engine.data.kinds import resolve_spec  # noqa: E402
from layerlab.engine.data.spec import common_options  # noqa: E402
from layerlab.engine.data.splits import split_indices  # noqa: E402
from layerlab.engine.export import import_onnx  # noqa: E402
from layerlab.engine.export.project_export import export_project  # noqa: E402
from layerlab.engine.export.weights import load_weights  # noqa: E402
from layerlab.engine.locations import open_project  # noqa: E402
from layerlab.engine.project import load_project  # noqa: E402
from layerlab.engine.templates import template_path  # noqa: E402


@pytest.fixture(scope="module")
def trained_digits(tmp_path_factory):
    """digits_cnn trained for 3 seeded epochs with `layerlab train`, beside its project file."""
    folder = tmp_path_factory.mktemp("digits")
    project = folder / "digits.json"
    shutil.copy(template_path("digits_cnn"), project)
    metrics = folder / "metrics.json"
    assert main(["train", str(project), "--epochs", "3", "--seed", "0",
                 "--metrics-json", str(metrics)]) == 0
    return project, json.loads(metrics.read_text())


def raw_validation_digits(project_path):
    """The validation split as the file stores it: 8×8 pixel values 0..16, and the labels."""
    spec = load_project(project_path).dataset
    kind, values = resolve_spec(spec)
    common = common_options(kind.name, values)
    images, labels = read_digits_csv(digits_file())
    _, val = split_indices(len(images), common.val_fraction, common.seed, common.limit)
    return images[val][:, None].astype(np.float32), labels[val]


def test_raw_digits_classify_in_onnxruntime_as_in_the_engine(trained_digits, tmp_path, capsys):
    project_path, metrics = trained_digits
    capsys.readouterr()
    out = tmp_path / "digits.onnx"
    assert main(["export", str(project_path), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    weights = project_path.parent / "digits-run" / "checkpoint" / "weights.safetensors"
    assert f"using the trained weights in {weights}" in printed
    assert "pixel values as the dataset stores them (0 to 16)" in printed

    x, y = raw_validation_digits(project_path)
    assert x.max() == 16 and x.min() == 0 and np.all(x == np.round(x))
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    predicted = session.run(None, {"input": x})[0].argmax(axis=1)
    onnx_accuracy = float((predicted == y).mean())

    # the engine's own evaluation: the trainer's final validation accuracy, and the model on
    # the normalized validation split
    engine_accuracy = metrics["final"]["val_acc"]
    dataset = load_dataset(load_project(project_path).dataset)
    model = build_model(load_project(project_path).graph)
    model.load_state_dict(load_weights(weights))
    with torch.no_grad():
        engine_predicted = model.eval()(dataset.x_val).argmax(dim=1).numpy()
    assert np.array_equal(dataset.y_val.numpy(), y)          # the same samples, same order
    assert np.array_equal(engine_predicted, predicted)       # every sample classified the same
    assert onnx_accuracy == pytest.approx(engine_accuracy, abs=1e-9)
    assert onnx_accuracy > 0.85


def test_the_file_says_what_it_takes_and_predicts(trained_digits, tmp_path):
    project_path, _ = trained_digits
    result = export_project(project_path, tmp_path / "d.onnx")
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "d.onnx")).metadata_props}
    assert json.loads(meta["class_names"]) == [str(d) for d in range(10)]
    assert meta["input_layout"] == "NCHW" and json.loads(meta["input_shape"]) == [1, 8, 8]
    assert "0 to 16" in meta["input_range"] and meta["task"] == "classification"
    norm = json.loads(meta["normalization"])
    assert norm["mode"] == "standardize" and norm["stored_scale"] == 1 / 16
    assert result.weights_source == "trained" and result.preprocessing.class_names[3] == "3"
    # LayerLab's own import drops the normalization again: the same graph comes back
    imported, state = import_onnx(tmp_path / "d.onnx")
    assert [n.type for n in imported.graph.nodes.values()] == [
        n.type for n in load_project(project_path).graph.nodes.values() if n.type != "Dropout"]


def test_no_weights_and_missing_weights_say_so(trained_digits, tmp_path, capsys):
    project_path, _ = trained_digits
    capsys.readouterr()
    assert main(["export", str(project_path), "-o", str(tmp_path / "r.onnx"),
                 "--no-weights"]) == 0
    captured = capsys.readouterr()
    assert "exporting random initial weights, as asked" in captured.err
    assert "using the trained weights" not in captured.out
    x, _ = raw_validation_digits(project_path)
    trained = tmp_path / "t.onnx"
    export_project(project_path, trained)
    run = lambda p: ort.InferenceSession(str(p)).run(None, {"input": x[:5]})[0]  # noqa: E731
    assert not np.allclose(run(tmp_path / "r.onnx"), run(trained))

    fresh = tmp_path / "fresh.json"
    shutil.copy(template_path("digits_cnn"), fresh)
    assert main(["export", str(fresh), "-o", str(tmp_path / "f.py")]) == 0
    err = capsys.readouterr().err
    assert "no trained weights beside fresh.json" in err and "random initial values" in err


def test_pytorch_export_uses_the_trained_weights_too(trained_digits, tmp_path, capsys):
    project_path, _ = trained_digits
    capsys.readouterr()
    assert main(["export", str(project_path), "-o", str(tmp_path / "d.py")]) == 0
    assert "using the trained weights" in capsys.readouterr().out
    saved = torch.load(tmp_path / "d.pt", weights_only=True)
    trained = load_weights(project_path.parent / "digits-run" / "checkpoint"
                           / "weights.safetensors")
    assert torch.equal(saved["conv1.weight"], trained["layers.conv1.weight"])


def test_a_templates_run_folder_in_the_current_folder_is_found(trained_digits, tmp_path,
                                                               monkeypatch):
    project_path, _ = trained_digits
    monkeypatch.chdir(tmp_path)
    shutil.copytree(project_path.parent / "digits-run", tmp_path / "digits_cnn-run")
    result = export_project("digits_cnn", tmp_path / "t.onnx")
    assert result.weights == tmp_path / "digits_cnn-run" / "checkpoint" / "weights.safetensors"


def test_regression_outputs_come_out_in_real_units(tmp_path):
    result = export_project("house_mlp", tmp_path / "house.onnx", weights=None, verify=True)
    assert result.max_difference <= 1e-4
    prep = result.preprocessing
    assert prep.task == "regression" and prep.output_scale and prep.layout == "NF"
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "house.onnx")).metadata_props}
    assert "price" in meta["output"] and json.loads(meta["class_names"]) == []


def test_the_window_api_exports_unsaved_edits_with_the_trained_weights(trained_digits, tmp_path):
    project_path, _ = trained_digits
    opened = open_project(project_path)
    edited = load_project(project_path)
    edited.name = "Edited in the window"
    result = export_project(opened, tmp_path / "w.onnx", project=edited)
    assert result.weights is not None and onnx.load(str(tmp_path / "w.onnx")).graph.name == \
        "Edited in the window"
    assert any("using the trained weights" in line for line in result.messages())
