"""scikit-learn's bundled 8×8 digits: ships inside the sklearn wheel, so training works offline."""
from __future__ import annotations

import numpy as np

from .errors import DatasetError
from .splits import RawSamples

CLASS_NAMES = [str(d) for d in range(10)]


def load_digits_raw() -> RawSamples:
    try:
        from sklearn.datasets import load_digits  # heavy import: only when this kind is used
    except ImportError as exc:
        raise DatasetError(f"the digits dataset needs scikit-learn, which is not installed ({exc})")
    bunch = load_digits()
    # Pixels are 0..16 in the original; the pipeline's raw scale for images is 0..1.
    x = np.asarray(bunch.images, dtype=np.float32)[:, None, :, :] / np.float32(16.0)
    y = np.asarray(bunch.target, dtype=np.int64)
    return RawSamples(x=x, y=y)
