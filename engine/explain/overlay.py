"""A saliency heatmap laid over its input image, as a PNG (Pillow): the input on the left,
a gray copy of it with the heatmap blended over it on the right, both enlarged so that an
8×8 digit is big enough to see."""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from .errors import ExplainError
from .attribution import upsample

__all__ = ["colorize", "image_of", "overlay_image", "save_overlay"]

#: A dark-to-bright perceptual ramp (black → purple → red → orange → pale yellow): cold parts
#: stay dark, so the image shows through, and brightness alone reads as "looked here".
_STOPS = np.array([(0, 0, 4), (40, 11, 84), (101, 21, 110), (159, 42, 99), (212, 72, 66),
                   (245, 125, 21), (250, 193, 39), (252, 255, 164)], dtype=np.float64)
MIN_SIDE = 256
GAP = 8


def colorize(heat: np.ndarray) -> np.ndarray:
    """(H, W) values in 0…1 → (H, W, 3) uint8 colors."""
    t = np.clip(np.nan_to_num(np.asarray(heat, dtype=np.float64)), 0.0, 1.0)
    pos = t * (len(_STOPS) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(_STOPS) - 2)
    frac = (pos - lo)[..., None]
    return (_STOPS[lo] * (1 - frac) + _STOPS[lo + 1] * frac).round().astype(np.uint8)


def image_of(sample: np.ndarray) -> np.ndarray:
    """A model input (C, H, W), normalized or not, → (H, W, 3) uint8 for display: each image
    stretched to its own minimum…maximum (1 channel: gray; 3: RGB; else their mean)."""
    x = np.asarray(sample, dtype=np.float64)
    if x.ndim != 3:
        raise ExplainError(f"an overlay needs an image input (channels × height × width); "
                           f"this network takes {x.shape[0] if x.ndim == 1 else x.shape} "
                           f"features — use --json to read the saliency per feature")
    img = x if x.shape[0] == 3 else np.repeat(x.mean(axis=0, keepdims=True), 3, axis=0)
    low, high = float(img.min()), float(img.max())
    img = (img - low) / (high - low) if high > low else np.zeros_like(img)
    return (img.transpose(1, 2, 0) * 255).round().astype(np.uint8)


def overlay_image(sample: np.ndarray, heatmap: np.ndarray, alpha: float = 0.75):
    """A PIL image: the input | its gray copy with ``heatmap`` (any size, 0…1) over it. Each
    pixel's color is blended in by alpha · heat, so where it did not look the image stays
    as it is."""
    from PIL import Image
    base = image_of(sample)
    h, w = base.shape[:2]
    scale = max(1, math.ceil(MIN_SIDE / min(h, w)))
    big = np.asarray(Image.fromarray(base).resize((w * scale, h * scale), Image.NEAREST),
                     dtype=np.float64)
    heat = upsample(np.asarray(heatmap, dtype=np.float32), (h * scale, w * scale))
    # Over a gray copy of the image, so the heat's colors never blend into a colored shape.
    gray = np.repeat(big @ np.array([[0.299], [0.587], [0.114]]), 3, axis=2)
    weight = (alpha * heat)[..., None]
    blended = (1 - weight) * gray + weight * colorize(heat)
    canvas = np.full((h * scale, 2 * w * scale + GAP, 3), 255, dtype=np.uint8)
    canvas[:, :w * scale] = big.astype(np.uint8)
    canvas[:, w * scale + GAP:] = blended.round().clip(0, 255).astype(np.uint8)
    return Image.fromarray(canvas)


def save_overlay(path: str | os.PathLike, sample: np.ndarray, heatmap: np.ndarray) -> Path:
    path = Path(path)
    image = overlay_image(sample, heatmap)
    try:
        image.save(path, format="PNG")
    except OSError as exc:
        raise ExplainError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
