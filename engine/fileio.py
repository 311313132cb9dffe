"""Atomic file writes: a crash or a full disk leaves the old file or the new one, never half.

Used for project files, checkpoints and live metrics (which another process follows)."""
from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Callable

__all__ = ["atomic_write", "atomic_write_text"]


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)`` to fill a temporary file beside ``path``, flush it to disk,
    then rename it over ``path``. OSErrors name ``path``, not the temporary file."""
    path = Path(path)
    # A unique name created the ordinary way (not mkstemp, which makes files private): the
    # result gets the usual permissions, or keeps those of the file it replaces.
    tmp = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        open(tmp, "x").close()
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        write(str(tmp))
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        _replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    atomic_write(path, write)


def _replace(tmp: Path, path: Path) -> None:
    for attempt in range(20):
        try:
            os.replace(tmp, path)
            return
        except PermissionError:  # Windows: a reader holds the old file open for a moment
            if attempt == 19:
                raise
            time.sleep(0.05)
