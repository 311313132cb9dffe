"""MNIST IDX files written in the real format: raw and gzip, train and t10k, and broken ones."""
from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch

from layerlab.engine.data import DatasetError, load_dataset
from layerlab.engine.data.idx import parse_idx


def idx_bytes(arr: np.ndarray, type_code: int = 0x08) -> bytes:
    header = struct.pack(">BBBB", 0, 0, type_code, arr.ndim)
    header += struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(">u1" if type_code == 0x08 else ">i4").tobytes()


def write_set(folder, prefix: str, n: int, gz: bool, rows: int = 6, seed: int = 0,
              labels: np.ndarray | None = None):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, rows, rows), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8) if labels is None else labels
    suffix = ".gz" if gz else ""
    for name, arr in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
        data = idx_bytes(arr)
        (folder / (name + suffix)).write_bytes(gzip.compress(data) if gz else data)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
def test_loads_train_and_appends_t10k(tmp_path, gz):
    images, labels = write_set(tmp_path, "train", 30, gz)
    test_images, test_labels = write_set(tmp_path, "t10k", 10, not gz, seed=1)
    ds = load_dataset({"kind": "mnist_idx", "path": str(tmp_path), "normalize": "unit",
                       "val_fraction": 0.25})
    assert ds.input_shape == (1, 6, 6) and ds.class_names == [str(d) for d in range(10)]
    assert len(ds.x_train) == 30 and len(ds.x_val) == 10
    x = torch.cat([ds.x_train, ds.x_val]).numpy()
    y = torch.cat([ds.y_train, ds.y_val]).numpy()
    # Every raw image is present with its label, scaled to 0..1.
    all_images = np.concatenate([images, test_images]).astype(np.float32) / 255
    all_labels = np.concatenate([labels, test_labels])
    for img, lab in zip(all_images, all_labels):
        hits = np.flatnonzero(np.abs(x[:, 0] - img).reshape(len(x), -1).max(1) < 1e-6)
        assert len(hits) == 1 and y[hits[0]] == lab
    assert "40 images" in ds.source


def test_train_only_and_custom_class_names(tmp_path):
    write_set(tmp_path, "train", 12, False, labels=np.array([0, 1, 2] * 4, dtype=np.uint8))
    names = ["tee", "trouser", "pullover"]
    ds = load_dataset({"kind": "mnist_idx", "path": str(tmp_path), "class_names": names})
    assert ds.class_names == names and ds.num_classes == 3


def test_dotted_file_names_accepted(tmp_path):
    write_set(tmp_path, "train", 8, False)
    for kind, dims in (("images", "idx3"), ("labels", "idx1")):
        (tmp_path / f"train-{kind}-{dims}-ubyte").rename(tmp_path / f"train-{kind}.{dims}-ubyte")
    assert len(load_dataset({"kind": "mnist_idx", "path": str(tmp_path)}).x_val) == 2


def test_truncated_images(tmp_path):
    write_set(tmp_path, "train", 10, False)
    f = tmp_path / "train-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:-7])
    with pytest.raises(DatasetError) as info:
        load_dataset({"kind": "mnist_idx", "path": str(tmp_path)})
    msg = str(info.value)
    assert "train-images-idx3-ubyte" in msg and "truncated" in msg and "360" in msg and "353" in msg


def test_wrong_magic(tmp_path):
    write_set(tmp_path, "train", 10, False)
    f = tmp_path / "train-labels-idx1-ubyte"
    f.write_bytes(b"\x12\x34" + f.read_bytes()[2:])
    with pytest.raises(DatasetError, match=r"train-labels-idx1-ubyte: not an IDX file") as info:
        load_dataset({"kind": "mnist_idx", "path": str(tmp_path)})
    assert "1234" not in str(info.value)     # the file's own bytes are not echoed


def test_labels_file_swapped_for_images(tmp_path):
    write_set(tmp_path, "train", 10, False)
    labels = (tmp_path / "train-labels-idx1-ubyte").read_bytes()
    (tmp_path / "train-images-idx3-ubyte").write_bytes(labels)
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte: magic number 0x00000801; "
                                           r"expected 0x00000803"):
        load_dataset({"kind": "mnist_idx", "path": str(tmp_path)})


def test_count_mismatch(tmp_path):
    write_set(tmp_path, "train", 10, True)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(np.zeros(9, dtype=np.uint8))))
    with pytest.raises(DatasetError) as info:
        load_dataset({"kind": "mnist_idx", "path": str(tmp_path)})
    msg = str(info.value)
    assert "train-images-idx3-ubyte.gz holds 10 images" in msg and "9 labels" in msg


def test_label_out_of_range_and_bad_gzip(tmp_path):
    write_set(tmp_path, "train", 4, False, labels=np.array([0, 1, 12, 3], dtype=np.uint8))
    with pytest.raises(DatasetError, match=r"label 12 at position 2"):
        load_dataset({"kind": "mnist_idx", "path": str(tmp_path)})
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"\x1f\x8b" + b"not gzip at all")
    with pytest.raises(DatasetError, match="train-labels-idx1-ubyte: cannot be read as gzip"):
        load_dataset({"kind": "mnist_idx", "path": str(tmp_path)})


def test_missing_files_and_mismatched_t10k(tmp_path):
    with pytest.raises(DatasetError, match="train-images-idx3-ubyte .*not found"):
        load_dataset({"kind": "mnist_idx", "path": str(tmp_path)})
    write_set(tmp_path, "train", 4, False)
    write_set(tmp_path, "t10k", 4, False, rows=5)
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte: images are 5×5 .* 6×6"):
        load_dataset({"kind": "mnist_idx", "path": str(tmp_path)})
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte"):
        load_dataset({"kind": "mnist_idx", "path": str(tmp_path)})


def test_parse_idx_other_types_and_trailing_bytes():
    arr = np.arange(6, dtype=np.int32).reshape(2, 3) - 3
    out = parse_idx(idx_bytes(arr, 0x0C), "ints")
    assert out.tolist() == arr.tolist()
    with pytest.raises(DatasetError, match="ints: 2 unexpected bytes"):
        parse_idx(idx_bytes(arr, 0x0C) + b"xx", "ints")
    with pytest.raises(DatasetError, match="too short"):
        parse_idx(b"\x00\x00", "tiny")
