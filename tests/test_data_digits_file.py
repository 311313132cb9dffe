"""The digits come from digits.csv.gz read directly: identical to sklearn's load_digits, with no
sklearn/scipy import, the bundled copy first, and a clear error when there is no file at all."""
from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from layerlab.engine.data import DatasetError, load_dataset
from layerlab.engine.data import digits as digits_mod


def test_arrays_match_sklearn_load_digits():
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits
    bunch = load_digits()
    images, target = digits_mod.read_digits_csv(digits_mod.digits_file())
    assert images.shape == (1797, 8, 8) and images.dtype == bunch.images.dtype
    assert np.array_equal(images, bunch.images)
    assert np.array_equal(target, bunch.target) and target.dtype == bunch.target.dtype
    raw = digits_mod.load_digits_raw()
    assert raw.x.shape == (1797, 1, 8, 8) and raw.x.dtype == np.float32
    assert np.array_equal(raw.x, (bunch.images.astype(np.float32) / np.float32(16.0))[:, None])
    assert np.array_equal(raw.y, bunch.target.astype(np.int64))


def test_loading_digits_imports_neither_sklearn_nor_scipy():
    script = ("import sys; from layerlab.engine.data import load_dataset; "
              "ds = load_dataset({'kind': 'digits'}); "
              "print(len(ds.x_train) + len(ds.x_val), "
              "sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy'}))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["1797", "[]"]


def _write_csv_gz(path: Path, rows: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        np.savetxt(f, rows, delimiter=",", fmt="%.1f")


def test_bundled_copy_is_preferred(tmp_path, monkeypatch):
    rows = np.zeros((20, 65))
    rows[:, :64] = np.arange(64) % 17
    rows[:, 64] = np.arange(20) % 10
    _write_csv_gz(tmp_path / "data" / "digits.csv.gz", rows)
    monkeypatch.setattr(digits_mod, "resource_path", lambda rel: tmp_path / rel)
    assert digits_mod.digits_file() == tmp_path / "data" / "digits.csv.gz"
    raw = digits_mod.load_digits_raw()
    assert raw.x.shape == (20, 1, 8, 8)
    assert raw.x[0, 0, 0, 1] == np.float32(1 / 16) and raw.x.max() == 1.0
    assert raw.y.tolist() == [i % 10 for i in range(20)]


def test_no_file_anywhere_is_a_clear_dataset_error(tmp_path, monkeypatch):
    monkeypatch.setattr(digits_mod, "resource_path", lambda rel: tmp_path / rel)
    monkeypatch.setattr(digits_mod.importlib.util, "find_spec", lambda name: None)
    assert digits_mod.digits_file() is None
    with pytest.raises(DatasetError, match="needs scikit-learn, which is not installed"):
        load_dataset({"kind": "digits"})


def test_damaged_file_is_a_dataset_error_naming_it(tmp_path, monkeypatch):
    bad = tmp_path / "data" / "digits.csv.gz"
    _write_csv_gz(bad, np.zeros((3, 10)))
    monkeypatch.setattr(digits_mod, "resource_path", lambda rel: tmp_path / rel)
    with pytest.raises(DatasetError, match=r"the digits file .* is damaged: not the expected table"):
        digits_mod.load_digits_raw()
    bad.write_bytes(b"not gzip")
    with pytest.raises(DatasetError, match="the digits file .* is damaged: cannot be read"):
        digits_mod.load_digits_raw()
