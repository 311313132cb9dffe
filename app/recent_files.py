"""The recently opened project files, kept in QSettings (most recent first)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

__all__ = ["RecentFiles"]

KEY = "files/recent"
LIMIT = 10


class RecentFiles:
    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def paths(self) -> list[Path]:
        raw = self.settings.value(KEY, [])
        if isinstance(raw, str):      # QSettings returns a bare string for one entry
            raw = [raw]
        return [Path(p) for p in (raw or []) if p]

    def add(self, path: Path) -> None:
        path = Path(path).resolve()
        paths = [path] + [p for p in self.paths() if p != path]
        self._store(paths[:LIMIT])

    def remove(self, path: Path) -> None:
        self._store([p for p in self.paths() if p != Path(path).resolve()])

    def clear(self) -> None:
        self._store([])

    def _store(self, paths: list[Path]) -> None:
        self.settings.setValue(KEY, [str(p) for p in paths])
        self.settings.sync()
