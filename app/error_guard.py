"""The last guard: an exception that escapes into Qt's event loop is logged and shown in a
message box instead of ending the program (or vanishing into a terminal)."""
from __future__ import annotations

import logging
import sys
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path

__all__ = ["install_excepthook", "setup_logging", "log_path"]

log = logging.getLogger("layerlab.app")
_showing = False


def log_path() -> Path:
    from platformdirs import user_log_dir
    return Path(user_log_dir("LayerLab", appauthor=False)) / "layerlab.log"


def setup_logging() -> Path | None:
    """Log to a rotating file in the user's log folder (and stderr for warnings)."""
    root = logging.getLogger("layerlab")
    if root.handlers:
        return None
    root.setLevel(logging.INFO)
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=2,
                                      encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: "
                                               "%(message)s"))
        root.addHandler(handler)
    except OSError:
        path = None
    stream = logging.StreamHandler()
    stream.setLevel(logging.WARNING)
    root.addHandler(stream)
    return path


def _hook(exc_type, exc, tb) -> None:
    global _showing
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    log.error("unexpected error:\n%s", text)
    if _showing:
        return
    try:
        from PySide6.QtWidgets import QApplication, QMessageBox
        if QApplication.instance() is None:
            sys.__excepthook__(exc_type, exc, tb)
            return
        _showing = True
        box = QMessageBox(QMessageBox.Icon.Critical, "LayerLab — unexpected error",
                          f"Something went wrong: {exc_type.__name__}: {exc}\n\n"
                          "Your work is still open; saving it now is a good idea. The details "
                          f"are in the log ({log_path()}).")
        box.setDetailedText(text)
        box.exec()
    except Exception:
        sys.__excepthook__(exc_type, exc, tb)
    finally:
        _showing = False


def install_excepthook() -> None:
    sys.excepthook = _hook
