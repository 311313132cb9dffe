"""Where a spec's ``path`` points (project-relative, absolute, or inside the bundled
resources), and what is there: only regular files are ever opened.

A FIFO would block the reader forever and ``/dev/zero`` never ends, so every file a loader
reads passes :func:`check_regular` first, and a path that is neither a folder nor a regular
file is named for what it is ("a named pipe (FIFO)"), never called a folder or a file.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import DatasetError

RESOURCES_PREFIX = "resources:"


def resources_dir() -> Path:
    """The installed ``layerlab.resources`` folder, or the source tree's resources/ as a fallback."""
    try:
        from importlib.resources import files
        root = files("layerlab.resources")
        if isinstance(root, Path) or hasattr(root, "__fspath__"):
            return Path(root)
    except (ImportError, ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parents[2] / "resources"


def what_is(mode: int) -> str:
    """A file type in words, from ``os.stat().st_mode``."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISREG(mode):
        return "a file"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def shown_path(text: str) -> str:
    """A spec's path as a description shows it: a bundled file without its prefix."""
    return text[len(RESOURCES_PREFIX):] if text.startswith(RESOURCES_PREFIX) else text


def full_path(text: str, base_dir: str | Path | None) -> Path:
    """The path a spec's text means (nothing is checked)."""
    if text.startswith(RESOURCES_PREFIX):
        return resources_dir() / text[len(RESOURCES_PREFIX):].lstrip("/\\")
    path = Path(text).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    return path


def resolve_path(text: str, base_dir: str | Path | None, *, want_dir: bool) -> Path:
    """The checked path: it exists and is a folder (``want_dir``) or a regular file."""
    path = full_path(text, base_dir)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise DatasetError(f"dataset.path: '{text}' not found (looked at {path})") from None
    except NotADirectoryError:
        raise DatasetError(f"dataset.path: '{text}' not found — a part of it is a file, "
                           f"not a folder") from None
    except (OSError, ValueError) as exc:   # a name too long, a NUL byte, no permission
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise DatasetError(f"dataset.path: '{text}' is not a usable path ({reason})") from None
    wanted = "a folder" if want_dir else "a file"
    found = what_is(mode)
    if found != wanted:
        raise DatasetError(f"dataset.path: '{path}' is {found}; expected {wanted}")
    return path


def check_regular(path: Path, name: str | None = None) -> Path:
    """``path`` if it is a regular file (after links); else DatasetError saying what it is."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise DatasetError(f"{name or path.name}: cannot be read "
                           f"({exc.strerror or type(exc).__name__})") from None
    if not stat.S_ISREG(mode):
        raise DatasetError(f"{name or path.name}: is {what_is(mode)}, not a regular file")
    return path


def is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False
