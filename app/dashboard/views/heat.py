"""Heatmaps over images: the colours of "where it looked" (numpy only, shared by the saliency
view and the confusion gallery)."""
from __future__ import annotations

import numpy as np

__all__ = ["overlay", "heat_rgb", "as_rgb"]


def as_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, 3) in 0..1 → (H, W, 3) float32."""
    a = np.asarray(image, dtype=np.float32)
    return np.repeat(a[..., None], 3, axis=-1) if a.ndim == 2 else a


def heat_rgb(heat: np.ndarray) -> np.ndarray:
    """0..1 → (…, 3) in 0..1 with the "inferno" colours (dark = nothing, yellow = most)."""
    from .image_grid import lut
    colors = lut("inferno").astype(np.float32) / 255.0
    return colors[(np.clip(np.nan_to_num(heat), 0.0, 1.0) * 255).astype(np.uint8)]


def overlay(image: np.ndarray, heat: np.ndarray, strength: float = 0.65) -> np.ndarray:
    """The image in grey with the heat laid over it, more opaque where it is stronger: the
    picture stays readable where the network did not look."""
    gray = as_rgb(image).mean(axis=-1, keepdims=True)
    base = np.repeat(0.25 + 0.5 * gray, 3, axis=-1)
    h = np.clip(np.asarray(heat, dtype=np.float32), 0.0, 1.0)[..., None]
    alpha = strength * np.sqrt(h)
    return (1 - alpha) * base + alpha * heat_rgb(h[..., 0])
