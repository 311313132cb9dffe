"""Fuzzing: whatever bytes or text a user's file holds, only DatasetError comes out."""
from __future__ import annotations

import gzip
import struct

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from layerlab.engine.data import Dataset, DatasetError, load_dataset
from layerlab.engine.data.cifar import load_pickle
from layerlab.engine.data.idx import parse_idx

FUZZ = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def idx_like(draw):
    """Mostly well-formed headers (so the size checks are reached), with random payloads."""
    type_code = draw(st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0x42]))
    dims = draw(st.lists(st.integers(0, 6), min_size=0, max_size=4))
    header = struct.pack(">BBBB", 0, 0, type_code, draw(st.sampled_from([len(dims), 0, 9, 255])))
    header += struct.pack(f">{len(dims)}I", *dims)
    return header + draw(st.binary(max_size=300))


@FUZZ
@given(st.one_of(st.binary(max_size=200), idx_like()))
def test_parse_idx_only_raises_dataset_error(data):
    try:
        arr = parse_idx(data, "fuzz-idx")
    except DatasetError as exc:
        assert "fuzz-idx" in str(exc)
    else:
        assert arr.size * arr.itemsize == len(data) - 4 - 4 * arr.ndim


@FUZZ
@given(images=st.one_of(st.binary(max_size=200), idx_like()),
       labels=st.one_of(st.binary(max_size=50), idx_like()), gz=st.booleans())
def test_mnist_loader_only_raises_dataset_error(tmp_path_factory, images, labels, gz):
    folder = tmp_path_factory.mktemp("idx")
    suffix = ".gz" if gz else ""
    wrap = gzip.compress if gz else (lambda b: b)
    (folder / ("train-images-idx3-ubyte" + suffix)).write_bytes(wrap(images))
    (folder / ("train-labels-idx1-ubyte" + suffix)).write_bytes(wrap(labels))
    try:
        ds = load_dataset({"kind": "mnist_idx", "path": str(folder)})
    except DatasetError as exc:
        assert str(exc)
    else:
        assert isinstance(ds, Dataset) and ds.input_shape[0] == 1


CELL = st.one_of(st.sampled_from(["", "1", "-2.5", "1e3", "nan", "inf", "x", "NA", "1e999",
                                  " 7 ", "\"4,5\"", "0x10", "１２"]),
                 st.text(alphabet="0123456789.-+eE,;\"\n\r\t ax", max_size=6))


@st.composite
def csv_like(draw):
    width = draw(st.integers(1, 4))
    header = draw(st.lists(st.sampled_from(["a", "b", "y", "", "y"]), min_size=width,
                           max_size=width))
    rows = draw(st.lists(st.lists(CELL, min_size=0, max_size=width + 1), max_size=8))
    sep = draw(st.sampled_from([",", ";", "\t"]))
    return "\n".join(sep.join(r) for r in [header] + rows)


@FUZZ
@given(text=st.one_of(st.text(max_size=300), csv_like()),
       task=st.sampled_from(["regression", "classification"]),
       normalize=st.sampled_from(["standardize", "unit"]))
def test_csv_loader_only_raises_dataset_error(tmp_path_factory, text, task, normalize):
    path = tmp_path_factory.mktemp("csv") / "fuzz.csv"
    path.write_text(text, encoding="utf-8", newline="")
    try:
        ds = load_dataset({"kind": "csv", "path": str(path), "target": "y", "task": task,
                           "normalize": normalize})
    except DatasetError as exc:
        assert str(exc)
    else:
        assert ds.x_train.isfinite().all() and ds.x_val.isfinite().all()
        assert len(ds.x_train) >= 1 and len(ds.x_val) >= 1


@FUZZ
@given(st.one_of(st.binary(max_size=200),
                 st.binary(max_size=100).map(lambda b: b"\x80\x03" + b)))
def test_cifar_unpickler_only_raises_dataset_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("cifar") / "data_batch_1"
    path.write_bytes(data)
    try:
        load_dataset({"kind": "cifar10", "path": str(path.parent)})
    except DatasetError as exc:
        assert "data_batch_1" in str(exc)
    else:
        pytest.fail("random bytes were accepted as a CIFAR batch")
    # load_pickle on its own may return plain values, but never lets another exception out.
    try:
        load_pickle(path)
    except DatasetError:
        pass
