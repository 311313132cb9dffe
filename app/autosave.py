"""Autosave and crash recovery.

While a session runs it holds a lock file in the autosave folder and, every ``interval``
seconds when the document is modified, writes the project there. Trained weights that are
not saved yet are there too: the training worker writes its last good weights (a checkpoint)
to the session's ``weights_dir`` as it trains, and the dashboard then writes the project
copy. A clean exit or a save removes the copy. At start, a copy whose session lock is no
longer held (its process died) is offered for recovery, with its weights.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QTimer

from layerlab.engine import Project, load_project, save_project

from .editor import Editor

__all__ = ["Autosave", "Recovery", "find_recoveries", "default_autosave_dir"]

log = logging.getLogger(__name__)


def default_autosave_dir() -> Path:
    from platformdirs import user_data_dir
    return Path(user_data_dir("LayerLab", appauthor=False)) / "autosave"


def _remove(*paths: Path) -> None:
    """An autosave copy, its metadata and weights folder, gone (already gone is fine)."""
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def weights_dir_of(directory: Path, session: str) -> Path:
    """Where session ``session`` keeps its unsaved trained weights (a checkpoint folder)."""
    return Path(directory) / f"autosave-{session}-weights"


def _has_weights(folder: Path) -> bool:
    return (folder / "weights.safetensors").is_file()


@dataclass(frozen=True)
class Recovery:
    file: Path
    meta: Path
    original: Path | None     # the file the work belonged to (None: never saved)
    saved_at: float
    weights: Path | None = None   # its unsaved trained weights (a checkpoint folder)

    def load(self) -> Project:
        return load_project(self.file)

    def discard(self) -> None:
        _remove(self.file, self.meta, *(p for p in (self.weights,) if p is not None))


def find_recoveries(directory: Path) -> list[Recovery]:
    """Autosaved work whose session has ended without cleaning up, newest first. Lock files
    of dead sessions that left nothing behind are tidied away."""
    directory = Path(directory)
    for lock_path in directory.glob("session-*.lock"):
        session = lock_path.stem[len("session-"):]
        if not (directory / f"autosave-{session}.json").exists():
            lock = QLockFile(str(lock_path))
            if lock.tryLock(0):      # its owner is gone
                lock.unlock()        # (removes the file)
                _remove(weights_dir_of(directory, session))
    found = []
    for file in Path(directory).glob("autosave-*.json"):
        if file.name.endswith(".meta.json"):
            continue
        session = file.stem[len("autosave-"):]
        lock = QLockFile(str(directory / f"session-{session}.lock"))
        if not lock.tryLock(0):
            continue          # that session is still running
        lock.unlock()
        meta = file.with_name(f"autosave-{session}.meta.json")
        original, saved_at = None, file.stat().st_mtime
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
            original = Path(data["path"]) if data.get("path") else None
            saved_at = float(data.get("saved_at", saved_at))
        except (OSError, ValueError, KeyError, TypeError):
            pass
        weights = weights_dir_of(directory, session)
        found.append(Recovery(file, meta, original, saved_at,
                              weights if _has_weights(weights) else None))
    return sorted(found, key=lambda r: r.saved_at, reverse=True)


class Autosave(QObject):
    def __init__(self, editor: Editor, directory: Path, interval_s: float = 60.0,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.session = uuid.uuid4().hex[:12]
        self.lock = QLockFile(str(self.directory / f"session-{self.session}.lock"))
        self.lock.setStaleLockTime(0)
        self.lock.tryLock(0)
        self.file = self.directory / f"autosave-{self.session}.json"
        self.meta = self.directory / f"autosave-{self.session}.meta.json"
        #: Where the training worker keeps this session's unsaved trained weights.
        self.weights_dir = weights_dir_of(self.directory, self.session)
        self.timer = QTimer(self)
        self.timer.setInterval(int(interval_s * 1000))
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    def tick(self) -> None:
        if self.editor.is_modified():
            self.save_now()

    def save_now(self) -> bool:
        doc = self.editor.document
        try:
            save_project(doc.project, self.file)
            self.meta.write_text(json.dumps({"path": str(doc.path) if doc.path else None,
                                             "saved_at": time.time(), "pid": os.getpid()}),
                                 encoding="utf-8")
            return True
        except OSError:
            log.exception("autosave failed")
            return False

    def discard(self) -> None:
        """The work is safe (saved, or deliberately thrown away): drop the copy."""
        _remove(self.file, self.meta)

    def discard_weights(self) -> None:
        """Another project: the last one's autosaved weights are no longer this session's."""
        _remove(self.weights_dir)

    def close(self) -> None:
        """Clean exit: no copy left behind, lock released."""
        self.timer.stop()
        self.discard()
        self.discard_weights()
        self.lock.unlock()
