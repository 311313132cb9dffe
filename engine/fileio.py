"""Atomic file writes: a crash or a full disk leaves the old file or the new one, never half.

Used for project files, checkpoints and live metrics (which another process follows).

A write that is killed outright (kill -9, power loss) cannot remove its temporary file. Those
are cleaned up by the next write to the same folder: only names of our own exact pattern
(``.NAME.PID.XXXXXXXX.tmp``), and only when the process that made them is gone (or, where that
cannot be told, when they are a day old) — never a file another live writer is filling.
"""
from __future__ import annotations

import os
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Callable

__all__ = ["atomic_write", "atomic_write_text", "clean_stale_temp_files", "process_alive"]

#: How a temporary file of ours is named; group 1 is the target's name, group 2 the writer's pid.
TEMP_PATTERN = re.compile(r"^\.(.+)\.(\d+)\.[0-9a-f]{8}\.tmp$")
#: Older than this, a temporary file is stale whoever made it (no write takes a day).
STALE_AFTER_S = 24 * 3600


def _temp_name(path: Path) -> Path:
    return path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"


def _alive(pid: int) -> bool | None:
    """True/False when it can be told that process ``pid`` exists; None when it cannot."""
    if pid == os.getpid():
        return True
    if sys.platform == "win32":     # os.kill(pid, 0) would send CTRL_C_EVENT there
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:         # it exists, under another user
        return True
    except (OSError, OverflowError):
        return None
    return True


#: Whether a process of this machine exists (True/False), or None when it cannot be told.
process_alive = _alive


def clean_stale_temp_files(folder: str | os.PathLike, now: float | None = None) -> list[Path]:
    """Remove leftovers of interrupted atomic writes in ``folder``; returns what was removed.
    Never raises: cleaning up is a courtesy, not part of the write."""
    removed: list[Path] = []
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = TEMP_PATTERN.match(entry.name)
        if not match:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            age = now - entry.stat(follow_symlinks=False).st_mtime
            alive = _alive(int(match.group(2)))
            if alive is False or (age > STALE_AFTER_S and int(match.group(2)) != os.getpid()):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)`` to fill a temporary file beside ``path``, flush it to disk,
    then rename it over ``path``. OSErrors name ``path``, not the temporary file."""
    path = Path(path)
    # A unique name created the ordinary way (not mkstemp, which makes files private): the
    # result gets the usual permissions, or keeps those of the file it replaces.
    tmp = _temp_name(path)
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
    clean_stale_temp_files(path.parent)


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
