"""Synthetic shape images drawn with numpy masks: a second offline dataset that scales to any size.

Everything is vectorized over the batch (coordinates broadcast as (N, H, W)), so 3,000 28×28
samples take a few tens of milliseconds.
"""
from __future__ import annotations

import numpy as np

from ..params import ChoiceParam, FloatParam, IntParam
from .errors import DatasetError
from .kinds import DataShape, DatasetKind, register
from .splits import GENERATE_STREAM, RawSamples, rng_for

CLASS_NAMES = ["circle", "square", "triangle", "horizontal bar", "vertical bar", "diagonal bar"]

# Keeps a generated set under ~1 GiB of float32.
MAX_VALUES = 250_000_000


def _masks(label: int, dx: np.ndarray, dy: np.ndarray, r: np.ndarray, t: np.ndarray,
           slope: np.ndarray) -> np.ndarray:
    """Boolean (n, H, W) masks of one class; dx/dy are offsets from each shape's centre."""
    if label == 0:  # circle
        return dx * dx + dy * dy <= r * r
    if label == 1:  # square, a bit smaller than the circle's box so areas are alike
        return (np.abs(dx) <= 0.85 * r) & (np.abs(dy) <= 0.85 * r)
    if label == 2:  # triangle, apex up: half-width grows from 0 at the top to r at the base
        return (dy >= -r) & (dy <= r) & (np.abs(dx) <= (dy + r) / 2)
    if label == 3:  # horizontal bar
        return (np.abs(dy) <= t) & (np.abs(dx) <= r)
    if label == 4:  # vertical bar
        return (np.abs(dx) <= t) & (np.abs(dy) <= r)
    # diagonal bar, "/" or "\" by slope sign; distances measured along/across the 45° axis
    across = np.abs(dx - slope * dy) / np.sqrt(2.0)
    along = np.abs(dx + slope * dy) / np.sqrt(2.0)
    return (across <= t) & (along <= r)


def generate_shapes(count: int, size: int, channels: int, noise: float,
                    seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(x float32 (count, channels, size, size) in 0..1, y int64 (count,)), deterministic by seed."""
    if count * channels * size * size > MAX_VALUES:
        raise DatasetError(f"dataset: {count:,} shapes of {channels}×{size}×{size} would need "
                           f"more than {MAX_VALUES * 4 // 2**30} GiB; lower count or size")
    rng = rng_for(seed, GENERATE_STREAM)
    n_cls = len(CLASS_NAMES)
    y = np.arange(count, dtype=np.int64) % n_cls  # balanced classes
    rng.shuffle(y)

    def per_sample(values: np.ndarray) -> np.ndarray:
        return values.reshape(-1, 1, 1)

    r = rng.uniform(0.18, 0.38, count) * size                     # half-extent
    cx = r + 0.5 + rng.random(count) * (size - 2 * r - 1)         # keeps the shape inside
    cy = r + 0.5 + rng.random(count) * (size - 2 * r - 1)
    t = np.maximum(rng.uniform(0.2, 0.32, count) * r, 0.6)        # bar half-thickness: long, thin bars
    slope = rng.choice([-1.0, 1.0], count)
    brightness = rng.uniform(0.7, 1.0, count)
    if channels == 3:
        color = rng.uniform(0.15, 1.0, (count, 3))
        color *= (brightness / color.max(axis=1))[:, None]        # brightest channel = brightness
    else:
        color = brightness[:, None]

    centres = np.arange(size, dtype=np.float64) + 0.5             # pixel centres
    mask = np.zeros((count, size, size), dtype=bool)
    for label in range(n_cls):
        idx = np.flatnonzero(y == label)
        if idx.size == 0:
            continue
        dx = centres.reshape(1, 1, -1) - per_sample(cx[idx])
        dy = centres.reshape(1, -1, 1) - per_sample(cy[idx])
        mask[idx] = _masks(label, dx, dy, per_sample(r[idx]), per_sample(t[idx]),
                           per_sample(slope[idx]))

    x = mask[:, None, :, :].astype(np.float32) * color[:, :, None, None].astype(np.float32)
    if noise > 0:
        x += rng.normal(0.0, noise, x.shape).astype(np.float32)
        np.clip(x, 0.0, 1.0, out=x)
    return x, y


def load_shapes_raw(count: int, size: int, channels: int, noise: float, seed: int) -> RawSamples:
    x, y = generate_shapes(count, size, channels, noise, seed)
    return RawSamples(x=x, y=y)


# --- the declaration ---------------------------------------------------------------------------
DEFAULT_COUNT = 3000
MAX_SIZE = 256
#: A generated set chosen for the user (a default dataset, a one-click fit) stays below this
#: many values (200 MB of float32), so a 3×224×224 network gets a few hundred images that a
#: laptop holds, not 1.8 GB.
FIT_VALUES = 50_000_000


def fitting_count(count: int, channels: int, size: int) -> int:
    """``count`` lowered (to a multiple of the class count) so the set stays under FIT_VALUES."""
    n_cls = len(CLASS_NAMES)
    most = max(FIT_VALUES // (channels * size * size) // n_cls * n_cls, 10 * n_cls)
    return min(count, most)


def _load(values: dict, common, base_dir):
    from .splits import build_dataset
    count, size, channels, noise = (values["count"], values["size"], values["channels"],
                                    values["noise"])
    raw = load_shapes_raw(count, size, channels, noise, common.seed)
    color = "color" if channels == 3 else "gray"
    return build_dataset(raw, common, name="shapes", task="classification",
                         class_names=CLASS_NAMES,
                         source=f"generated shapes ({count:,} images, {size}×{size} {color}, "
                                f"noise {noise:g}, seed {common.seed})")


def _peek(values: dict, base_dir) -> DataShape:
    return DataShape((values["channels"], values["size"], values["size"]), "classification",
                     tuple(CLASS_NAMES), samples=values["count"])


def _describe(values: dict) -> str:
    color = "color" if values["channels"] == 3 else "gray"
    return (f"shapes: {values['count']:,} generated {values['size']}×{values['size']} {color} "
            f"shapes, noise {values['noise']:g}")


def _fit(values: dict, shape: tuple[int, ...]) -> dict | None:
    if len(shape) != 3 or shape[0] not in (1, 3) or shape[1] != shape[2] \
            or not 8 <= shape[1] <= MAX_SIZE:
        return None
    channels, size = shape[0], shape[1]
    return {"size": size, "channels": channels,
            "count": fitting_count(values["count"], channels, size)}


register(DatasetKind(
    name="shapes",
    label="Shapes (generated)",
    summary="Generated shapes (circle, square, triangle, three bars): any size, gray or color",
    params=(IntParam("size", 28, "image height and width", minimum=8, maximum=MAX_SIZE),
            ChoiceParam("channels", 1, "1 for gray, 3 for color", choices=(1, 3)),
            IntParam("count", DEFAULT_COUNT, "how many images to generate (balanced classes)",
                     minimum=6, maximum=200_000),
            FloatParam("noise", 0.1, "standard deviation of the pixel noise added",
                       minimum=0.0, maximum=1.0)),
    load=_load, peek=_peek, describe=_describe, fit=_fit,
))
