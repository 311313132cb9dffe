"""Image folders: one subfolder per class, Pillow formats, corrupt files skipped and counted."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from layerlab.engine.data import DatasetError, load_dataset


def make_folder(root, per_class: int = 4, size=(12, 10)):
    """cats/ are dark, dogs/ bright, birds/ red; a mix of PNG, JPEG and BMP."""
    colors = {"cats": (20, 20, 20), "dogs": (230, 230, 230), "birds": (255, 0, 0)}
    for cls, color in colors.items():
        (root / cls).mkdir(parents=True)
        for i in range(per_class):
            ext = ["png", "jpg", "bmp", "png"][i % 4]
            Image.new("RGB", size, color).save(root / cls / f"{i}.{ext}")
    (root / "cats" / "notes.txt").write_text("not an image")
    return root


def test_loads_classes_sorted_and_skips_corrupt(tmp_path):
    root = make_folder(tmp_path / "pets")
    (root / "dogs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    (root / "cats" / "empty.jpg").write_bytes(b"")
    ds = load_dataset({"kind": "image_folder", "path": "pets", "size": 8, "normalize": "unit"},
                      base_dir=tmp_path)
    assert ds.class_names == ["birds", "cats", "dogs"]
    assert ds.skipped == 2 and "2 unreadable skipped" in ds.source
    assert ds.input_shape == (1, 8, 8) and ds.name == "pets"
    x = torch.cat([ds.x_train, ds.x_val])
    y = torch.cat([ds.y_train, ds.y_val])
    assert len(x) == 12
    # Gray conversion keeps brightness: dogs brighter than cats; raw scale 0..1.
    assert x[y == 2].mean() > 0.8 and x[y == 1].mean() < 0.15


def test_rgb_and_rectangular_size(tmp_path):
    root = make_folder(tmp_path / "pets")
    ds = load_dataset({"kind": "image_folder", "path": str(root), "size": [6, 9], "channels": 3,
                       "normalize": "unit"})
    assert ds.input_shape == (3, 6, 9)
    x = torch.cat([ds.x_train, ds.x_val])
    y = torch.cat([ds.y_train, ds.y_val])
    birds = x[y == ds.class_names.index("birds")]
    assert birds[:, 0].mean() > 0.9 and birds[:, 1].mean() < 0.1   # red stays red


def test_transparent_png_composited_on_white(tmp_path):
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(tmp_path / cls / "t.png")
    ds = load_dataset({"kind": "image_folder", "path": str(tmp_path), "size": 4,
                       "normalize": "unit"})
    assert torch.cat([ds.x_train, ds.x_val]).min() == 1.0


@pytest.mark.parametrize("setup, fragment", [
    ("empty", "has no class subfolders"),
    ("loose", "found 1 image(s) directly in it"),
    ("no_images", "class folder cats has no readable PNG, JPEG"),
    ("all_corrupt", "class folders a (1 unreadable), b (1 unreadable) have no readable"),
    ("one_class", "only one class"),
])
def test_folder_problems(tmp_path, setup, fragment):
    root = tmp_path / "data"
    root.mkdir()
    if setup == "loose":
        Image.new("L", (4, 4)).save(root / "x.png")
    elif setup == "no_images":
        (root / "cats").mkdir()
        (root / "cats" / "readme.txt").write_text("hi")
    elif setup == "all_corrupt":
        for cls in ("a", "b"):
            (root / cls).mkdir()
            (root / cls / "x.png").write_bytes(b"nope")
    elif setup == "one_class":
        (root / "only").mkdir()
        Image.new("L", (4, 4)).save(root / "only" / "x.png")
    with pytest.raises(DatasetError) as info:
        load_dataset({"kind": "image_folder", "path": str(root)})
    assert fragment in str(info.value) and "data" in str(info.value)


def test_path_must_be_folder(tmp_path):
    f = tmp_path / "x.png"
    Image.new("L", (4, 4)).save(f)
    with pytest.raises(DatasetError, match="expected a folder"):
        load_dataset({"kind": "image_folder", "path": str(f)})


def test_standardized_stats_from_train_split(tmp_path):
    root = make_folder(tmp_path / "pets", per_class=6)
    ds = load_dataset({"kind": "image_folder", "path": str(root), "size": 5})
    mean, std = ds.normalization["mean"][0], ds.normalization["std"][0]
    raw = ds.x_train.numpy() * std + mean
    assert raw.min() > -1e-5 and raw.max() < 1 + 1e-5
    np.testing.assert_allclose(ds.x_train.mean().item(), 0, atol=1e-5)
