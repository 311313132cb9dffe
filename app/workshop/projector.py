"""Projector mode and the presenter layout (View menu).

**Projector mode** (Ctrl+Shift+P) makes the window readable from the back of a room: every
text ×1.6 (the application font, and each widget whose font was sized on purpose — titles,
the inspector's arithmetic — by the same factor), the canvas in full contrast with its
large-type cards sooner and a larger zoom for small networks (app/theme.py ``text_scale``),
the plots' fonts and line widths ×1.6 in black on white, and a full-contrast palette. It is
remembered across restarts (the window's QSettings, ``view/projector``).

**Presenter layout** (Ctrl+Shift+L) is a layout, not a look: only the canvas and the Loss
plot stay, both large; turning it off brings back the docks as they were. (It is a sibling of
the Build/Train workspaces, and only a View-menu toggle.)
"""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QDockWidget, QWidget

from .. import theme

if TYPE_CHECKING:
    import pyqtgraph as pg

__all__ = ["ProjectorMode", "PresenterLayout", "SETTING", "scale_plot"]

SETTING = "view/projector"
#: QFont::SizeResolved: the font's size was set on purpose (PySide gives the mask as an int).
_SIZE_RESOLVED = 0x0002
_BASE_PT = "projectorBasePt"          # a widget's own font size before projector mode


def _scale_font(font: QFont, factor: float) -> QFont:
    out = QFont(font)
    if out.pointSizeF() > 0:
        out.setPointSizeF(out.pointSizeF() * factor)
    elif out.pixelSize() > 0:
        out.setPixelSize(max(1, round(out.pixelSize() * factor)))
    return out


def _plot_class():
    """pyqtgraph's PlotWidget once the views have loaded pyqtgraph, else None: no plot can
    exist before, and importing it here would delay the window's first paint."""
    module = sys.modules.get("pyqtgraph")
    return getattr(module, "PlotWidget", None)


def scale_plot(plot: "pg.PlotWidget", scale: float, ink: str | None) -> None:
    """Fonts and line widths of one pyqtgraph plot, ``scale`` times what its view made them
    (1 restores them exactly); axes, ticks and labels in ``ink`` (None: as they were)."""
    import pyqtgraph as pg
    old = getattr(plot, "_projector_scale", 1.0)
    if abs(old - scale) < 1e-9:
        return
    ratio = scale / old
    item = plot.getPlotItem()
    saved = plot.__dict__.setdefault("_projector_axes", {})
    for name in ("left", "bottom", "right", "top"):
        axis = item.getAxis(name)
        if name not in saved:
            saved[name] = (axis.style.get("tickFont"), dict(axis.labelStyle),
                           pg.mkPen(axis.pen()), pg.mkPen(axis.textPen()))
        tick_font, label_style, pen, text_pen = saved[name]
        if scale == 1.0:
            axis.setStyle(tickFont=tick_font)
            axis.labelStyle = dict(label_style)
            axis.setPen(pen)
            axis.setTextPen(text_pen)
        else:
            axis.setStyle(tickFont=_scale_font(tick_font or QApplication.font(), 1.0
                                               if tick_font is None else scale))
            size = (tick_font or QApplication.font()).pointSizeF() * (
                scale if tick_font is not None else 1.0)
            axis.labelStyle = {**label_style, "font-size": f"{size:.0f}pt",
                               **({"color": ink} if ink else {})}
            axis.setPen(pg.mkPen(ink or pen.color(), width=scale))
            axis.setTextPen(pg.mkPen(ink or text_pen.color()))
        axis._updateLabel()
    for data in item.listDataItems():
        pen = data.opts.get("pen")
        if pen is not None:
            pen = pg.mkPen(pen)
            pen.setWidthF(pen.widthF() * ratio)
            data.setPen(pen)
    legend = item.legend
    if legend is not None:
        legend.setLabelTextSize(f"{9 * scale:.0f}pt")
    plot._projector_scale = scale


class ProjectorMode(QObject):
    """Turns projector mode on and off for ``window`` (and remembers it)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.on = False
        self._base_font: QFont | None = None
        self._base_palette = None
        if str(window.settings.value(SETTING, "false")).lower() in ("true", "1"):
            QTimer.singleShot(0, lambda: self.set_on(True, remember=False))

    # --- on and off ------------------------------------------------------------------------------
    def set_on(self, on: bool, remember: bool = True) -> None:
        on = bool(on)
        if remember:
            self.window.settings.setValue(SETTING, on)
        action = getattr(self.window, "act_projector", None)
        if action is not None and action.isChecked() != on:
            action.setChecked(on)
        if on == self.on:
            return
        self.on = on
        app = QApplication.instance()
        # Widgets and plots shown while it is on join in (eventFilter); off, every event of
        # the application is spared a call into Python.
        if on:
            app.installEventFilter(self)
        else:
            app.removeEventFilter(self)
        factor = theme.PROJECTOR_SCALE if on else 1.0 / theme.PROJECTOR_SCALE
        if on and not theme.projector():    # (another window may have done it already)
            self._base_font = QFont(app.font())
            self._base_palette = app.palette()
            theme.set_projector(True)
            app.setPalette(theme.projector_palette(theme.is_dark(self._base_palette)))
            app.setFont(_scale_font(self._base_font, theme.PROJECTOR_SCALE))
        elif not on and self._base_font is not None:
            theme.set_projector(False)
            app.setPalette(self._base_palette)
            app.setFont(self._base_font)
            self._base_font = self._base_palette = None
        # The window's own font too: it reaches every child at once (the application's
        # reaches widgets only through the running event loop), menus and dialogs later.
        if on:
            self._window_font = QFont(self.window.font())
            self.window.setFont(_scale_font(self.window.font(), theme.PROJECTOR_SCALE))
        else:
            self.window.setFont(getattr(self, "_window_font", QFont()))
        self._scale_own_fonts(on, factor)
        self._widen_side_docks(on)
        self.window.apply_theme()
        self._scale_plots()
        inspector = getattr(self.window, "inspector", None)
        if inspector is not None:
            inspector.rebuild()        # its fonts are made from the application font
        QTimer.singleShot(0, self.window.view.show_graph)

    def toggle(self) -> None:
        self.set_on(not self.on)

    def restore_application(self) -> None:
        """Put the application's font and palette back (the window is closing; tests)."""
        if self.on:
            self.set_on(False, remember=False)

    # --- what projector mode scales --------------------------------------------------------------
    def _scale_own_fonts(self, on: bool, factor: float) -> None:
        """Widgets whose font size was set on purpose keep it under a new application font:
        scale those by the same factor (and back)."""
        for widget in self.window.findChildren(QWidget):
            if not widget.testAttribute(Qt.WidgetAttribute.WA_SetFont):
                continue
            font = widget.font()
            if not font.resolveMask() & _SIZE_RESOLVED:
                continue
            base = widget.property(_BASE_PT)
            if on and base is None and font.pointSizeF() > 0:
                widget.setProperty(_BASE_PT, font.pointSizeF())
                widget.setFont(_scale_font(font, factor))
            elif not on and base is not None:
                font.setPointSizeF(float(base))
                widget.setFont(font)
                widget.setProperty(_BASE_PT, None)

    def _widen_side_docks(self, on: bool) -> None:
        """The side panels as much wider as their text is larger (else the training form is
        cut off at its right edge) as far as the window allows; off: as wide as they were."""
        w = self.window
        if not on:
            saved, self._dock_widths = getattr(self, "_dock_widths", {}), {}
            docks = [d for d in saved if d.isVisible()]
            if docks:
                w.resizeDocks(docks, [saved[d] for d in docks], Qt.Orientation.Horizontal)
            return
        self._dock_widths = {}
        for side in (Qt.DockWidgetArea.RightDockWidgetArea,    # the forms first
                     Qt.DockWidgetArea.LeftDockWidgetArea):
            # The docks in front (a tab behind another is "visible" with a stale width).
            docks = [d for d in w.findChildren(QDockWidget)
                     if d.isVisible() and not d.visibleRegion().isEmpty()
                     and not d.isFloating() and w.dockWidgetArea(d) == side]
            self._dock_widths.update({d: d.width() for d in docks})
            if docks:
                w.resizeDocks(docks, [round(d.width() * theme.PROJECTOR_SCALE) for d in docks],
                              Qt.Orientation.Horizontal)

    def _ink(self) -> str | None:
        if not self.on:
            return None
        return "#FFFFFF" if theme.current_theme().dark else "#000000"

    def _scale_plots(self) -> None:
        scale = theme.PROJECTOR_SCALE if self.on else 1.0
        font = QApplication.font()
        plot_class = _plot_class()
        for plot in self.window.findChildren(plot_class) if plot_class else ():
            scale_plot(plot, scale, self._ink())
            # An axis title keeps the application font of the moment it was made (a plot
            # built in projector mode): it follows the application font now.
            for name in ("left", "bottom", "right", "top"):
                axis = plot.getPlotItem().getAxis(name)
                axis.label.setFont(font)
                axis._updateLabel()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        # A plot built later (a view is built when its dock first shows) joins in.
        if event.type() == QEvent.Type.Show and self.on and isinstance(obj, QWidget) \
                and obj.property(_BASE_PT) is None and obj.testAttribute(
                    Qt.WidgetAttribute.WA_SetFont) \
                and obj.font().resolveMask() & _SIZE_RESOLVED and obj.font().pointSizeF() > 0 \
                and self.window.isAncestorOf(obj):
            # Built in projector mode (a view shown for the first time, a message): its own
            # size came from the large font; off, it goes back to its designed size.
            obj.setProperty(_BASE_PT, obj.font().pointSizeF() / theme.PROJECTOR_SCALE)
        plot_class = _plot_class()
        if event.type() == QEvent.Type.Show and plot_class and isinstance(obj, plot_class):
            scale = theme.PROJECTOR_SCALE if self.on else 1.0
            if getattr(obj, "_projector_scale", 1.0) != scale and self.window.isAncestorOf(obj):
                scale_plot(obj, scale, self._ink())
        return False


class PresenterLayout(QObject):
    """Only the canvas and the Loss plot, both large; off: the docks as they were."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.on = False
        self._saved = None

    def set_on(self, on: bool) -> None:
        w = self.window
        action = getattr(w, "act_presenter", None)
        if action is not None and action.isChecked() != on:
            action.setChecked(on)
        if on == self.on:
            return
        self.on = on
        if on:
            self._saved = w.saveState()
            keep = w.dashboard.docks["loss"]
            for dock in list(w.panels.values()):
                if dock is not keep:
                    dock.hide()
            keep.show()
            keep.raise_()
            w.resizeDocks([keep], [int(w.height() * 0.42)], Qt.Orientation.Vertical)
        elif self._saved is not None:
            w.restoreState(self._saved)
            self._saved = None
        QTimer.singleShot(0, w.view.show_graph)

    def toggle(self) -> None:
        self.set_on(not self.on)
