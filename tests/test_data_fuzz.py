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


# --- readers changed for issue 13: bad rows, headers, image folders, peeks -----------------------
@FUZZ
@given(text=st.one_of(st.text(max_size=300), csv_like()),
       task=st.sampled_from(["regression", "classification"]))
def test_skipping_bad_rows_and_peeking_agree_with_loading(tmp_path_factory, text, task):
    from layerlab.engine.data.fit import peek
    from layerlab.engine.data.tabular import read_header
    path = tmp_path_factory.mktemp("csv") / "fuzz.csv"
    path.write_text(text, encoding="utf-8", newline="")
    spec = {"kind": "csv", "path": str(path), "target": "y", "task": task,
            "skip_bad_rows": True}
    try:
        read_header(path)
    except DatasetError:
        pass
    try:
        ds = load_dataset(spec)
    except DatasetError as exc:
        assert "fuzz" in str(exc) or "dataset." in str(exc)     # names the file or field
        return
    assert ds.x_train.isfinite().all()
    data = peek(spec)                      # whatever loads, the peek describes the same way
    assert data.input_shape == ds.input_shape and data.num_outputs == ds.num_outputs
    assert list(data.class_names) == ds.class_names
    if ds.notes:
        assert "bad row" in ds.notes[0]


NAMES = st.text(alphabet="abcXYZ019._- ", min_size=1, max_size=10).filter(
    lambda n: n not in (".", "..") and not n.startswith("."))
FILES = st.lists(st.tuples(st.sampled_from(["a", "b"]), NAMES,
                           st.sampled_from([".png", ".jpg", ".gif", ".webp", ".bmp", ".txt", ""]),
                           st.one_of(st.binary(max_size=80), st.just(b"PNG"))),
                 max_size=6)


@FUZZ
@given(files=FILES, good=st.integers(0, 2))
def test_image_folder_only_raises_dataset_error_and_names_what_it_skips(tmp_path_factory, files,
                                                                         good):
    from PIL import Image
    root = tmp_path_factory.mktemp("img") / "data"
    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True)
        for i in range(good):
            Image.new("L", (3, 3), 80 * i).save(root / cls / f"good{i}.png")
    for cls, name, ext, data in files:
        (root / cls / (name + ext)).write_bytes(data)
    try:
        ds = load_dataset({"kind": "image_folder", "path": str(root), "size": 3})
    except DatasetError as exc:
        assert "data" in str(exc) or "dataset." in str(exc)
        return
    assert ds.class_names == ["a", "b"]                  # never a class dropped
    if ds.skipped:
        assert ds.notes[0].startswith(f"{ds.skipped} unreadable file")
    on_disk = sum(1 for f in root.rglob("*") if f.is_file())
    ignored = sum(int(n.split()[0]) for n in ds.notes if "not PNG" in n)
    assert len(ds.y_train) + len(ds.y_val) + ds.skipped + ignored == on_disk


@FUZZ
@given(data=st.one_of(st.binary(max_size=40), idx_like()), gz=st.booleans())
def test_mnist_peek_only_raises_dataset_error(tmp_path_factory, data, gz):
    from layerlab.engine.data.fit import peek
    folder = tmp_path_factory.mktemp("idxpeek")
    name = "train-images-idx3-ubyte" + (".gz" if gz else "")
    (folder / name).write_bytes(gzip.compress(data) if gz else data)
    try:
        shape = peek({"kind": "mnist_idx", "path": str(folder)}).input_shape
    except DatasetError as exc:
        assert "train-images" in str(exc)
    else:
        assert len(shape) == 3 and shape[0] == 1


@FUZZ
@given(data=st.binary(max_size=120), gz=st.booleans())
def test_a_damaged_digits_file_is_a_dataset_error(tmp_path_factory, monkeypatch, data, gz):
    from layerlab.engine.data import digits as digits_mod
    folder = tmp_path_factory.mktemp("digits")
    (folder / "data").mkdir()
    (folder / "data" / "digits.csv.gz").write_bytes(gzip.compress(data) if gz else data)
    with monkeypatch.context() as m:
        m.setattr(digits_mod, "resource_path", lambda rel: folder / rel)
        try:
            digits_mod.load_digits_raw()
        except DatasetError as exc:
            assert "digits file" in str(exc)
