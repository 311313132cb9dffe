"""Colours that follow the system's light or dark appearance.

Everything the app paints itself (canvas, node headers, icons) reads a :class:`Theme` built
from the current QPalette; :func:`watch_color_scheme` calls back when the system switches.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

__all__ = ["Theme", "GROUP_COLORS", "group_color", "current_theme", "is_dark",
           "watch_color_scheme", "PROJECTOR_SCALE", "set_projector", "projector", "text_scale",
           "projector_palette"]

#: Projector mode (View ▸ Projector Mode): text, canvas labels, plot fonts and line widths
#: this many times larger, in high contrast — readable from the back of a room.
PROJECTOR_SCALE = 1.6
_projector = False


def set_projector(on: bool) -> None:
    """Projector mode on or off for everything that paints itself (the canvas, the plots).
    Global like the application's font and palette it goes with (app/workshop/projector.py)."""
    global _projector
    _projector = bool(on)


def projector() -> bool:
    return _projector


def text_scale() -> float:
    """How much larger than designed text and lines are drawn now (1 outside projector mode)."""
    return PROJECTOR_SCALE if _projector else 1.0

#: One accent per registry group (readable on both light and dark backgrounds).
GROUP_COLORS = {
    "Input": "#6B7A90",
    "Convolution": "#E07A2E",
    "Pooling": "#2E9C95",
    "Activation": "#C99A12",
    "Normalization & regularization": "#8E63CF",
    "Dense": "#3A7BD5",
    "Merge": "#4A9B4A",
}


def group_color(group: str) -> QColor:
    return QColor(GROUP_COLORS.get(group, "#888888"))


def is_dark(palette: QPalette | None = None) -> bool:
    app = QGuiApplication.instance()
    if palette is None and app is not None:
        scheme = app.styleHints().colorScheme()
        if scheme != Qt.ColorScheme.Unknown:
            return scheme == Qt.ColorScheme.Dark
    palette = palette or (QGuiApplication.palette() if app else QPalette())
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


@dataclass(frozen=True)
class Theme:
    dark: bool
    canvas: QColor
    grid: QColor
    node_fill: QColor
    node_border: QColor
    text: QColor
    dim_text: QColor
    selection: QColor
    error: QColor
    ok: QColor
    edge: QColor
    edge_label_fill: QColor
    edge_label_text: QColor
    banner_fill: QColor
    banner_text: QColor
    #: Text and line scale (projector mode); colours are then at full contrast.
    scale: float = 1.0

    @classmethod
    def build(cls, dark: bool, palette: QPalette, projector: bool = False) -> "Theme":
        highlight = palette.color(QPalette.ColorRole.Highlight)
        if projector:     # full contrast: black on white (white on black), strong accents
            if dark:
                return cls(True, QColor("#000000"), QColor("#1A1A1A"), QColor("#101010"),
                           QColor("#FFFFFF"), QColor("#FFFFFF"), QColor("#E0E0E0"),
                           QColor("#4DA3FF"), QColor("#FF6B60"), QColor("#5CE07A"),
                           QColor("#FFFFFF"), QColor("#000000"), QColor("#FFFFFF"),
                           QColor("#6A5200"), QColor("#FFFFFF"), PROJECTOR_SCALE)
            return cls(False, QColor("#FFFFFF"), QColor("#EDEDED"), QColor("#FFFFFF"),
                       QColor("#000000"), QColor("#000000"), QColor("#202020"),
                       QColor("#0050D0"), QColor("#C00000"), QColor("#006B2E"),
                       QColor("#000000"), QColor("#FFFFFF"), QColor("#000000"),
                       QColor("#FFE680"), QColor("#000000"), PROJECTOR_SCALE)
        if dark:
            return cls(True, QColor("#1E2126"), QColor("#272A30"), QColor("#2A2E35"),
                       QColor("#454B55"), QColor("#E6E8EB"), QColor("#9AA3AE"),
                       highlight.lighter(130), QColor("#FF5A52"), QColor("#5CC27A"),
                       QColor("#7D8693"), QColor("#30353D"), QColor("#D5DAE0"),
                       QColor("#5A4A12"), QColor("#FFE8A3"))
        return cls(False, QColor("#F4F5F7"), QColor("#E6E8EC"), QColor("#FFFFFF"),
                   QColor("#C5CAD3"), QColor("#1F2328"), QColor("#5F6873"),
                   highlight, QColor("#D93025"), QColor("#2E8B57"),
                   QColor("#8A93A0"), QColor("#FFFFFF"), QColor("#39414B"),
                   QColor("#FFF3C4"), QColor("#5A4300"))


def current_theme() -> Theme:
    app = QGuiApplication.instance()
    palette = QGuiApplication.palette() if app else QPalette()
    return Theme.build(is_dark(), palette, _projector)


def projector_palette(dark: bool) -> QPalette:
    """The application palette of projector mode: full-contrast text on plain backgrounds
    (placeholder and disabled text stay dark enough to read on a projector)."""
    ink, paper, soft, dim = (("#FFFFFF", "#000000", "#1C1C1C", "#C8C8C8") if dark
                             else ("#000000", "#FFFFFF", "#EFEFEF", "#3A3A3A"))
    pal = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    for r, color in ((role.Window, paper), (role.WindowText, ink), (role.Base, paper),
                     (role.AlternateBase, soft), (role.Text, ink), (role.Button, soft),
                     (role.ButtonText, ink), (role.BrightText, "#FF0000"),
                     (role.Highlight, "#0050D0" if not dark else "#4DA3FF"),
                     (role.HighlightedText, "#FFFFFF" if not dark else "#000000"),
                     (role.ToolTipBase, paper), (role.ToolTipText, ink),
                     (role.PlaceholderText, dim), (role.Link, "#0040B0"),
                     (role.Mid, dim), (role.Dark, dim), (role.Light, paper)):
        pal.setColor(r, QColor(color))
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(group.Disabled, r, QColor(dim))
    return pal


def watch_color_scheme(owner: QObject, callback: Callable[[], None]) -> None:
    """Call ``callback`` when the system switches between light and dark (Qt 6.5+)."""
    app = QGuiApplication.instance()
    if app is None:
        return
    hints = app.styleHints()
    if hasattr(hints, "colorSchemeChanged"):
        hints.colorSchemeChanged.connect(lambda _scheme: callback())
