"""Where the bundled resources (templates, sample data, icons) live, installed or frozen."""
from __future__ import annotations

import sys
from importlib import resources as _ilr
from pathlib import Path


def resources_dir() -> Path:
    """The resources folder: inside the installed package, or beside the frozen executable."""
    frozen = getattr(sys, "_MEIPASS", None)  # PyInstaller one-folder bundles
    if frozen and (Path(frozen) / "layerlab" / "resources").is_dir():
        return Path(frozen) / "layerlab" / "resources"
    try:
        path = Path(str(_ilr.files("layerlab.resources")))
        if path.is_dir():
            return path
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(relative: str) -> Path:
    """``"templates/lenet5.json"`` → absolute path. Also accepts ``"resources:..."``."""
    if relative.startswith("resources:"):
        relative = relative[len("resources:"):]
    return resources_dir() / relative
