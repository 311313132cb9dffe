"""Built-in kinds (digits, shapes), the common spec keys, normalization and check_fits."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from layerlab.engine.data import (DATASET_KINDS, Dataset, DatasetError, check_fits, describe,
                                  load_dataset)
from layerlab.engine.data.shapes import CLASS_NAMES as SHAPE_NAMES, generate_shapes

ENGINE_DATA = Path(__file__).resolve().parents[1] / "engine" / "data"


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset({"kind": "digits"})


def small_shapes(**extra) -> Dataset:
    return load_dataset({"kind": "shapes", "count": 300, "size": 16, **extra})


def test_digits_shapes_types_and_split(digits):
    assert digits.task == "classification"
    assert digits.class_names == [str(d) for d in range(10)]
    assert digits.num_classes == 10 and digits.num_outputs == 10
    assert digits.input_shape == (1, 8, 8)
    assert digits.x_train.dtype == torch.float32 and digits.y_train.dtype == torch.int64
    assert len(digits.x_train) + len(digits.x_val) == 1797
    assert len(digits.x_val) == round(1797 * 0.2)
    assert set(digits.y_train.tolist()) == set(range(10))
    assert "1,797" in digits.source


def test_default_kind_is_digits():
    ds = load_dataset({"limit": 40})
    assert ds.name == "digits" and len(ds.x_train) + len(ds.x_val) == 40


def test_standardized_train_set_has_zero_mean_unit_std(digits):
    assert digits.normalization["mode"] == "standardize"
    assert abs(digits.x_train.mean().item()) < 1e-4
    assert abs(digits.x_train.std().item() - 1.0) < 1e-3
    rgb = small_shapes(channels=3)
    per_channel = rgb.x_train.transpose(0, 1).reshape(3, -1)
    assert torch.allclose(per_channel.mean(1), torch.zeros(3), atol=1e-4)
    assert torch.allclose(per_channel.std(1), torch.ones(3), atol=1e-3)
    assert len(rgb.normalization["mean"]) == 3


def test_unit_mode_keeps_0_to_1_and_normalize_input_matches():
    unit = small_shapes(normalize="unit")
    std = small_shapes()
    assert unit.normalization == {"mode": "unit"}
    assert unit.x_train.min() >= 0 and unit.x_train.max() <= 1
    # Same seed, same split: standardizing the raw (unit) samples must give the loaded tensors.
    mapped = std.normalize_input(unit.x_val.numpy())
    np.testing.assert_allclose(mapped, std.x_val.numpy(), atol=1e-5)
    one = std.normalize_input(unit.x_val[0].numpy())
    assert one.shape == (1, 16, 16) and one.dtype == np.float32
    with pytest.raises(DatasetError, match=r"\[1, 16, 16\]"):
        std.normalize_input(np.zeros((16, 16)))


def test_split_is_deterministic_by_seed(digits):
    again = load_dataset({"kind": "digits"})
    assert torch.equal(again.x_train, digits.x_train) and torch.equal(again.y_val, digits.y_val)
    other = load_dataset({"kind": "digits", "seed": 1})
    assert not torch.equal(other.y_val, digits.y_val)


def test_val_fraction_and_limit():
    ds = load_dataset({"kind": "digits", "val_fraction": 0.5, "limit": 100})
    assert (len(ds.x_train), len(ds.x_val)) == (50, 50)


def test_shapes_deterministic_and_seed_dependent():
    a, b = small_shapes(seed=3), small_shapes(seed=3)
    c = small_shapes(seed=4)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_train, b.y_train)
    assert not torch.equal(a.x_train, c.x_train)
    assert a.class_names == ["circle", "square", "triangle", "horizontal bar", "vertical bar",
                             "diagonal bar"]


def test_shapes_generator_draws_distinct_classes():
    x, y = generate_shapes(600, 28, 1, 0.0, seed=0)
    assert x.shape == (600, 1, 28, 28) and x.dtype == np.float32
    assert np.bincount(y).tolist() == [100] * len(SHAPE_NAMES)      # balanced
    assert x.min() >= 0 and x.max() <= 1
    assert (x.reshape(600, -1).max(axis=1) > 0.5).all()               # every image has a shape
    # Without noise, bars are thin: far fewer lit pixels than the filled circle/square.
    lit = (x > 0).reshape(600, -1).sum(axis=1)
    assert lit[y == 3].mean() < 0.6 * lit[y == 0].mean()
    # Horizontal bars are wider than tall, vertical ones taller than wide.
    rows = (x[y == 3, 0] > 0).any(axis=2).sum(axis=1)
    cols = (x[y == 3, 0] > 0).any(axis=1).sum(axis=1)
    assert (cols > rows).all()


def test_shapes_rgb():
    # (No timed assertion: on a shared CI machine it would be flaky. 3,000 images take well
    # under a second here.)
    x, _ = generate_shapes(3000, 28, 3, 0.1, seed=0)
    assert x.shape == (3000, 3, 28, 28)
    # Colored shapes: channels differ within an image.
    assert not np.allclose(x[:, 0], x[:, 1])


@pytest.mark.parametrize("spec, fragment", [
    ({"kind": "mnist"}, "known kinds: digits, shapes, csv, image_folder, mnist_idx, cifar10"),
    ({"kind": ["digits"]}, "unknown dataset kind ['digits']"),
    ({"val_fraction": 1.0}, "dataset.val_fraction"),
    ({"val_fraction": "0.2"}, "dataset.val_fraction must be a number"),
    ({"seed": -1}, "dataset.seed"),
    ({"normalize": "zscore"}, "'standardize', 'unit'"),
    ({"limit": 1}, "dataset.limit must be at least 2"),
    ({"augment": {"shift": -1}}, "dataset.augment.shift"),
    ({"augment": {"flip": "yes"}}, "dataset.augment.flip"),
    ({"kind": "shapes", "channels": 2}, "dataset.channels"),
    ({"kind": "shapes", "size": True}, "dataset.size must be a whole number"),
    ({"kind": "csv", "path": "nowhere/x.csv", "target": "y"}, "'nowhere/x.csv' not found"),
    (["digits"], "must be a JSON object"),
])
def test_bad_specs_name_the_field(spec, fragment):
    with pytest.raises(DatasetError) as info:
        load_dataset(spec)
    assert fragment in str(info.value)


def test_check_fits_messages(digits):
    assert check_fits(digits, (1, 8, 8)) is None
    assert check_fits(digits, [1, 8, 8]) is None
    assert check_fits(digits, (1, 28, 28)) == (
        "the dataset gives 1×8×8 images but the Input node expects 1×28×28 — "
        "set the Input shape to [1, 8, 8]")
    assert "set the Input shape to [1, 8, 8]" in check_fits(digits, (64,))
    assert "not a list of whole numbers" in check_fits(digits, None)


def test_describe_is_one_line_and_never_raises():
    assert describe({"kind": "digits"}) == \
        "digits: scikit-learn 8×8 handwritten digits · 20% validation · seed 0"
    line = describe({"kind": "shapes", "channels": 3, "limit": 500,
                     "augment": {"flip": True, "shift": 2}})
    assert "color" in line and "first 500" in line and "flip, shift 2" in line
    assert "\n" not in line
    assert "invalid" in describe({"kind": "nope"})
    assert "invalid" in describe({"kind": "csv", "path": "a.csv"})   # no target
    assert set(DATASET_KINDS) == {"digits", "shapes", "csv", "image_folder", "mnist_idx",
                                  "cifar10"}
    assert all(isinstance(v, str) and v for v in DATASET_KINDS.values())


def test_engine_data_never_imports_qt():
    banned = ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "superqt")
    files = sorted(ENGINE_DATA.glob("*.py"))
    assert files
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not [n for n in names if n.split(".")[0] in banned], path.name


def test_normalization_is_json_serializable(digits):
    shapes = small_shapes(channels=3)
    for ds in (digits, shapes):
        assert json.loads(json.dumps(ds.normalization)) == ds.normalization


@pytest.mark.parametrize("path", ["bad\x00name", "x" * 5000])
def test_unusable_path_is_a_dataset_error(path):
    # Platforms differ (ENAMETOOLONG vs "not found"), but it must be a DatasetError on the field.
    with pytest.raises(DatasetError, match="dataset.path"):
        load_dataset({"kind": "mnist_idx", "path": path})


TEMPLATES = Path(__file__).resolve().parents[1] / "resources" / "templates"


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.json")))
def test_bundled_templates_datasets_fit_their_input(template):
    project = json.loads((TEMPLATES / template).read_text(encoding="utf-8"))
    shapes = [n["params"]["shape"] for n in project["nodes"] if n.get("type") == "Input"]
    spec = project.get("dataset")
    assert spec, f"{template}: every template carries the dataset it trains on"
    ds = load_dataset({**spec, "limit": 50}, TEMPLATES)
    assert shapes and check_fits(ds, tuple(shapes[0])) is None
