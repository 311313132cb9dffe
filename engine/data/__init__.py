"""Offline datasets for training: bundled, generated, or read from the user's own files.

Nothing here downloads; every kind reads local files or data shipped with a dependency.
Each kind is declared once (``kinds.py``: settings, loader, description, shape, fit).
Entry points: ``load_dataset(spec, base_dir)`` -> ``Dataset``; ``check_fits`` for the Input
node's shape; ``augment`` for per-batch flips/shifts; ``describe``, ``all_kinds`` and
``DATASET_KINDS`` for UIs; ``fit.dataset_spec`` / ``fit.dataset_problems`` for what a
project trains on and whether its graph fits it.

Importing this package (or ``fit``) imports neither torch nor numpy: the loaders and
``augment`` import them when called, and the names below that need numpy load on first use —
the window imports ``fit`` before its first paint.
"""
from importlib import import_module

from .errors import DatasetError
from .kinds import DataShape, DatasetKind, all_kinds

__all__ = ["DATASET_KINDS", "DataShape", "Dataset", "DatasetError", "DatasetKind", "all_kinds",
           "augment", "check_fits", "describe", "load_dataset"]

#: name → the module that defines it, imported when the name is first asked for.
_LAZY = {"augment": "augment", "Dataset": "dataset", "check_fits": "dataset",
         "DATASET_KINDS": "loader", "describe": "loader", "load_dataset": "loader"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
