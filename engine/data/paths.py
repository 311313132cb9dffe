"""Where a spec's ``path`` points: project-relative, absolute, or inside the bundled resources."""
from __future__ import annotations

from pathlib import Path

from .errors import DatasetError
from .spec import get_str

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


def resolve_path(spec: dict, base_dir: str | Path | None, *, want_dir: bool) -> Path:
    text = get_str(spec, "path")
    if text.startswith(RESOURCES_PREFIX):
        path = resources_dir() / text[len(RESOURCES_PREFIX):].lstrip("/\\")
    else:
        path = Path(text).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
    try:
        exists = path.exists()
    except (OSError, ValueError) as exc:   # e.g. a name too long, or a NUL byte from a bad JSON
        raise DatasetError(f"dataset.path: '{text}' is not a usable path ({exc})") from None
    if not exists:
        raise DatasetError(f"dataset.path: '{text}' not found (looked at {path})")
    if want_dir and not path.is_dir():
        raise DatasetError(f"dataset.path: '{path}' is a file; expected a folder")
    if not want_dir and not path.is_file():
        raise DatasetError(f"dataset.path: '{path}' is a folder; expected a file")
    return path
