"""The one exception the dataset layer lets out, so callers (GUI, CLI, trainer) can show it as is."""
from __future__ import annotations


class DatasetError(Exception):
    """A dataset could not be loaded.

    The message is meant for the user: it names the file or spec field, what was expected
    and what was found — never the content of the file read. When changing settings would
    get past the problem (skipping a CSV's bad rows), ``fix`` holds those settings and
    ``fix_label`` says it in words, so a dialog can offer it as a button.
    """

    def __init__(self, message: str, *, fix: dict | None = None,
                 fix_label: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix
        self.fix_label = fix_label
