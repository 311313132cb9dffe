"""Batch augmentation: shapes kept, pixels moved, reproducible by generator, tabular untouched."""
from __future__ import annotations

import pytest
import torch

from layerlab.engine.data import DatasetError, augment


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_shift_keeps_shape_changes_pixels_and_fills_zero():
    x = torch.ones(64, 2, 10, 12)
    out = augment(x, {"shift": 3}, gen())
    assert out.shape == x.shape and out.dtype == x.dtype
    assert not torch.equal(out, x)
    assert set(out.unique().tolist()) <= {0.0, 1.0}          # zero fill, nothing interpolated
    zeros = (out == 0).flatten(1).sum(1)
    assert (zeros > 0).sum() > 32                           # most samples moved
    assert zeros.max() <= 2 * (3 * 12 + 3 * 10)             # at most 3 rows and 3 columns shifted
    assert torch.equal(x, torch.ones_like(x))               # input untouched


def test_shift_is_a_translation():
    x = torch.zeros(200, 1, 9, 9)
    x[:, 0, 4, 4] = 1.0                                     # one lit pixel in the centre
    out = augment(x, {"shift": 2}, gen(1))
    pos = out.flatten(1).argmax(1)
    rows, cols = pos // 9 - 4, pos % 9 - 4
    assert out.flatten(1).sum(1).eq(1).all()                # the pixel survives (shift < border)
    assert rows.abs().max() == 2 and cols.abs().max() == 2
    assert len(set(zip(rows.tolist(), cols.tolist()))) == 25  # all offsets -2..2 occur


def test_flip_mirrors_some_samples_horizontally():
    x = torch.arange(8.0).view(1, 1, 1, 8).repeat(100, 3, 4, 1)
    out = augment(x, {"flip": True}, gen())
    flipped = (out == x.flip(-1)).flatten(1).all(1)
    same = (out == x).flatten(1).all(1)
    assert (flipped | same).all() and 20 < flipped.sum() < 80


def test_reproducible_by_generator_and_custom_fill():
    x = torch.rand(16, 3, 8, 8, generator=gen(5))
    a = augment(x, {"flip": True, "shift": 2}, gen(7))
    b = augment(x, {"flip": True, "shift": 2}, gen(7))
    c = augment(x, {"flip": True, "shift": 2}, gen(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    filled = augment(torch.full((32, 3, 6, 6), 5.0), {"shift": 2, "fill": [-1, -2, -3]}, gen())
    assert set(filled[:, 1].unique().tolist()) <= {5.0, -2.0} and (filled[:, 1] == -2).any()


def test_noop_cases():
    table = torch.randn(10, 4)
    assert augment(table, {"flip": True, "shift": 3}, gen()) is table
    images = torch.randn(4, 1, 5, 5)
    assert augment(images, {"flip": False, "shift": 0}, gen()) is images
    assert augment(images, None, gen()) is images
    with pytest.raises(DatasetError, match="augment.shift"):
        augment(images, {"shift": "2"}, gen())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_runs_on_batch_device_with_cpu_generator():
    x = torch.ones(8, 1, 6, 6, device="cuda")
    out = augment(x, {"flip": True, "shift": 1}, gen())
    assert out.device == x.device and out.shape == x.shape
