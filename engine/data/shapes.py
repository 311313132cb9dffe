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

#: The distinct shapes, in class order. A set of up to ten classes draws one shape of the first
#: ``classes``; the default six are the original set (circle … diagonal bar).
SHAPE_NAMES = ["circle", "square", "triangle", "horizontal bar", "vertical bar", "diagonal bar",
               "ring", "plus", "diamond", "cross"]
DEFAULT_CLASSES = 6
CLASS_NAMES = SHAPE_NAMES[:DEFAULT_CLASSES]
MAX_CLASSES = 1000
#: A shape needs a slot this many pixels wide to stay recognisable.
MIN_SLOT = 8

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
    if label == 5:  # diagonal bar, "/" or "\" by slope sign
        return _diagonal(dx, dy, r, t, slope)
    if label == 6:  # ring: the circle with a hole of the bars' thickness twice over
        d2 = dx * dx + dy * dy
        return (d2 <= r * r) & (d2 >= np.maximum(r - 2 * t, 0) ** 2)
    if label == 7:  # plus: a horizontal and a vertical bar crossing
        return ((np.abs(dy) <= t) & (np.abs(dx) <= r)) | ((np.abs(dx) <= t) & (np.abs(dy) <= r))
    if label == 8:  # diamond: the square turned by 45°
        return np.abs(dx) + np.abs(dy) <= r
    # cross: both diagonal bars
    return _diagonal(dx, dy, r, t, 1.0) | _diagonal(dx, dy, r, t, -1.0)


def _diagonal(dx, dy, r, t, slope):
    """A bar along the 45° axis ("/" or "\" by the slope's sign): distances measured along
    and across that axis."""
    across = np.abs(dx - slope * dy) / np.sqrt(2.0)
    along = np.abs(dx + slope * dy) / np.sqrt(2.0)
    return (across <= t) & (along <= r)


def slots_for(classes: int) -> int:
    """Shapes per image: one for up to ten classes, else the number of base-10 digits of the
    largest class index (two for up to 100 classes, three for up to 1,000)."""
    return 1 if classes <= len(SHAPE_NAMES) else len(str(classes - 1))


def _digits(labels: np.ndarray, slots: int) -> list[np.ndarray]:
    """Each slot's shape, left to right: the class index written in base 10."""
    return [(labels // 10 ** (slots - 1 - j)) % 10 for j in range(slots)]


def class_names(classes: int = DEFAULT_CLASSES) -> list[str]:
    """The names of ``classes`` classes: shapes, or shapes side by side ("ring · plus")."""
    slots = slots_for(classes)
    if slots == 1:
        return SHAPE_NAMES[:classes]
    labels = np.arange(classes)
    return [" · ".join(SHAPE_NAMES[int(d[i])] for d in _digits(labels, slots))
            for i in range(classes)]


def _check_classes(classes: int, size: int) -> None:
    slots = slots_for(classes)
    if slots > 1 and size < MIN_SLOT * slots:
        raise DatasetError(f"dataset.classes: {classes:,} classes put {slots} shapes side by "
                           f"side, which needs images of at least {MIN_SLOT * slots} pixels "
                           f"(size is {size}); raise dataset.size or use at most "
                           f"{len(SHAPE_NAMES)} classes")


def generate_shapes(count: int, size: int, channels: int, noise: float, seed: int,
                    classes: int = DEFAULT_CLASSES) -> tuple[np.ndarray, np.ndarray]:
    """(x float32 (count, channels, size, size) in 0..1, y int64 (count,)), deterministic by seed.

    Up to ten ``classes`` are one shape each; more put two or three shapes side by side, each
    in its own slot (class 123 of 1,000: square · triangle · horizontal bar)."""
    if count * channels * size * size > MAX_VALUES:
        raise DatasetError(f"dataset: {count:,} shapes of {channels}×{size}×{size} would need "
                           f"more than {MAX_VALUES * 4 // 2**30} GiB; lower count or size")
    _check_classes(classes, size)
    rng = rng_for(seed, GENERATE_STREAM)
    if count >= classes:
        y = np.arange(count, dtype=np.int64) % classes  # balanced classes
        rng.shuffle(y)
    else:   # fewer images than classes: that many different classes, drawn at random
        y = rng.choice(classes, count, replace=False).astype(np.int64)

    def per_sample(values: np.ndarray) -> np.ndarray:
        return values.reshape(-1, 1, 1)

    # One row per slot (a single row for up to ten classes): each slot's shape stays inside it.
    slots = slots_for(classes)
    width = size / slots
    drawn = (slots, count)
    left = np.arange(slots).reshape(-1, 1) * width
    r = rng.uniform(0.18, 0.38, drawn) * width                    # half-extent
    cx = left + r + 0.5 + rng.random(drawn) * (width - 2 * r - 1)
    cy = r + 0.5 + rng.random(drawn) * (size - 2 * r - 1)
    t = np.maximum(rng.uniform(0.2, 0.32, drawn) * r, 0.6)        # bar half-thickness: long, thin bars
    slope = rng.choice([-1.0, 1.0], drawn)
    brightness = rng.uniform(0.7, 1.0, count)
    if channels == 3:
        color = rng.uniform(0.15, 1.0, (count, 3))
        color *= (brightness / color.max(axis=1))[:, None]        # brightest channel = brightness
    else:
        color = brightness[:, None]

    centres = np.arange(size, dtype=np.float64) + 0.5             # pixel centres
    mask = np.zeros((count, size, size), dtype=bool)
    for slot, shapes in enumerate(_digits(y, slots)):
        for label in range(len(SHAPE_NAMES)):
            idx = np.flatnonzero(shapes == label)
            if idx.size == 0:
                continue
            dx = centres.reshape(1, 1, -1) - per_sample(cx[slot, idx])
            dy = centres.reshape(1, -1, 1) - per_sample(cy[slot, idx])
            mask[idx] |= _masks(label, dx, dy, per_sample(r[slot, idx]),
                                per_sample(t[slot, idx]), per_sample(slope[slot, idx]))

    x = mask[:, None, :, :].astype(np.float32) * color[:, :, None, None].astype(np.float32)
    if noise > 0:
        x += rng.normal(0.0, noise, x.shape).astype(np.float32)
        np.clip(x, 0.0, 1.0, out=x)
    return x, y


def load_shapes_raw(count: int, size: int, channels: int, noise: float, seed: int,
                    classes: int = DEFAULT_CLASSES) -> RawSamples:
    x, y = generate_shapes(count, size, channels, noise, seed, classes)
    return RawSamples(x=x, y=y)


# --- the declaration ---------------------------------------------------------------------------
DEFAULT_COUNT = 3000
MAX_SIZE = 256
#: A generated set chosen for the user (a default dataset, a one-click fit) stays below this
#: many values (200 MB of float32), so a 3×224×224 network gets a few hundred images that a
#: laptop holds, not 1.8 GB.
FIT_VALUES = 50_000_000


def fitting_count(count: int, channels: int, size: int, classes: int = DEFAULT_CLASSES) -> int:
    """``count`` lowered so the set stays under FIT_VALUES: to whole rounds of the classes where
    that leaves room for ten images of each, else (a thousand classes at 224×224) to what fits."""
    per_image = channels * size * size
    most = FIT_VALUES // per_image
    if most >= 10 * classes:
        most = most // classes * classes
    else:
        most = max(most, min(10 * classes, MAX_VALUES // per_image))
    return min(count, most)


def _kind_of_set(classes: int) -> str:
    slots = slots_for(classes)
    if slots == 1:
        return f"{classes} classes"
    return f"{classes:,} classes ({('two', 'three')[slots - 2]} shapes side by side)"


def _load(values: dict, common, base_dir):
    from .splits import build_dataset
    count, size, channels, noise, classes = (values["count"], values["size"],
                                             values["channels"], values["noise"],
                                             values["classes"])
    raw = load_shapes_raw(count, size, channels, noise, common.seed, classes)
    color = "color" if channels == 3 else "gray"
    notes = []
    if count < classes:
        notes.append(f"{classes:,} classes but {count:,} images: each image is a class of its "
                     f"own, so validation images are of classes never trained on — this set "
                     f"shows what an epoch costs, it cannot teach {classes:,} classes")
    return build_dataset(raw, common, name="shapes", task="classification",
                         class_names=class_names(classes), notes=notes,
                         source=f"generated shapes ({count:,} images of "
                                f"{_kind_of_set(classes)}, {size}×{size} {color}, "
                                f"noise {noise:g}, seed {common.seed})")


def _peek(values: dict, base_dir) -> DataShape:
    _check_classes(values["classes"], values["size"])
    return DataShape((values["channels"], values["size"], values["size"]), "classification",
                     tuple(class_names(values["classes"])), samples=values["count"])


def _describe(values: dict) -> str:
    color = "color" if values["channels"] == 3 else "gray"
    return (f"shapes: {values['count']:,} generated {values['size']}×{values['size']} {color} "
            f"images of {_kind_of_set(values['classes'])}, noise {values['noise']:g}")


def _fit(values: dict, shape: tuple[int, ...]) -> dict | None:
    if len(shape) != 3 or shape[0] not in (1, 3) or shape[1] != shape[2] \
            or not 8 <= shape[1] <= MAX_SIZE \
            or shape[1] < MIN_SLOT * slots_for(values["classes"]):
        return None
    channels, size = shape[0], shape[1]
    return {"size": size, "channels": channels,
            "count": fitting_count(values["count"], channels, size, values["classes"])}


register(DatasetKind(
    name="shapes",
    label="Shapes (generated)",
    summary="Generated shapes (circle, square, triangle, bars, ring, plus, diamond, cross): any "
            "size, gray or color; up to 1,000 classes as shapes side by side",
    params=(IntParam("size", 28, "image height and width", minimum=8, maximum=MAX_SIZE),
            ChoiceParam("channels", 1, "1 for gray, 3 for color", choices=(1, 3)),
            IntParam("count", DEFAULT_COUNT, "how many images to generate (balanced classes)",
                     minimum=6, maximum=200_000),
            FloatParam("noise", 0.1, "standard deviation of the pixel noise added",
                       minimum=0.0, maximum=1.0),
            IntParam("classes", DEFAULT_CLASSES, "how many classes: up to 10 are one shape each "
                     "(circle, square, triangle, three bars, ring, plus, diamond, cross); more "
                     "put two (up to 100) or three (up to 1,000, like ImageNet) shapes side by "
                     "side", minimum=2, maximum=MAX_CLASSES)),
    load=_load, peek=_peek, describe=_describe, fit=_fit,
))
