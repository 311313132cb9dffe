"""CIFAR-10 python batches: real-format pickles load; anything beyond numpy arrays is refused."""
from __future__ import annotations

import os
import pickle
import struct

import numpy as np
import pytest
import torch

from layerlab.engine.data import DatasetError, load_dataset
from layerlab.engine.data.cifar import CLASS_NAMES


def batch(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {b"batch_label": b"training batch 1 of 5",
            b"labels": [int(v) for v in rng.integers(0, 10, n)],
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"filenames": [b"img_%d.png" % i for i in range(n)]}


def dump(path, obj, protocol: int = 3):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


class Py2Pickler(pickle._Pickler):
    """Writes str/bytes as Python 2 'str' opcodes, like the pickles inside the real archive."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj):
        data = obj.encode("latin-1") if isinstance(obj, str) else obj
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str
    dispatch[str] = save_py2_str


def dump_py2(path, obj):
    import io
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump(obj)
    # numpy 1 (which wrote the real files) named the module numpy.core.multiarray.
    data = buf.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    assert b"cnumpy.core.multiarray\n_reconstruct\n" in data
    path.write_bytes(data)


def test_loads_batches_and_meta(tmp_path):
    b1, b2, test = batch(20, 1), batch(15, 2), batch(5, 3)
    dump(tmp_path / "data_batch_1", b1)
    dump(tmp_path / "data_batch_2", b2)
    dump(tmp_path / "test_batch", test)
    names = [b"plane", b"car", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship",
             b"truck"]
    dump(tmp_path / "batches.meta", {b"label_names": names, b"num_vis": 3072})
    ds = load_dataset({"kind": "cifar10", "path": str(tmp_path), "normalize": "unit"})
    assert ds.input_shape == (3, 32, 32) and ds.num_classes == 10
    assert ds.class_names[:2] == ["plane", "car"]
    assert len(ds.x_train) + len(ds.x_val) == 40 and "40 images" in ds.source
    # Channel-major layout: the first 1024 values are the red plane of image 0.
    first = b1[b"data"][0].reshape(3, 32, 32).astype(np.float32) / 255
    x = torch.cat([ds.x_train, ds.x_val]).numpy()
    assert (np.abs(x - first).reshape(len(x), -1).max(1) < 1e-6).sum() == 1


def test_python2_style_pickle_and_archive_folder(tmp_path):
    inner = tmp_path / "cifar-10-batches-py"
    inner.mkdir()
    dump_py2(inner / "data_batch_1", batch(12, 4))
    ds = load_dataset({"kind": "cifar10", "path": str(tmp_path)})   # parent folder is fine too
    assert ds.class_names == CLASS_NAMES
    assert len(ds.x_train) + len(ds.x_val) == 12
    assert abs(ds.x_train.mean().item()) < 1e-4


class Evil:
    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


@pytest.mark.parametrize("func_name", ["system", "mkdir"])
def test_forbidden_global_is_refused_and_never_called(tmp_path, func_name):
    marker = tmp_path / "pwned"
    payload = batch(4, 0)
    if func_name == "system":
        payload[b"labels"] = Evil(os.system, f"echo hacked > {marker}")
    else:
        payload[b"labels"] = Evil(os.mkdir, str(marker))
    dump(tmp_path / "data_batch_1", payload)
    with pytest.raises(DatasetError) as info:
        load_dataset({"kind": "cifar10", "path": str(tmp_path)})
    msg = str(info.value)
    assert "data_batch_1" in msg and "refused" in msg and f".{func_name}'" in msg
    assert not marker.exists()


def test_builtins_eval_refused(tmp_path):
    dump(tmp_path / "data_batch_1", {b"data": Evil(eval, "1+1")})
    with pytest.raises(DatasetError, match=r"refused .*builtins\.eval"):
        load_dataset({"kind": "cifar10", "path": str(tmp_path)})


def test_protocol5_arrays_are_not_on_the_allow_list(tmp_path):
    dump(tmp_path / "data_batch_1", batch(4, 0), protocol=5)
    with pytest.raises(DatasetError, match="refused"):     # its buffers, or _frombuffer
        load_dataset({"kind": "cifar10", "path": str(tmp_path)})


@pytest.mark.parametrize("mutate, fragment", [
    (lambda b: b.update({b"data": b[b"data"][:, :100]}), "shape (N, 3072)"),
    (lambda b: b.update({b"labels": b[b"labels"][:-1]}), "holds 4 images but 3 labels"),
    (lambda b: b.update({b"labels": [0, 1, 2, 10]}), "labels must be 0..9"),
    (lambda b: b.update({b"labels": "abc"}), "'labels' must be a list"),
])
def test_bad_batch_contents(tmp_path, mutate, fragment):
    b = batch(4, 0)
    mutate(b)
    dump(tmp_path / "data_batch_1", b)
    with pytest.raises(DatasetError) as info:
        load_dataset({"kind": "cifar10", "path": str(tmp_path)})
    assert "data_batch_1" in str(info.value) and fragment in str(info.value)


def test_garbage_and_missing_batches(tmp_path):
    with pytest.raises(DatasetError, match="no data_batch_1"):
        load_dataset({"kind": "cifar10", "path": str(tmp_path)})
    (tmp_path / "data_batch_1").write_bytes(b"\x80\x03}q\x00(X")   # truncated pickle
    with pytest.raises(DatasetError, match="data_batch_1: not a readable CIFAR pickle"):
        load_dataset({"kind": "cifar10", "path": str(tmp_path)})
    dump(tmp_path / "data_batch_1", [1, 2, 3])
    with pytest.raises(DatasetError, match="data_batch_1: expected a dict"):
        load_dataset({"kind": "cifar10", "path": str(tmp_path)})
