"""The canvas view: zoom (wheel), pan (middle drag or Space + drag), fit, a grid, the empty-
canvas hint, and the lock banner."""
from __future__ import annotations

import math

from PySide6.QtCore import QLineF, QPoint, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QPainter, QPen, QTransform
from PySide6.QtWidgets import QFrame, QGraphicsView, QLabel

from .gestures.pan import Pan
from .minimap import Minimap
from .scene import GraphScene

__all__ = ["CanvasView"]

MIN_SCALE, MAX_SCALE = 0.03, 4.0
#: Opening a project never zooms out further than this: the cards' simplified form still
#: reads (node_item.simple_text_px; tests/test_app_layout.py checks the templates).
READABLE_ZOOM = 0.45
GRID = 40.0
#: Space above and below the lock banner, in the strip it takes above the canvas.
BANNER_GAP = 6


class CanvasView(QGraphicsView):
    zoomChanged = Signal(float)
    #: Right click (global position); the window shows its edit menu there.
    contextMenuRequested = Signal(QPoint)

    def __init__(self, scene: GraphScene, parent=None) -> None:
        super().__init__(scene, parent)
        self.setObjectName("canvas")
        self.setRenderHints(QPainter.RenderHint.Antialiasing
                            | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.space_held = False
        self.pan: Pan | None = None
        #: The view shows what opening chose (show_graph) and the person has not zoomed
        #: or panned since: a resize (the window settling, docks moving) redoes the choice.
        self.auto_fit = False
        self.banner = QLabel(self)
        self.banner.setObjectName("lockBanner")
        self.banner.setWordWrap(True)
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner.hide()
        self.apply_theme()
        scene.editor.selection.revealRequested.connect(self.reveal)
        scene.editor.arranged.connect(self.show_graph)
        scene.changed.connect(self._maybe_hint)
        self.minimap = Minimap(self)
        doc = scene.document
        self.zoomChanged.connect(self.minimap.schedule)
        for signal in (doc.analysisChanged, doc.nodeMoved, doc.projectReset):
            signal.connect(self.minimap.graph_changed)
        self.centerOn(0, 0)

    def sizeHint(self) -> QSize:  # noqa: N802  (not the 200,000-px scene: leave room to docks)
        return QSize(640, 480)

    @property
    def graph_scene(self) -> GraphScene:
        return self.scene()

    # --- zoom and fit --------------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float) -> None:
        factor = max(MIN_SCALE, min(MAX_SCALE, factor))
        if abs(factor / self.zoom() - 1.0) > 1e-9:
            # The scale itself, not a product of steps: zooming in and out never drifts
            # (0.45 stays 0.45, not 0.44999999999999996).
            self.setTransform(QTransform.fromScale(factor, factor))
            self.zoomChanged.emit(self.zoom())

    def zoom_by(self, step: float) -> None:
        self.auto_fit = False
        self.set_zoom(self.zoom() * step)

    def wheelEvent(self, event) -> None:  # noqa: N802
        self.auto_fit = False
        delta = event.angleDelta().y() or event.pixelDelta().y()
        if delta:
            self.zoom_by(math.pow(1.0015, delta))
        event.accept()

    def graph_rect(self) -> QRectF:
        """Every card and wire (with its label and arches), in scene coordinates."""
        scene = self.graph_scene
        rect = QRectF()
        for item in list(scene.node_items.values()) + list(scene.edge_items.values()):
            rect = rect.united(item.sceneBoundingRect())
        return rect

    def fit_to_view(self) -> None:
        """The whole graph, however small (View ▸ Fit; the minimap is the other overview)."""
        self.auto_fit = False
        if not self.graph_scene.node_items:
            self.resetTransform()
            self.centerOn(0, 0)
            self.zoomChanged.emit(self.zoom())
            return
        rect = self.graph_rect().adjusted(-40, -40, 40, 40)
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        cap = 1.25 * self.graph_scene.theme.scale   # projector mode: larger, to the back row
        if self.zoom() > cap:      # a tiny graph should not be blown up
            self.set_zoom(cap)
        elif self.zoom() < MIN_SCALE:
            self.set_zoom(MIN_SCALE)
        self.centerOn(rect.center())
        self.zoomChanged.emit(self.zoom())

    def show_graph(self) -> None:
        """What opening a project shows: the whole graph when it reads at that zoom, else
        its beginning at READABLE_ZOOM, with the minimap for the rest."""
        self.fit_to_view()
        self.auto_fit = True
        if not self.graph_scene.node_items or self.zoom() >= READABLE_ZOOM:
            return
        rect = self.graph_rect()
        self.set_zoom(READABLE_ZOOM)
        half = QPointF(self.viewport().width(), self.viewport().height()) / self.zoom() / 2
        self.centerOn(rect.topLeft() + half - QPointF(30, 30) / self.zoom())

    def visible_scene_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def reveal(self, node_ids: list[str]) -> None:
        items = [self.graph_scene.node_items[n] for n in node_ids
                 if n in self.graph_scene.node_items]
        if items:
            self.auto_fit = False
            rect = QRectF()
            for item in items:
                rect = rect.united(item.sceneBoundingRect())
            self.centerOn(rect.center())

    # --- panning -------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802
        if (event.button() == Qt.MouseButton.MiddleButton
                or (event.button() == Qt.MouseButton.LeftButton and self.space_held)):
            self.pan = Pan(self, event.position().toPoint())
            self.auto_fit = False
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self.pan is not None:
            self.pan.move(event.position().toPoint())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self.pan is not None:
            pan, self.pan = self.pan, None
            pan.finish()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.space_held = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.space_held = False
            if self.pan is None:
                self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        self.space_held = False
        super().focusOutEvent(event)

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        item = self.itemAt(event.pos())
        node = getattr(item, "node_item", item)
        scene = self.graph_scene
        if node in scene.node_items.values() and not node.isSelected():
            scene.editor.selection.select([node.node_id])
        self.contextMenuRequested.emit(event.globalPos())
        event.accept()

    # --- look ------------------------------------------------------------------------------------
    def apply_theme(self) -> None:
        t = self.graph_scene.theme
        self.banner.setStyleSheet(
            f"QLabel#lockBanner {{ background: {t.banner_fill.name()}; "
            f"color: {t.banner_text.name()}; border-radius: 6px; padding: 6px 14px; "
            f"font-weight: bold; }}")
        self.viewport().update()

    def set_banner(self, text: str | None) -> None:
        """A message in a strip above the canvas (e.g. why editing is locked): the canvas
        moves down to make room, so the banner never hides the top row of nodes (in the
        Train workspace the fitted network starts right at the top)."""
        if text:
            self.banner.setText(text)
            self.banner.show()
            self._place_banner()
        else:
            self.banner.hide()
            self.setViewportMargins(0, 0, 0, 0)
        if self.auto_fit:
            QTimer.singleShot(0, self._refit)

    def _place_banner(self) -> None:
        width = min(self.viewport().width() - 40, 640)
        self.banner.setFixedWidth(max(width, 120))
        self.banner.adjustSize()
        self.setViewportMargins(0, self.banner.height() + 2 * BANNER_GAP, 0, 0)
        self.banner.move((self.width() - self.banner.width()) // 2, BANNER_GAP)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self.banner.isVisible():
            self._place_banner()
        size = self.viewport().size()
        if size.width() > 100 and size.height() > 100:
            self.graph_scene.editor.viewport_size = (float(size.width()), float(size.height()))
        self.minimap.place()
        self.minimap.schedule()
        if self.auto_fit:
            QTimer.singleShot(0, self._refit)

    def _refit(self) -> None:
        if self.auto_fit:
            self.show_graph()

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802
        super().scrollContentsBy(dx, dy)
        self.minimap.schedule()

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        t = self.graph_scene.theme
        painter.fillRect(rect, t.canvas)
        if self.zoom() < 0.35:
            return
        painter.setPen(QPen(t.grid, 0))
        left = math.floor(rect.left() / GRID) * GRID
        top = math.floor(rect.top() / GRID) * GRID
        x = left
        lines = []
        while x < rect.right():
            lines.append(QLineF(x, rect.top(), x, rect.bottom()))
            x += GRID
        y = top
        while y < rect.bottom():
            lines.append(QLineF(rect.left(), y, rect.right(), y))
            y += GRID
        painter.drawLines(lines)

    def _maybe_hint(self, _regions=None) -> None:
        empty = not self.graph_scene.node_items
        if empty != getattr(self, "_was_empty", None):
            self._was_empty = empty
            self.viewport().update()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        if self.graph_scene.node_items:
            return
        painter.save()
        painter.resetTransform()
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.35)
        painter.setFont(font)
        painter.setPen(self.graph_scene.theme.dim_text)
        area = QRectF(self.viewport().rect()).adjusted(40, 40, -40, -40)
        painter.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                         "Drag a layer from the palette onto the canvas — start with an Input.\n"
                         "Then drag from a layer's right-hand port to the next layer to wire "
                         "them.")
        painter.restore()

    def center_scene_pos(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())
