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
import warnings
from pathlib import Path

import numpy as np

from ..params import PairParam, pair
from ..resources import resource_path
from .errors import DatasetError
from .kinds import DataShape, DatasetKind, register
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
    with gzip.open(path, mode="rt", encoding="utf-8") as f, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)     # "input contained no data": below
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
        # The reason in words, never the parser's text (which quotes the file's content).
        reason = "not the expected table of 65 numbers per row" if isinstance(
            exc, ValueError) else "cannot be read or decompressed"
        raise DatasetError(f"the digits file {path} is damaged: {reason} "
                           f"({type(exc).__name__}); reinstall scikit-learn") from None
    # Pixels are 0..16 in the original; the pipeline's raw scale for images is 0..1.
    x = np.asarray(images, dtype=np.float32)[:, None, :, :] / np.float32(16.0)
    y = np.asarray(target, dtype=np.int64)
    return RawSamples(x=x, y=y)


# --- the declaration ---------------------------------------------------------------------------
SAMPLES = 1797
MAX_SIZE = 128


def _load(values: dict, common, base_dir):
    from .splits import build_dataset, upsample
    h, w = pair(values["size"])
    raw = load_digits_raw()
    if (h, w) != (8, 8):
        raw = RawSamples(x=upsample(raw.x, (h, w)), y=raw.y)
    return build_dataset(raw, common, name="digits", task="classification",
                         class_names=CLASS_NAMES, stored_scale=1 / 16,  # pixels 0..16 stored
                         source=f"scikit-learn digits ({len(raw.x):,} images"
                                + (f", upsampled to {h}×{w})" if (h, w) != (8, 8) else ")"))


def _peek(values: dict, base_dir) -> DataShape:
    h, w = pair(values["size"])
    return DataShape((1, h, w), "classification", tuple(CLASS_NAMES), samples=SAMPLES)


def _describe(values: dict) -> str:
    h, w = pair(values["size"])
    if (h, w) == (8, 8):
        return "digits: scikit-learn 8×8 handwritten digits"
    return f"digits: scikit-learn 8×8 handwritten digits upsampled to {h}×{w}"


def _fit(values: dict, shape: tuple[int, ...]) -> dict | None:
    if len(shape) != 3 or shape[0] != 1 or not all(8 <= d <= MAX_SIZE for d in shape[1:]):
        return None
    h, w = shape[1], shape[2]
    return {"size": h if h == w else [h, w]}


register(DatasetKind(
    name="digits",
    label="Digits (bundled)",
    summary="Handwritten digits 0–9: 1,797 gray 8×8 images bundled with scikit-learn, "
            "upsampled to any size from 8 to 128",
    params=(PairParam("size", 8, "image size: 8 is the original; larger sizes are upsampled "
                      "(28 for an MNIST-shaped network, 32 for LeNet-5)",
                      minimum=8, maximum=MAX_SIZE),),
    load=_load, peek=_peek, describe=_describe, fit=_fit,
))
