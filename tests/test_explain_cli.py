"""``layerlab explain`` on a digits project trained for real: the documented JSON contract,
checked against the built torch module, the worked text, and every error as a message."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

from explain_helpers import one_thread, random_weights, trained_digits  # noqa: F401
from layerlab.engine import save_project
from layerlab.engine.builder import build_model
from layerlab.engine.cli import main
from layerlab.engine.export.weights import apply_weights, load_weights
from layerlab.engine.graph import Edge, Node
from layerlab.engine.locations import open_project, trained_weights


def run_json(capsys, *args) -> dict:
    assert main(["explain", *map(str, args), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def torch_outputs(project_path, x) -> dict:
    """Every node's output, from a model built and loaded here, independently of explain."""
    opened = open_project(project_path)
    model = build_model(opened.project.graph)
    apply_weights(model, load_weights(trained_weights(opened)))
    model.eval()
    with torch.no_grad():
        return {k: v[0].double().numpy() for k, v in
                model.forward_all(torch.tensor(x, dtype=torch.float32)[None]).items()}


def rel_close(a, b, scale=0.0):
    return abs(a - b) <= 1e-5 * max(abs(a), abs(b)) + 1e-6 * scale


def test_conv_json_has_the_window_kernel_products_sum_and_bias(trained_digits, capsys):
    path, _ = trained_digits
    data = run_json(capsys, path, "--node", "conv1", "--index", "3,0,5", "--sample", 2)
    assert data["node"] == "conv1" and data["type"] == "Conv2d" and data["index"] == [3, 0, 5]
    x = np.array(data["input"])
    assert x.shape == (1, 8, 8)
    out = torch_outputs(path, x)
    assert rel_close(data["value"], out["conv1"][3, 0, 5])
    window, kernel = np.array(data["window"]), np.array(data["kernel"])
    assert window.shape == kernel.shape == (1, 3, 3)          # [in_channels/groups, kh, kw]
    assert np.all(window[:, 0, :] == 0)                      # row −1 is padding: zeros
    np.testing.assert_allclose(window[0, 1:, :], x[0, 0:2, 4:7], rtol=1e-6)
    np.testing.assert_allclose(np.array(data["products"]), window * kernel, rtol=1e-6)
    assert rel_close(data["sum"] + data["bias"], data["value"],
                     np.abs(data["products"]).sum())
    assert data["activation"]["node"] == "relu1"
    assert rel_close(data["activation"]["output"], out["relu1"][3, 0, 5])
    assert data["split"] == "val" and data["sample"] == 2 and data["label"].startswith("class")
    assert data["input_normalization"]["mode"] in ("standardize", "unit")


def test_pool_linear_and_the_training_split(trained_digits, capsys):
    path, _ = trained_digits
    pool = run_json(capsys, path, "--node", "pool2", "--index", "5,1,0", "--split", "train",
                    "--sample", 7)
    assert pool["op"] == "max" and pool["split"] == "train"
    out = torch_outputs(path, np.array(pool["input"]))
    assert rel_close(pool["value"], out["pool2"][5, 1, 0])
    assert max(v for row in pool["window"] for v in row) == pool["value"]
    fc = run_json(capsys, path, "--node", "fc2", "--index", "4")
    out = torch_outputs(path, np.array(fc["input"]))
    assert rel_close(fc["value"], out["fc2"][4])
    np.testing.assert_allclose(fc["inputs"], out["dropout"], rtol=1e-6)
    np.testing.assert_allclose(fc["products"], np.multiply(fc["inputs"], fc["weights"]))
    assert rel_close(fc["sum"] + fc["bias"], fc["value"], np.abs(fc["products"]).sum())


def test_softmax_json_with_weights_from_a_file(trained_digits, capsys, tmp_path):
    path, project = trained_digits
    with_softmax = project.copy()
    with_softmax.graph.add_node(Node("probs", "Softmax", {}))
    with_softmax.graph.add_edge(Edge("fc2", "probs"))
    other = tmp_path / "probs.json"
    save_project(with_softmax, other)
    weights = trained_weights(open_project(path))
    data = run_json(capsys, other, "--node", "probs", "--index", "3", "--weights", weights)
    logits = np.array(data["logits"])
    np.testing.assert_allclose(data["exp"], np.exp(logits), rtol=1e-9)
    assert data["sum_exp"] == pytest.approx(np.exp(logits).sum())
    assert rel_close(data["value"], np.exp(logits[3]) / np.exp(logits).sum())
    out = torch_outputs(path, np.array(data["input"]))
    np.testing.assert_allclose(logits, out["fc2"], rtol=1e-6)


def test_the_text_writes_out_the_arithmetic(trained_digits, capsys):
    path, _ = trained_digits
    assert main(["explain", str(path), "--node", "conv2", "--index", "0,1,1"]) == 0
    text = capsys.readouterr().out
    assert "conv2 (Conv2d) output [0, 1, 1] =" in text
    assert "sum of the 144 products =" in text and "+ bias" in text
    assert "input channels 3…15: 13 more channel sums" in text
    assert "then relu2 (ReLU): max(0," in text


@pytest.mark.parametrize("args,words", [
    (["--node", "conv9", "--index", "0"], "no node 'conv9'"),
    (["--node", "conv1", "--index", "16,0,0"], "0 ≤ channel < 16, 0 ≤ row < 8"),
    (["--node", "fc2", "--index", "1,2"], "give one index, 0 ≤ feature < 10"),
    (["--node", "conv1", "--index", "a,b"], "whole numbers separated by commas"),
    (["--node", "conv1", "--index", "0,0,0", "--sample", "100000"],
     "no validation sample 100000.*0…"),
    (["--node", "conv1", "--index", "0,0,0", "--weights", "missing.safetensors"],
     "does not exist"),
])
def test_mistakes_are_messages_not_tracebacks(trained_digits, capsys, args, words):
    path, _ = trained_digits
    assert main(["explain", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert __import__("re").search(words, err), err


def test_an_untrained_project_says_its_layers_are_random_and_how_to_train(tmp_path, capsys,
                                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["explain", "digits_cnn", "--node", "conv1", "--index", "0,0,0"]) == 2
    err = capsys.readouterr().err
    assert "no trained weights" in err and "random" in err
    assert "layerlab train digits_cnn" in err and "--weights" in err


def test_weights_that_do_not_fit_the_graph_are_explained(trained_digits, capsys, tmp_path):
    path, project = trained_digits
    changed = project.copy()
    changed.graph.node("conv1").params["out_channels"] = 8
    other = tmp_path / "changed.json"
    save_project(changed, other)
    weights = trained_weights(open_project(path))
    assert main(["explain", str(other), "--node", "conv1", "--index", "0,0,0", "--weights",
                 str(weights)]) == 2
    assert "do not fit this graph" in capsys.readouterr().err


def test_a_table_networks_first_linear_names_its_inputs(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    weights = random_weights("house_mlp", tmp_path / "w.safetensors")
    assert main(["explain", "house_mlp", "--weights", str(weights), "--node", "fc1",
                 "--index", "3"]) == 0
    text = capsys.readouterr().out
    assert "(price = " in text and "input 0 (size_m2):" in text
    data = run_json(capsys, "house_mlp", "--weights", weights, "--node", "fc1", "--index", 3)
    assert data["input_names"] == ["size_m2", "stories", "distance_to_school_km"]
    assert len(data["input"]) == 3 and data["inputs"] == data["input"]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_any_weights_file_that_is_not_weights_is_a_message(tmp_path, capsys, content):
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(content)
    assert main(["explain", "digits_cnn", "--weights", str(weights), "--node", "conv1",
                 "--index", "0,0,0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "w.safetensors" in err


def test_a_dataset_that_does_not_fit_the_network_is_a_message(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from layerlab.engine.templates import load_template
    project = load_template("worked_example")     # 3×256×256, 10 classes …
    project.dataset = {"kind": "digits"}           # … on 1×8×8 digits
    save_project(project, tmp_path / "misfit.json")
    weights = random_weights("worked_example", tmp_path / "w.safetensors")
    assert main(["explain", str(tmp_path / "misfit.json"), "--weights", str(weights),
                 "--node", "conv1", "--index", "0,0,0"]) == 2
    assert "dataset does not fit its network" in capsys.readouterr().err
