"""CSV tables: the bundled house prices, classification labels, and broken files."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from layerlab.engine.data import DatasetError, load_dataset
from layerlab.engine.data.paths import resources_dir

HOUSES = {"kind": "csv", "path": "resources:data/house_prices.csv", "target": "price"}


def write(tmp_path, text: str, name: str = "table.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_house_prices_regression():
    ds = load_dataset(HOUSES)
    assert ds.task == "regression" and ds.num_classes == 0 and ds.num_outputs == 1
    assert ds.feature_names == ["size_m2", "stories", "distance_to_school_km"]
    assert ds.target_names == ["price"] and ds.class_names == []
    assert ds.input_shape == (3,)
    assert len(ds.x_train) + len(ds.x_val) == 200
    assert ds.y_train.dtype == torch.float32 and ds.y_train.shape == (len(ds.x_train), 1)
    # Inputs and targets standardized on the training split.
    assert torch.allclose(ds.x_train.mean(0), torch.zeros(3), atol=1e-5)
    assert abs(ds.y_train.mean().item()) < 1e-5 and abs(ds.y_train.std(unbiased=False).item() - 1) < 1e-4


def test_house_prices_denormalize_and_normalize_roundtrip():
    ds = load_dataset(HOUSES)
    rows = np.loadtxt(resources_dir() / "data" / "house_prices.csv", delimiter=",", skiprows=1)
    prices = ds.denormalize_target(ds.y_train.numpy()).ravel()
    assert set(np.round(prices).astype(int)) <= set(rows[:, 3].astype(int))
    np.testing.assert_allclose(ds.normalize_input(rows[:, :3]).mean(0), 0, atol=0.2)
    # Bigger houses cost more in the synthetic data.
    assert np.corrcoef(rows[:, 0], rows[:, 3])[0, 1] > 0.8


def test_relative_path_uses_base_dir_and_unit_mode(tmp_path):
    write(tmp_path, "a,b,y\n0,10,1\n5,20,2\n10,30,3\n5,10,4\n")
    ds = load_dataset({"kind": "csv", "path": "table.csv", "target": "y", "normalize": "unit",
                       "val_fraction": 0.25}, base_dir=tmp_path)
    assert ds.normalization["mode"] == "unit"
    assert ds.x_train.min() >= 0 and ds.x_train.max() <= 1
    assert ds.normalize_input(np.array(ds.normalization["max"])).tolist() == [1.0, 1.0]


def test_classification_string_labels_sorted(tmp_path):
    write(tmp_path, "x1,x2,kind\n1,2,pear\n2,3,apple\n3,4,fig\n4,5,apple\n5,6,pear\n")
    ds = load_dataset({"kind": "csv", "path": str(tmp_path / "table.csv"), "target": "kind",
                       "task": "classification"})
    assert ds.class_names == ["apple", "fig", "pear"]
    y = torch.cat([ds.y_train, ds.y_val]).sort().values.tolist()
    assert y == [0, 0, 1, 2, 2] and ds.y_train.dtype == torch.int64


def test_classification_int_labels_sort_numerically(tmp_path):
    write(tmp_path, "x;label\n1;10\n2;2\n3;1\n4;2.0\n")   # semicolons: spreadsheet export
    ds = load_dataset({"kind": "csv", "path": "table.csv", "target": "label",
                       "task": "classification"}, base_dir=tmp_path)
    assert ds.class_names == ["1", "2", "10"]


def test_features_key_selects_columns(tmp_path):
    write(tmp_path, "id,city,size,price\na1,Oslo,50,100\na2,Rome,70,150\na3,Lima,90,210\n")
    ds = load_dataset({"kind": "csv", "path": "table.csv", "target": "price",
                       "features": ["size"]}, base_dir=tmp_path)
    assert ds.feature_names == ["size"] and ds.input_shape == (1,)


@pytest.mark.parametrize("text, spec, fragments", [
    ("a,b\n1,2\n", {"target": "price"}, ["table.csv", "no column named 'price'", "a, b"]),
    ("size,city,y\n1,Oslo,3\n", {"target": "y"},
     ["table.csv", "column 'city' is not a number", "line 2"]),
    ("a,b,y\n1,2,3\n4,,6\n", {"target": "y"}, ["table.csv", "no value in column 'b'", "line 3"]),
    ("a,y\n1,2\n3,4,5\n", {"target": "y"}, ["table.csv", "line 3 has 3 fields"]),
    ("a,y\n1,x\n", {"target": "y"}, ["column 'y' is not a number", "1 of its 1 rows is not usable"]),
    ("a,y\n1e999,2\n", {"target": "y"}, ["column 'a' is not a finite number"]),
    ("", {"target": "y"}, ["table.csv", "empty"]),
    ("a,y\n", {"target": "y"}, ["table.csv", "no data rows"]),
    ("a,a,y\n1,2,3\n", {"target": "y"}, ["two columns are named alike ('a')"]),
    ("y\n1\n2\n", {"target": "y"}, ["no feature columns"]),
    ("a,y\n1,cat\n2,cat\n", {"target": "y", "task": "classification"}, ["only one value"]),
    ("a,y\n1,2\n", {}, ["dataset.target is required"]),
])
def test_broken_csv_messages(tmp_path, text, spec, fragments):
    write(tmp_path, text)
    with pytest.raises(DatasetError) as info:
        load_dataset({"kind": "csv", "path": "table.csv", **spec}, base_dir=tmp_path)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_non_utf8_csv(tmp_path):
    (tmp_path / "latin.csv").write_bytes("a,y\n1,caf\xe9\n".encode("latin-1"))
    with pytest.raises(DatasetError, match="latin.csv: not UTF-8"):
        load_dataset({"kind": "csv", "path": "latin.csv", "target": "y"}, base_dir=tmp_path)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(DatasetError, match="expected a file"):
        load_dataset({"kind": "csv", "path": str(tmp_path), "target": "y"})
