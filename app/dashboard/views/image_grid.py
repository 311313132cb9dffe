"""Grids of small images (filters, feature maps, misclassified samples) drawn as ONE image.

Tiles are laid into a single mosaic array and shown by one pyqtgraph ImageItem that is updated
with ``setImage`` — hundreds of 3×3 kernels cost one texture upload, not hundreds of items.
The column count is chosen so the tiles come out as large as the widget allows, and the
mosaic is recomputed only when the data or the widget's shape changes.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QToolTip

# Model-input images → images to show (the dataset's normalization undone): numpy only, so
# the dialogs here and the training worker share it.
from layerlab.engine.service.model_facts import display_images

__all__ = ["symmetric_unit", "minmax_unit", "best_columns", "mosaic", "to_rgb", "lut",
           "display_images", "ImageGrid"]

_LUTS: dict[str, np.ndarray] = {}


def lut(name: str) -> np.ndarray:
    """A (256, 3) uint8 colour table: "gray" or any pyqtgraph colormap name."""
    if name not in _LUTS:
        if name == "gray":
            ramp = np.arange(256, dtype=np.uint8)
            _LUTS[name] = np.stack([ramp] * 3, axis=1)
        else:
            table = pg.colormap.get(name).getLookupTable(0.0, 1.0, 256, alpha=False)
            _LUTS[name] = np.asarray(table, dtype=np.uint8)[:, :3]
    return _LUTS[name]


def _per_tile(a: np.ndarray, fn) -> np.ndarray:
    axes = tuple(range(1, a.ndim))
    return fn(a, axis=axes, keepdims=True)


def symmetric_unit(tiles: np.ndarray) -> np.ndarray:
    """Signed values (weights) → 0..1 per tile with 0 at mid-grey: white excites, black
    inhibits, and each tile uses its full range so small filters stay visible."""
    tiles = np.asarray(tiles, dtype=np.float32)
    scale = _per_tile(np.abs(tiles), np.max)
    return 0.5 + 0.5 * tiles / np.where(scale > 0, scale, 1.0)


def minmax_unit(tiles: np.ndarray) -> np.ndarray:
    """Per-tile min-max to 0..1 (activations: where each map is strongest)."""
    tiles = np.asarray(tiles, dtype=np.float32)
    low, high = _per_tile(tiles, np.min), _per_tile(tiles, np.max)
    span = high - low
    return (tiles - low) / np.where(span > 0, span, 1.0)


def best_columns(n: int, tile_h: int, tile_w: int, width: float, height: float,
                 gap: int = 1) -> int:
    """Columns that make ``n`` tiles as large as possible inside width × height pixels."""
    if n <= 0:
        return 1
    best, best_scale = 1, -1.0
    for cols in range(1, n + 1):
        rows = math.ceil(n / cols)
        scale = min(width / (cols * (tile_w + gap)), height / (rows * (tile_h + gap)))
        if scale > best_scale + 1e-9:
            best, best_scale = cols, scale
    return best


def mosaic(tiles: np.ndarray, cols: int, gap: int = 1) -> np.ndarray:
    """(N, h, w) or (N, h, w, 3) → one (H, W[, 3]) float array, NaN between tiles."""
    n, h, w = tiles.shape[:3]
    rows = max(1, math.ceil(n / cols))
    shape = (rows * (h + gap) - gap, cols * (w + gap) - gap) + tiles.shape[3:]
    out = np.full(shape, np.nan, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = tiles[i]
    return out


def to_rgb(image: np.ndarray, colors: np.ndarray, gap_rgb: tuple[int, int, int]) -> np.ndarray:
    """0..1 floats (NaN = gap) → uint8 RGB; single-channel images go through ``colors``."""
    gap = np.isnan(image if image.ndim == 2 else image[..., 0])
    values = np.nan_to_num(np.clip(image, 0.0, 1.0), nan=0.0)
    if image.ndim == 2:
        rgb = colors[(values * 255).astype(np.uint8)]
    else:
        rgb = (values * 255).astype(np.uint8)
    rgb[gap] = gap_rgb
    return rgb


class ImageGrid(pg.GraphicsLayoutWidget):
    """Tiles in a grid that fills the widget. ``set_tiles`` with values already in 0..1."""

    tileClicked = Signal(int)
    # Class-level defaults: the base constructor already sends resize/palette events.
    _tiles: np.ndarray | None = None
    _fixed_cols: int | None = None
    _shape: tuple | None = None
    _cols = 1

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("imageGrid")
        self.gap = 1
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.vb = self.addViewBox(enableMenu=False)
        self.vb.setAspectLocked(True)
        self.vb.invertY(True)
        self.vb.setMouseEnabled(False, False)
        self.vb.setMenuEnabled(False)
        self.item = pg.ImageItem(axisOrder="row-major")
        self.vb.addItem(self.item)
        self._tiles: np.ndarray | None = None
        self._colors = lut("gray")
        self._fixed_cols: int | None = None
        self._cols = 1
        self._shape: tuple | None = None
        self._tip = None                  # index → tooltip text, formatted on hover only
        self.scene().sigMouseMoved.connect(self._hover)
        self.scene().sigMouseClicked.connect(self._click)
        self._apply_palette()

    def _apply_palette(self) -> None:
        # Tiles sit on the panel's own background, like stamps: the gaps read as separators
        # for every colour map (mid-grey weights included).
        window = self.palette().color(QPalette.ColorRole.Window)
        self.setBackground(window)
        self._gap_rgb = (window.red(), window.green(), window.blue())

    @property
    def tile_count(self) -> int:
        return 0 if self._tiles is None else len(self._tiles)

    @property
    def columns(self) -> int:
        return self._cols

    def image(self) -> np.ndarray | None:
        """The mosaic shown now (H, W, 3) uint8 — for tests and screenshots."""
        return self.item.image

    def set_tiles(self, tiles: np.ndarray | None, colors: str = "gray",
                  columns: int | None = None, tips=None) -> None:
        """Show ``tiles`` (N, h, w) or (N, h, w, 3) in 0..1; ``columns`` fixes the layout
        (e.g. one row per filter), else it follows the widget's shape. ``tips``: a list of
        tooltips or a function index → text (formatted only when hovered: cheaper per frame)."""
        self._tiles = None if tiles is None or len(tiles) == 0 else np.asarray(tiles)
        if self._tiles is not None:   # a quarter of a tile between tiles: 1 px for 3×3
            self.gap = max(1, min(self._tiles.shape[1:3]) // 4)
        self._colors = lut(colors)
        self._fixed_cols = columns
        self._tip = tips.__getitem__ if isinstance(tips, (list, tuple)) else tips
        self._render()

    def clear_tiles(self) -> None:
        # Not "clear": GraphicsLayoutWidget binds its layout's clear() on each instance,
        # which would remove the view box itself.
        self.set_tiles(None)

    def _choose_columns(self) -> int:
        if self._fixed_cols:
            return self._fixed_cols
        n, h, w = self._tiles.shape[:3]
        return best_columns(n, h, w, max(self.width(), 1), max(self.height(), 1), self.gap)

    def _render(self) -> None:
        if self._tiles is None:
            self.item.clear()
            self._shape = None
            return
        self._cols = self._choose_columns()
        rgb = to_rgb(mosaic(self._tiles, self._cols, self.gap), self._colors, self._gap_rgb)
        self.item.setImage(rgb, autoLevels=False, levels=(0, 255))
        if rgb.shape != self._shape:
            self._shape = rgb.shape
            self.vb.setRange(xRange=(0, rgb.shape[1]), yRange=(0, rgb.shape[0]), padding=0.01)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._tiles is not None and not self._fixed_cols:
            if self._choose_columns() != self._cols:
                self._render()
            elif self._shape is not None:
                self.vb.setRange(xRange=(0, self._shape[1]), yRange=(0, self._shape[0]),
                                 padding=0.01)

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange and hasattr(self, "item"):
            self._apply_palette()
            self._render()

    # --- which tile is under the mouse -------------------------------------------------------
    def tile_at(self, scene_pos: QPointF) -> int | None:
        if self._tiles is None:
            return None
        p = self.item.mapFromScene(scene_pos)
        h, w = self._tiles.shape[1:3]
        col, row = int(p.x() // (w + self.gap)), int(p.y() // (h + self.gap))
        if p.x() < 0 or p.y() < 0 or col >= self._cols:
            return None
        index = row * self._cols + col
        return index if index < len(self._tiles) else None

    def _hover(self, scene_pos: QPointF) -> None:
        index = self.tile_at(scene_pos)
        if index is not None and self._tip is not None:
            QToolTip.showText(self.mapToGlobal(self.mapFromScene(scene_pos)), self.tip(index),
                              self)
        else:
            QToolTip.hideText()

    def tip(self, index: int) -> str:
        try:
            return self._tip(index) if self._tip is not None else ""
        except (IndexError, KeyError):
            return ""

    def _click(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            index = self.tile_at(event.scenePos())
            if index is not None:
                self.tileClicked.emit(index)
