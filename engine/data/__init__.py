"""Offline datasets for training: bundled, generated, or read from the user's own files.

Nothing here downloads; every kind reads local files or data shipped with a dependency.
Each kind is declared once (``kinds.py``: settings, loader, description, shape, fit).
Entry points: ``load_dataset(spec, base_dir)`` -> ``Dataset``; ``check_fits`` for the Input
node's shape; ``augment`` for per-batch flips/shifts; ``describe``, ``all_kinds`` and
``DATASET_KINDS`` for UIs; ``fit.dataset_spec`` / ``fit.dataset_problems`` for what a
project trains on and whether its graph fits it.

Importing this package does not import torch (the loaders and ``augment`` do, when called).
"""
from .augment import augment
from .dataset import Dataset, check_fits
from .errors import DatasetError
from .kinds import DataShape, DatasetKind, all_kinds
from .loader import DATASET_KINDS, describe, load_dataset

__all__ = ["DATASET_KINDS", "DataShape", "Dataset", "DatasetError", "DatasetKind", "all_kinds",
           "augment", "check_fits", "describe", "load_dataset"]
