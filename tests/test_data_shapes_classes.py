"""The shapes dataset's ``classes`` setting: ten distinct shapes, and beyond ten, two or three
shapes side by side (a thousand classes for the ImageNet-sized templates' 1,000-way heads)."""
from __future__ import annotations

import numpy as np
import pytest

from layerlab.engine.data import DatasetError, describe, load_dataset
from layerlab.engine.data.fit import peek
from layerlab.engine.data.shapes import SHAPE_NAMES, class_names, generate_shapes


def test_the_default_is_the_six_shapes_it_always_was():
    assert class_names(6) == ["circle", "square", "triangle", "horizontal bar", "vertical bar",
                              "diagonal bar"]
    assert peek({"kind": "shapes"}).class_names == tuple(class_names(6))


def test_ten_classes_are_ten_distinct_shapes():
    assert len(SHAPE_NAMES) == 10 and len(set(SHAPE_NAMES)) == 10
    x, y = generate_shapes(1000, 32, 1, 0.0, seed=0, classes=10)
    assert np.bincount(y).tolist() == [100] * 10
    assert (x.reshape(1000, -1).max(axis=1) > 0.5).all()        # every image has its shape
    lit = (x > 0).reshape(1000, -1).sum(axis=1)
    ring, circle = SHAPE_NAMES.index("ring"), SHAPE_NAMES.index("circle")
    assert lit[y == ring].mean() < 0.9 * lit[y == circle].mean()   # a ring has a hole
    # The mean image of each new shape differs from every other class's.
    means = np.stack([x[y == c].mean(axis=0).ravel() for c in range(10)])
    distance = np.linalg.norm(means[:, None] - means[None], axis=2)
    assert (distance + np.eye(10) * 1e9).min() > 0.5


def test_more_than_ten_classes_put_shapes_side_by_side():
    names = class_names(1000)
    assert len(names) == len(set(names)) == 1000
    assert names[0] == "circle · circle · circle"
    assert names[123] == " · ".join(SHAPE_NAMES[d] for d in (1, 2, 3))
    assert class_names(100)[57] == f"{SHAPE_NAMES[5]} · {SHAPE_NAMES[7]}"
    x, y = generate_shapes(300, 48, 3, 0.0, seed=0, classes=100)
    assert x.shape == (300, 3, 48, 48) and np.bincount(y, minlength=100).tolist() == [3] * 100
    # Two shapes: the left and right halves both hold one.
    lit = x.max(axis=1) > 0
    assert lit[:, :, :24].any(axis=(1, 2)).all() and lit[:, :, 24:].any(axis=(1, 2)).all()


def test_fewer_images_than_classes_draw_distinct_classes_and_say_so():
    x, y = generate_shapes(50, 48, 1, 0.0, seed=0, classes=1000)
    assert len(set(y.tolist())) == 50                               # not just the first 50
    assert y.max() > 100
    ds = load_dataset({"kind": "shapes", "size": 48, "classes": 1000, "count": 50})
    assert len(ds.class_names) == 1000
    assert any("1,000 classes" in note and "50 images" in note for note in ds.notes)


def test_peek_and_describe_follow_the_classes():
    data = peek({"kind": "shapes", "size": 224, "channels": 3, "classes": 1000, "count": 240})
    assert data.num_outputs == 1000 and data.input_shape == (3, 224, 224)
    line = describe({"kind": "shapes", "size": 224, "channels": 3, "classes": 1000})
    assert "1,000 classes" in line and "three shapes side by side" in line


@pytest.mark.parametrize("spec, fragment", [
    ({"kind": "shapes", "classes": 1}, "dataset.classes must be at least 2"),
    ({"kind": "shapes", "classes": 1001}, "dataset.classes must be at most 1000"),
    ({"kind": "shapes", "classes": 1000, "size": 16}, "dataset.classes"),
])
def test_bad_classes_name_the_field(spec, fragment):
    with pytest.raises(DatasetError, match=fragment):
        load_dataset(spec)


def test_too_small_for_side_by_side_is_a_problem_before_loading():
    with pytest.raises(DatasetError, match="at least 24"):
        peek({"kind": "shapes", "classes": 1000, "size": 16})
