"""How numbers are written in the worked explanations: short, but never hiding a sign."""
from __future__ import annotations

import math

import numpy as np

__all__ = ["num", "grid", "to_list", "finite_json"]


def num(x: float, digits: int = 4) -> str:
    """0.123456 → '0.1235'; −0.0 → '0'; 1e-9 → '1e-09'; nan → 'nan'."""
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    if x == 0:
        return "0"
    return f"{x:.{digits}g}"


def grid(rows: np.ndarray, width: int = 8, blank: str = "pad") -> list[str]:
    """A 2-D array as aligned text rows; NaN marks a cell outside the input (``blank``)."""
    out = []
    for row in np.atleast_2d(rows):
        out.append(" ".join((blank if np.isnan(v) else num(v)).rjust(width) for v in row))
    return out


def to_list(a) -> object:
    """numpy → nested lists of Python floats for JSON; NaN (outside the input) → None."""
    if a is None:
        return None
    arr = np.asarray(a)
    if arr.dtype.kind in "iub":
        return arr.tolist()
    flat = [None if math.isnan(v) else v for v in arr.astype(np.float64).ravel().tolist()]
    if arr.ndim == 0:
        return flat[0]
    return np.array(flat, dtype=object).reshape(arr.shape).tolist()


def finite_json(data):
    """``data`` with every NaN or infinite float replaced by None, so it is strict JSON (a
    p-norm of negative values, say, is NaN in PyTorch too)."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: finite_json(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [finite_json(v) for v in data]
    return data
