"""Shared set-up for the trainer tests (tests/test_training_*.py): import the fixtures by name."""
from __future__ import annotations

import pytest
import torch

from layerlab.engine.data import load_dataset


@pytest.fixture(autouse=True)
def one_thread():
    # Tiny models: one intra-op thread is as fast and immune to oversubscription.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def digits():
    """400 of the bundled digits: small enough for many short runs per test."""
    return load_dataset({"kind": "digits", "limit": 400})
