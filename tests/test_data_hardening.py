"""Hostile paths and files: FIFOs and devices are named for what they are (and never opened),
messages never quote a foreign file, image folders name what they skip and never drop a class,
a CSV reports every bad row and can skip them (issue 13's "also" list)."""
from __future__ import annotations

import os
import pickle
import sys

import numpy as np
import pytest
from PIL import Image, features

from layerlab.engine.data import DatasetError, load_dataset

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and /dev/zero are POSIX")
PASSWD = ("root:x:0:0:root:/root:/bin/bash\n"
          "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n")


def load_error(spec: dict, base_dir=None) -> DatasetError:
    with pytest.raises(DatasetError) as info:
        load_dataset(spec, base_dir)
    return info.value


# --- what a path is --------------------------------------------------------------------------
@POSIX
@pytest.mark.timeout(30)   # opening the FIFO would block: the loader must refuse before
@pytest.mark.parametrize("kind", ["csv", "image_folder", "mnist_idx", "cifar10"])
def test_a_fifo_is_called_a_named_pipe_never_a_folder_or_file(tmp_path, kind):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    extra = {"target": "y"} if kind == "csv" else {}
    message = str(load_error({"kind": kind, "path": str(fifo), **extra}))
    assert "named pipe (FIFO)" in message
    assert "is a folder" not in message and "is a file" not in message


@POSIX
@pytest.mark.parametrize("kind, wanted", [("csv", "expected a file"),
                                          ("mnist_idx", "expected a folder")])
def test_dev_zero_is_a_device(kind, wanted):
    extra = {"target": "y"} if kind == "csv" else {}
    message = str(load_error({"kind": kind, "path": "/dev/zero", **extra}))
    assert "'/dev/zero' is a device; " + wanted in message


@POSIX
@pytest.mark.timeout(30)
def test_fifo_and_device_inside_dataset_folders_are_never_opened(tmp_path):
    os.mkfifo(tmp_path / "data_batch_1")
    assert "data_batch_1: is a named pipe (FIFO), not a regular file" in str(
        load_error({"kind": "cifar10", "path": str(tmp_path)}))
    mnist = tmp_path / "mnist"
    mnist.mkdir()
    os.symlink("/dev/zero", mnist / "train-images-idx3-ubyte")
    os.mkfifo(mnist / "train-labels-idx1-ubyte")
    assert "not found" in str(load_error({"kind": "mnist_idx", "path": str(mnist)}))


# --- no foreign file quoted ------------------------------------------------------------------
def test_a_non_csv_file_is_not_quoted(tmp_path):
    (tmp_path / "passwd").write_text(PASSWD)
    message = str(load_error({"kind": "csv", "path": "passwd", "target": "y"}, tmp_path))
    assert "root" not in message and "/bin/bash" not in message
    assert "no column named 'y'" in message and "single column" in message


def test_bad_cells_are_described_not_quoted(tmp_path):
    (tmp_path / "t.csv").write_text("a,y\nhunter2-secret,1\n12,5,7\n\"3,5\",2\n")
    message = str(load_error({"kind": "csv", "path": "t.csv", "target": "y"}, tmp_path))
    assert "secret" not in message and "hunter2" not in message
    assert "line 2: column 'a' is not a number" in message
    assert "line 3 has 3 fields" in message
    assert "line 4: column 'a' uses a decimal comma" in message


def test_mnist_message_does_not_list_the_folder(tmp_path):
    (tmp_path / "diary-of-alice.txt").write_text("private")
    message = str(load_error({"kind": "mnist_idx", "path": str(tmp_path)}))
    assert "train-images-idx3-ubyte" in message and "diary" not in message


def test_cifar_pickle_error_does_not_echo_bytes(tmp_path):
    (tmp_path / "data_batch_1").write_bytes(PASSWD.encode())
    message = str(load_error({"kind": "cifar10", "path": str(tmp_path)}))
    assert "data_batch_1: not a readable CIFAR pickle" in message
    assert "'r'" not in message and "root" not in message


# --- image folders ---------------------------------------------------------------------------
def _image(path, color=128, fmt=None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (6, 6), color).save(path, format=fmt)


def test_gif_webp_and_tiff_are_read(tmp_path):
    root = tmp_path / "pets"
    kinds = [("gif", "GIF"), ("tiff", "TIFF")] + ([("webp", "WEBP")]
                                                  if features.check("webp") else [])
    for cls in ("cats", "dogs"):
        for i, (ext, fmt) in enumerate(kinds):
            _image(root / cls / f"{i}.{ext}", 40 * i, fmt)
    ds = load_dataset({"kind": "image_folder", "path": str(root), "size": 6})
    assert len(ds.y_train) + len(ds.y_val) == 2 * len(kinds)
    assert ds.notes == []


def test_unreadable_and_foreign_files_are_named(tmp_path):
    root = tmp_path / "pets"
    for cls in ("cats", "dogs"):
        for i in range(3):
            _image(root / cls / f"{i}.png")
    for i in range(7):
        (root / "cats" / f"broken{i}.png").write_bytes(b"not an image")
    (root / "dogs" / "notes.txt").write_text("x")
    (root / "dogs" / ".DS_Store").write_bytes(b"\0")      # a system file: not worth a note
    _image(root / "stray.png")
    ds = load_dataset({"kind": "image_folder", "path": str(root), "size": 6})
    assert ds.skipped == 7
    unreadable, ignored = ds.notes
    assert unreadable == ("7 unreadable files skipped: cats/broken0.png, cats/broken1.png, "
                          "cats/broken2.png, cats/broken3.png, cats/broken4.png and 2 more")
    assert "2 files that are not" in ignored and "dogs/notes.txt" in ignored
    assert "stray.png" in ignored and "DS_Store" not in ignored


def test_a_class_with_only_unreadable_files_is_an_error_not_dropped(tmp_path):
    root = tmp_path / "pets"
    for i in range(3):
        _image(root / "cats" / f"{i}.png")
        _image(root / "dogs" / f"{i}.png")
    (root / "birds").mkdir()
    (root / "birds" / "a.png").write_bytes(b"garbage")
    message = str(load_error({"kind": "image_folder", "path": str(root)}))
    assert "class folder birds (1 unreadable) has no readable" in message
    assert "birds/a.png" in message and "never left out silently" in message


# --- CSV bad rows ----------------------------------------------------------------------------
def _table(tmp_path, bad: int, good: int = 8) -> None:
    rows = [f"{i},{i * 2}" for i in range(good)] + [f"{i},oops" for i in range(bad)]
    (tmp_path / "t.csv").write_text("a,y\n" + "\n".join(rows) + "\n")


def test_every_bad_row_is_reported_with_a_count_and_a_fix(tmp_path):
    _table(tmp_path, bad=12)
    error = load_error({"kind": "csv", "path": "t.csv", "target": "y"}, tmp_path)
    message = str(error)
    assert "12 of its 20 rows are not usable" in message
    assert message.count("is not a number") == 8 and "and 4 more" in message
    assert "line 10:" in message and "line 17:" in message
    assert error.fix == {"skip_bad_rows": True} and error.fix_label == "Skip the 12 bad rows"


def test_skip_bad_rows_trains_on_the_rest_and_says_so(tmp_path):
    _table(tmp_path, bad=3)
    ds = load_dataset({"kind": "csv", "path": "t.csv", "target": "y", "skip_bad_rows": True},
                      tmp_path)
    assert len(ds.y_train) + len(ds.y_val) == 8
    assert ds.notes == ["3 bad rows of t.csv skipped (lines 10, 11, 12)"]


def test_skip_bad_rows_with_no_good_row_is_still_an_error(tmp_path):
    _table(tmp_path, bad=3, good=0)
    assert "none of its 3 rows is usable" in str(load_error(
        {"kind": "csv", "path": "t.csv", "target": "y", "skip_bad_rows": True}, tmp_path))


# --- use only N training samples -------------------------------------------------------------
def test_train_samples_is_seeded_keeps_every_class_and_the_validation_split():
    full = load_dataset({"kind": "digits"})
    few = load_dataset({"kind": "digits", "train_samples": 25})
    again = load_dataset({"kind": "digits", "train_samples": 25})
    assert len(few.y_train) == 25 and np.array_equal(few.y_train, again.y_train)
    counts = np.bincount(few.y_train.numpy(), minlength=10)
    assert counts.min() >= 2 and counts.max() <= 3                # every class, balanced
    assert np.array_equal(few.y_val, full.y_val)                  # validation as it was
    assert "training on 25 of the 1,438 training samples" in few.notes[0]
    other = load_dataset({"kind": "digits", "train_samples": 25, "seed": 1})
    assert not np.array_equal(other.y_train, few.y_train)


def test_train_samples_on_a_table_takes_the_first_of_the_shuffled_order(tmp_path):
    _table(tmp_path, bad=0, good=50)
    ds = load_dataset({"kind": "csv", "path": "t.csv", "target": "y", "train_samples": 7},
                      tmp_path)
    assert len(ds.y_train) == 7 and len(ds.y_val) == 10
    big = load_dataset({"kind": "csv", "path": "t.csv", "target": "y", "train_samples": 500},
                       tmp_path)
    assert len(big.y_train) == 40 and big.notes == []


def test_cifar_pickle_is_still_refused_before_any_call(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    (tmp_path / "data_batch_1").write_bytes(pickle.dumps(Evil()))
    assert "refused" in str(load_error({"kind": "cifar10", "path": str(tmp_path)}))


@pytest.mark.parametrize("ops", [b"\x96" + (3).to_bytes(8, "little") + b"abc",   # BYTEARRAY8
                                 b"\x96" + (3).to_bytes(8, "little") + b"abc\x98",
                                 b"\x97"])                                         # NEXT_BUFFER
def test_cifar_pickle_making_byte_arrays_or_buffers_is_refused(tmp_path, ops):
    """No CIFAR batch holds one, and fuzzed ones left CPython a pending SystemError."""
    (tmp_path / "data_batch_1").write_bytes(b"\x80\x05" + ops + b".")
    message = str(load_error({"kind": "cifar10", "path": str(tmp_path)}))
    assert "data_batch_1" in message and "byte arrays or buffers" in message
