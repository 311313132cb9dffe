"""``layerlab saliency`` on a digits project trained for real: JSON, the text map, the PNG."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from explain_helpers import one_thread, random_weights, trained_digits  # noqa: F401
from layerlab.engine.builder import build_model
from layerlab.engine.cli import main
from layerlab.engine.export.weights import apply_weights, load_weights
from layerlab.engine.locations import open_project, trained_weights


def run_json(capsys, *args) -> dict:
    assert main(["saliency", *map(str, args), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_grad_cam_json_is_at_the_last_conv_size_and_peaks_at_one(trained_digits, capsys):
    path, _ = trained_digits
    data = run_json(capsys, path, "--sample", 4)
    heat = np.array(data["heatmap"])
    assert data["method"] == "gradcam" and data["node"] == "conv2"
    assert heat.shape == (4, 4) and heat.min() >= 0 and heat.max() == pytest.approx(1.0)
    # The default class is the network's answer, from a model loaded independently here.
    opened = open_project(path)
    model = build_model(opened.project.graph)
    apply_weights(model, load_weights(trained_weights(opened)))
    with torch.no_grad():
        out = model.eval()(torch.tensor(data["input"], dtype=torch.float32)[None])[0]
    assert data["class"] == data["predicted"] == int(out.argmax())
    assert data["class_name"] == str(data["class"])


def test_gradient_json_is_at_the_input_size_and_a_class_can_be_chosen(trained_digits, capsys):
    path, _ = trained_digits
    data = run_json(capsys, path, "--method", "gradient", "--class", 7, "--sample", 1)
    assert data["class"] == 7 and data["node"] is None
    assert np.array(data["heatmap"]).shape == (8, 8)
    other = run_json(capsys, path, "--node", "conv1", "--class", 7, "--sample", 1)
    assert np.array(other["heatmap"]).shape == (8, 8) and other["node"] == "conv1"


def test_the_text_map_and_the_png_overlay(trained_digits, capsys, tmp_path):
    path, _ = trained_digits
    out = tmp_path / "heat.png"
    assert main(["saliency", str(path), "--sample", "3", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Grad-CAM on conv2's 4×4 maps" in text and f"wrote {out}" in text
    assert "1.00" in text
    image = Image.open(out)
    assert image.size == (2 * 256 + 8, 256) and image.mode == "RGB"
    pixels = np.asarray(image)
    left, right = pixels[:, :256], pixels[:, 264:]
    assert not np.array_equal(left, right)          # the heat is drawn over the right half


@pytest.mark.parametrize("args,words", [
    (["--class", "10"], "class 10 does not exist"),
    (["--node", "fc1"], "fc1's output is 64"),
    (["--method", "gradient", "--node", "conv1"], "--node is for Grad-CAM"),
    (["--sample", "-1"], "no validation sample -1"),
    (["--out", "/no/such/folder/heat.png"], "cannot write"),
])
def test_mistakes_are_messages(trained_digits, capsys, args, words):
    path, _ = trained_digits
    assert main(["saliency", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and words in err and "Traceback" not in err


def test_a_table_network_gets_gradient_saliency_per_feature(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    weights = random_weights("house_mlp", tmp_path / "w.safetensors")
    assert main(["saliency", "house_mlp", "--weights", str(weights)]) == 2
    assert "no Conv2d" in capsys.readouterr().err
    data = run_json(capsys, "house_mlp", "--weights", weights, "--method", "gradient")
    assert np.array(data["heatmap"]).shape == (3,) and data["class"] == 0
    assert len(data["input"]) == 3
    assert main(["saliency", "house_mlp", "--weights", str(weights), "--method",
                 "gradient"]) == 0
    text = capsys.readouterr().out
    assert "price = " in text                                    # the label in real units
    assert "explaining the prediction of price" in text and "in the column's units" in text
    assert sum(line.startswith("   ") for line in text.splitlines()) == 3  # one per feature
    assert main(["saliency", "house_mlp", "--weights", str(weights), "--method", "gradient",
                 "--out", str(tmp_path / "h.png")]) == 2
    assert "needs an image input" in capsys.readouterr().err
