"""scikit-learn's bundled 8×8 digits: ships inside the sklearn wheel, so training works offline.

The file is read directly (``sklearn/datasets/data/digits.csv.gz``, the same parsing as
``sklearn.datasets.load_digits``) without importing scikit-learn: importing it loads scipy,
which costs seconds at start-up and ~100 MB in a frozen app. The packaged app carries a copy
of the file in its resources (``data/digits.csv.gz``, copied by packaging/layerlab.spec), which
is looked at first; a source install finds it inside the installed scikit-learn.
"""
from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import numpy as np

from ..resources import resource_path
from .errors import DatasetError
from .splits import RawSamples

CLASS_NAMES = [str(d) for d in range(10)]

#: inside the resources folder (frozen app) and inside the sklearn package respectively
BUNDLED_FILE = "data/digits.csv.gz"
SKLEARN_FILE = ("datasets", "data", "digits.csv.gz")


def digits_file() -> Path | None:
    """Where digits.csv.gz is: the app's resources first, then the installed scikit-learn."""
    bundled = resource_path(BUNDLED_FILE)
    if bundled.is_file():
        return bundled
    try:
        spec = importlib.util.find_spec("sklearn")  # locates the package, imports nothing
    except (ImportError, ValueError):
        spec = None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder).joinpath(*SKLEARN_FILE)
        if path.is_file():
            return path
    return None


def read_digits_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(images float64 n×8×8 in 0..16, targets int) exactly as sklearn's load_digits gives."""
    with gzip.open(path, mode="rt", encoding="utf-8") as f:
        data = np.loadtxt(f, delimiter=",")
    if data.ndim != 2 or data.shape[1] != 65:
        raise ValueError(f"expected rows of 65 columns (64 pixels and the digit), found an "
                         f"array of shape {data.shape}")
    return data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(int, copy=False)


def load_digits_raw() -> RawSamples:
    path = digits_file()
    if path is None:
        raise DatasetError("the digits dataset needs scikit-learn, which is not installed "
                           "(it ships the file sklearn/datasets/data/digits.csv.gz); "
                           "install it with `pip install scikit-learn`")
    try:
        images, target = read_digits_csv(path)
    except (OSError, EOFError, ValueError) as exc:
        raise DatasetError(f"cannot read the digits file {path}: {exc}") from exc
    # Pixels are 0..16 in the original; the pipeline's raw scale for images is 0..1.
    x = np.asarray(images, dtype=np.float32)[:, None, :, :] / np.float32(16.0)
    y = np.asarray(target, dtype=np.int64)
    return RawSamples(x=x, y=y)
