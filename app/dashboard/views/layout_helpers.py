"""Small layout rules shared by the dashboard's views, which live in narrow docks."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import (QFrame, QLabel, QLayout, QScrollArea, QSizePolicy,
                               QVBoxLayout, QWidget)

__all__ = ["caption", "column", "expanding", "still_plot", "vertical_scroll", "wraps_within"]


def caption(text: str = "", name: str | None = None) -> QLabel:
    """A wrapped label that never widens its dock: a QLabel's size hint is its text's one-line
    width, which the dock layout would honour by squeezing the neighbouring docks."""
    label = QLabel(text)
    label.setWordWrap(True)
    policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    policy.setHeightForWidth(True)   # what setWordWrap set; a new policy must keep it
    label.setSizePolicy(policy)
    label.setMinimumWidth(40)
    if name:
        label.setObjectName(name)
    return label


def column(*parts, grow: QWidget | None = None) -> QWidget:
    """A widget holding ``parts`` (widgets or layouts) top to bottom without margins; ``grow``
    (one of them) takes the spare height."""
    widget = QWidget()
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(0, 0, 0, 0)
    for part in parts:
        if isinstance(part, QLayout):
            layout.addLayout(part)
        else:
            layout.addWidget(part, 1 if part is grow else 0)
    return widget


def wraps_within(label: QLabel, text: str, height: int) -> bool:
    """Whether ``text``, wrapped at ``label``'s width in its font, is at most ``height``
    pixels tall: what a label of fixed height can show whole."""
    width = max(label.width(), 40)
    return label.fontMetrics().boundingRect(QRect(0, 0, width, 10 * max(height, 1)),
                                            Qt.TextFlag.TextWordWrap, text).height() <= height


def expanding(widget: QWidget) -> QWidget:
    """The view's main content takes the spare height (not the caption above it)."""
    widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    return widget


def still_plot(left: str | None = None, bottom: str | None = None,
               axis_items: dict | None = None) -> pg.PlotWidget:
    """A plot the data moves, not the mouse: transparent background, no context menu, no
    pan/zoom, no auto-range button. Axis labels rather than titles: a long title would set a
    minimum width on the dock. Tick labels are the values themselves: pyqtgraph's unit
    prefixes made weights of −0.5 … 0.5 read "−500 … 500" under "value (x0.001)"."""
    plot = pg.PlotWidget(axisItems=axis_items or {}, enableMenu=False)
    plot.setBackground(None)
    item = plot.getPlotItem()
    item.setMenuEnabled(False)
    item.setMouseEnabled(False, False)
    item.hideButtons()
    for side in ("left", "bottom"):
        item.getAxis(side).enableAutoSIPrefix(False)
    if left:
        item.setLabel("left", left)
    if bottom:
        item.setLabel("bottom", bottom)
    return plot


def vertical_scroll(body: QWidget) -> QScrollArea:
    """``body`` scrolling up and down only, without a frame: a tall panel in a narrow dock
    (its text wraps to the dock's width instead of scrolling sideways)."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidget(body)
    return scroll
