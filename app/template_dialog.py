"""File ▸ New: the template gallery — an empty canvas or a bundled template, simplest first.

Each card shows the network's picture (drawn by the canvas itself, canvas.diagram_image, and
kept for the session), its parameters and MACs, the dataset it trains on and how long one
epoch will take here (engine.epoch_estimate). The estimate needs this machine's speed, which
a worker thread measures once per process (about a second; torch is imported there, never on
the GUI thread) — until then the cards say so. Arrow keys move between cards, Enter creates,
double-click too.
"""
from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (QFont, QFontMetrics, QGuiApplication, QImage, QPainter, QPalette,
                           QPen)
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QListView, QListWidget,
                               QListWidgetItem, QSizePolicy, QStyle, QStyledItemDelegate,
                               QVBoxLayout, QWidget)

from layerlab.engine import Project, load_project
from layerlab.engine.epoch_estimate import DeviceRate, cached_rate, estimate_from, measure_rate
from layerlab.engine.templates import TemplateFacts, simplest_first

from .theme import current_theme

__all__ = ["TemplateDialog", "thumbnail"]

log = logging.getLogger(__name__)
PATH_ROLE = Qt.ItemDataRole.UserRole
FACTS_ROLE = Qt.ItemDataRole.UserRole + 1
#: The card's text lines after the name: figures, dataset, epoch.
LINES_ROLE = Qt.ItemDataRole.UserRole + 2

EMPTY_NAME = "Empty canvas"
THUMB = QSize(268, 140)
CARD = QSize(290, 318)
MEASURING = "Epoch: measuring this computer's speed…"


# --- pictures ---------------------------------------------------------------------------------
_thumbnails: dict[tuple, QImage] = {}


def thumbnail(facts: TemplateFacts, size: QSize = THUMB) -> QImage:
    """The template's diagram as the canvas draws it, at ``size``; drawn once per session
    (per file, size and light/dark theme)."""
    theme = current_theme()
    stat = facts.template.path.stat()
    key = (str(facts.template.path), stat.st_mtime_ns, stat.st_size, size.width(),
           size.height(), theme.dark)
    image = _thumbnails.get(key)
    if image is None:
        from .canvas.diagram import diagram_image
        from .canvas.scene import GraphScene
        from .document import Document
        from .editor import Editor
        editor = Editor(Document(facts.project))
        scene = GraphScene(editor, theme)
        try:
            image = diagram_image(scene, size)
        finally:
            scene.deleteLater()
            editor.deleteLater()
        _thumbnails[key] = image
    return image


# --- this machine's speed ---------------------------------------------------------------------
class _RateProbe(QObject):
    """Measures the device's rate once, on a worker thread, and says so on the GUI thread."""
    #: A DeviceRate, or a sentence saying why there is none.
    measured = Signal(object)
    _shared: "_RateProbe | None" = None

    @classmethod
    def shared(cls) -> "_RateProbe":
        if cls._shared is None:
            cls._shared = cls(QGuiApplication.instance())
        return cls._shared

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            # Not a daemon: quitting waits the second it takes rather than killing it mid-op.
            self._thread = threading.Thread(target=self._run, name="layerlab-rate")
            self._thread.start()

    def _run(self) -> None:
        try:
            found = measure_rate()
        except Exception as exc:  # noqa: BLE001 — a failed measurement only costs the estimate
            log.exception("measuring the device's speed")
            found = f"Epoch: not estimated ({type(exc).__name__}: {exc})"
        try:
            self.measured.emit(found)
        except RuntimeError:      # the application has gone meanwhile
            pass


# --- cards ------------------------------------------------------------------------------------
class _CardDelegate(QStyledItemDelegate):
    """A card: the picture, the name in bold, then figures, dataset and epoch, each wrapped."""
    PAD = 10

    def __init__(self, dialog: "TemplateDialog") -> None:
        super().__init__(dialog.list)
        self.dialog = dialog

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        return CARD

    def paint(self, painter: QPainter, option, index) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = option.palette
        rect = option.rect.adjusted(4, 4, -4, -4)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        border = pal.color(QPalette.ColorRole.Highlight) if selected else \
            pal.color(QPalette.ColorRole.Mid)
        painter.setPen(QPen(border, 3 if selected else 1))
        painter.setBrush(pal.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(QRectF(rect), 8, 8)

        x, width = rect.left() + self.PAD, rect.width() - 2 * self.PAD
        pic = QRect(x, rect.top() + self.PAD, width, THUMB.height())
        facts = index.data(FACTS_ROLE)
        image = self.dialog.thumbnail_if_ready(facts) if facts is not None else None
        if image is not None:
            painter.drawImage(pic, image)
        else:
            painter.fillRect(pic, current_theme().canvas)
            painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            if facts is None:     # the empty canvas: a dashed frame with a plus
                painter.setPen(QPen(pal.color(QPalette.ColorRole.PlaceholderText), 2,
                                    Qt.PenStyle.DashLine))
                painter.drawRoundedRect(QRectF(pic.adjusted(40, 20, -40, -20)), 6, 6)
                plus = QFont(option.font)
                plus.setPointSizeF(option.font.pointSizeF() * 3)
                painter.setFont(plus)
                painter.drawText(pic, Qt.AlignmentFlag.AlignCenter, "+")
            else:
                painter.drawText(pic, Qt.AlignmentFlag.AlignCenter, "drawing…")

        bold = QFont(option.font)
        bold.setBold(True)
        bold.setPointSizeF(option.font.pointSizeF() * 1.1)
        y = pic.bottom() + 8
        painter.setFont(bold)
        painter.setPen(pal.color(QPalette.ColorRole.Text))
        name = index.data(Qt.ItemDataRole.DisplayRole).split("\n")[0]
        title = QFontMetrics(bold).elidedText(name, Qt.TextElideMode.ElideRight, width)
        painter.drawText(QRect(x, y, width, QFontMetrics(bold).height()),
                         Qt.AlignmentFlag.AlignLeft, title)
        y += QFontMetrics(bold).height() + 4
        painter.setFont(option.font)
        metrics = QFontMetrics(option.font)
        bottom = rect.bottom() - self.PAD
        for n, line in enumerate(index.data(LINES_ROLE) or ()):
            painter.setPen(pal.color(QPalette.ColorRole.Text if n == 0 else
                                     QPalette.ColorRole.PlaceholderText))
            box = metrics.boundingRect(QRect(x, y, width, 10_000), Qt.TextFlag.TextWordWrap,
                                       line)
            height = min(box.height(), bottom - y)
            if height < metrics.height():
                break
            painter.drawText(QRect(x, y, width, height),
                             Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft, line)
            y += height + 3
        painter.restore()


# --- the dialog -------------------------------------------------------------------------------
class TemplateDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New project")
        self.setObjectName("templateDialog")
        intro = QLabel("Start from an empty canvas, or open a copy of a network to explore, "
                       "change and train — the simplest first. Arrow keys choose, Enter "
                       "creates.")
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("templateList")
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setFlow(QListView.Flow.LeftToRight)
        self.list.setWrapping(True)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setUniformItemSizes(True)
        self.list.setGridSize(CARD)
        self.list.setSpacing(0)
        self.list.setItemDelegate(_CardDelegate(self))
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.details = QLabel()
        self.details.setObjectName("templateDetails")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        # Room for the longest description (five lines) without the cards jumping.
        self.details.setMinimumHeight(self.details.fontMetrics().lineSpacing() * 5 + 6)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.details)
        layout.addWidget(buttons)
        self._fit_to_screen(parent)

        self.rate: DeviceRate | None = None
        self._rate_note = MEASURING
        self._add(EMPTY_NAME, None, None)
        for facts in self._entries():
            self._add(facts.template.name, facts, facts.template.path)
        self.list.currentItemChanged.connect(lambda *_: self._show_details())
        self.list.itemDoubleClicked.connect(lambda _i: self.accept())
        self.list.setCurrentRow(0)
        self.list.setFocus()

        # Pictures: one per event-loop turn, so the gallery opens at once.
        self._to_draw = [self.list.item(i) for i in range(1, self.list.count())]
        self._draw_timer = QTimer(self)
        self._draw_timer.setInterval(0)
        self._draw_timer.timeout.connect(self._draw_next)
        self._draw_timer.start()
        # Epoch estimates: this machine's speed, measured once per process off this thread.
        rate = cached_rate()
        if rate is not None:
            self._rate_ready(rate)
        else:
            probe = _RateProbe.shared()
            probe.measured.connect(self._rate_ready)
            self.finished.connect(lambda _r: _disconnect(probe.measured, self._rate_ready))
            probe.start()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.list.setFocus()      # arrows move between cards from the start

    def _fit_to_screen(self, parent) -> None:
        screen = (parent.screen() if parent is not None else None) or \
            QGuiApplication.primaryScreen()
        room = screen.availableGeometry() if screen is not None else QRect(0, 0, 1440, 900)
        columns = max(2, min(4, (room.width() - 120) // CARD.width()))
        self.resize(min(columns * CARD.width() + 60, room.width() - 40),
                    min(int(CARD.height() * 2.2) + 230, room.height() - 60))

    @staticmethod
    def _entries() -> list[TemplateFacts]:
        try:
            return simplest_first()
        except Exception:  # noqa: BLE001 — a broken bundled file must not hide the gallery
            log.exception("reading the bundled templates")
            return []

    def _add(self, name: str, facts: TemplateFacts | None, path) -> None:
        item = QListWidgetItem()
        item.setData(PATH_ROLE, str(path) if path else "")
        item.setData(FACTS_ROLE, facts)
        item.setToolTip(facts.template.description if facts else
                        "Build a network yourself from the palette.")
        self.list.addItem(item)
        self._set_lines(item, name)

    # --- text -------------------------------------------------------------------------------
    def _set_lines(self, item: QListWidgetItem, name: str) -> None:
        facts: TemplateFacts | None = item.data(FACTS_ROLE)
        if facts is None:
            lines = ("Build a network yourself: drag layers from the palette and wire them.",)
        else:
            lines = (f"{facts.params:,} parameters · {_macs(facts.macs)} MACs per sample",
                     f"Data: {facts.dataset}", self._epoch_line(facts))
        item.setData(LINES_ROLE, lines)
        item.setText("\n".join((name, *lines)))

    def _epoch_line(self, facts: TemplateFacts) -> str:
        if facts.work is None:
            return "Epoch: cannot be estimated (the project has problems)"
        if self.rate is None:
            return self._rate_note
        return f"{estimate_from(facts.work, self.rate).per_epoch()} on this computer"

    def _rate_ready(self, rate) -> None:
        if isinstance(rate, DeviceRate):
            self.rate = rate
        else:
            self._rate_note = str(rate)
        for i, name in enumerate(self.names()):
            self._set_lines(self.list.item(i), name)
        self._show_details()

    def _show_details(self) -> None:
        item = self.list.currentItem()
        facts: TemplateFacts | None = item.data(FACTS_ROLE) if item else None
        if facts is None:
            self.details.setText("<b>Empty canvas</b><br>Drag an Input and layers from the "
                                 "palette, wire them, and watch every shape and parameter "
                                 "count appear as you go.")
            return
        work = facts.work
        epoch = self._epoch_line(facts)
        if work is not None and self.rate is not None and work.train_samples is not None:
            epoch = (f"{estimate_from(work, self.rate).text()} — {work.train_samples:,} "
                     f"training and {work.val_samples:,} validation samples, "
                     f"{work.batches:,} batches of {work.batch_size}")
        self.details.setText(
            f"<b>{_html(facts.template.name)}</b> — {facts.params:,} parameters, "
            f"{facts.macs:,} MACs per sample, {facts.nodes} layers<br>"
            f"{_html(facts.template.description)}<br>"
            f"<b>Data:</b> {_html(facts.dataset)}<br><b>One epoch:</b> {_html(epoch)}")

    # --- pictures -----------------------------------------------------------------------------
    def thumbnail_if_ready(self, facts: TemplateFacts) -> QImage | None:
        for item in self._to_draw:
            if item.data(FACTS_ROLE) is facts:
                return None
        return _safe_thumbnail(facts)

    def _draw_next(self) -> None:
        if not self._to_draw:
            self._draw_timer.stop()
            return
        item = self._to_draw.pop(0)
        _safe_thumbnail(item.data(FACTS_ROLE))
        self.list.viewport().update(self.list.visualItemRect(item))

    def finish_pictures(self) -> None:
        """Draw every picture now (tests; the timer does it one per event-loop turn)."""
        while self._to_draw:
            self._draw_next()

    def pictures(self) -> dict[str, QImage | None]:
        """Each entry's picture, by name (None: the empty canvas, or not drawn yet)."""
        out = {}
        for i, name in enumerate(self.names()):
            facts = self.list.item(i).data(FACTS_ROLE)
            out[name] = self.thumbnail_if_ready(facts) if facts is not None else None
        return out

    # --- what File ▸ New asks -----------------------------------------------------------------
    def names(self) -> list[str]:
        return [self.list.item(i).text().split("\n")[0] for i in range(self.list.count())]

    def select(self, name: str) -> None:
        for i, item_name in enumerate(self.names()):
            if item_name == name:
                self.list.setCurrentRow(i)

    def project(self) -> Project:
        """The chosen start: a fresh empty project or a copy of the template."""
        item = self.list.currentItem()
        path = item.data(PATH_ROLE) if item else ""
        return load_project(path) if path else Project()


def _safe_thumbnail(facts: TemplateFacts) -> QImage | None:
    try:
        return thumbnail(facts)
    except Exception:  # noqa: BLE001 — a picture that cannot be drawn leaves its card blank
        log.exception("drawing %s", facts.template.path)
        return None


def _disconnect(signal, slot) -> None:
    try:
        signal.disconnect(slot)
    except (RuntimeError, TypeError):
        pass


def _macs(n: int) -> str:
    """714,188,480 → "714 M"; 91,776 → "92 k"."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            value = n / size
            return f"{value:.1f} {unit}" if value < 10 else f"{value:,.0f} {unit}"
    return f"{n}"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
