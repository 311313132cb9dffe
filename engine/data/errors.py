"""The one exception the dataset layer lets out, so callers (GUI, CLI, trainer) can show it as is."""
from __future__ import annotations


class DatasetError(Exception):
    """A dataset could not be loaded.

    The message is meant for the user: it names the file or spec field, what was expected
    and what was found.
    """
