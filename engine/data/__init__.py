"""Offline datasets for training: bundled, generated, or read from the user's own files.

Nothing here downloads; every kind reads local files or data shipped with a dependency.
Entry points: ``load_dataset(spec, base_dir)`` -> ``Dataset``; ``check_fits`` for the Input
node's shape; ``augment`` for per-batch flips/shifts; ``describe`` and ``DATASET_KINDS`` for UIs.
"""
from .augment import augment
from .dataset import Dataset, check_fits
from .errors import DatasetError
from .loader import DATASET_KINDS, describe, load_dataset

__all__ = ["DATASET_KINDS", "Dataset", "DatasetError", "augment", "check_fits", "describe",
           "load_dataset"]
