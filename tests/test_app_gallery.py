"""File ▸ New's gallery: simplest first, every template's picture, its figures, dataset and
epoch estimate, and the keyboard (app/template_dialog.py)."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog

from layerlab.app import template_dialog as gallery
from layerlab.app.template_dialog import FACTS_ROLE, LINES_ROLE, MEASURING, TemplateDialog
from layerlab.engine.epoch_estimate import estimate_from
from layerlab.engine.templates import list_templates, load_template, simplest_first

from test_epoch_estimate import RATE


@pytest.fixture
def measured(monkeypatch):
    """The machine's rate is already known (as after a first gallery in this session)."""
    monkeypatch.setattr(gallery, "cached_rate", lambda device="auto": RATE)
    return RATE


def make(qtbot) -> TemplateDialog:
    dialog = TemplateDialog()
    qtbot.addWidget(dialog)
    return dialog


def test_empty_canvas_first_then_simplest_first(qtbot, measured):
    dialog = make(qtbot)
    names = dialog.names()
    assert names[0] == "Empty canvas"
    assert names[1:] == [f.template.name for f in simplest_first()]
    assert set(names[1:]) == {t.name for t in list_templates()}
    params = [dialog.list.item(i).data(FACTS_ROLE).params for i in range(1, len(names))]
    assert params == sorted(params)
    assert names[1] == "House prices (MLP regression)" and names[-1] == "VGG-16"


def test_every_template_has_its_picture(qtbot, measured):
    dialog = make(qtbot)
    dialog.finish_pictures()
    pictures = dialog.pictures()
    assert pictures.pop("Empty canvas") is None
    assert len(pictures) == len(list_templates())
    for name, image in pictures.items():
        assert image is not None and not image.isNull(), name
        assert image.size() == gallery.THUMB
        # A drawing, not a blank: the cards' colours are there.
        colours = {image.pixel(x, y) for x in range(0, image.width(), 4)
                   for y in range(0, image.height(), 4)}
        assert len(colours) > 20, name
    # Drawn once per session: a second gallery reuses them.
    again = make(qtbot)
    again.finish_pictures()
    assert again.pictures()["LeNet-5"] is pictures["LeNet-5"]


def test_every_card_shows_parameters_dataset_and_epoch(qtbot, measured):
    dialog = make(qtbot)
    for i in range(1, dialog.list.count()):
        item = dialog.list.item(i)
        facts = item.data(FACTS_ROLE)
        figures, data, epoch = item.data(LINES_ROLE)
        assert f"{facts.params:,} parameters" in figures
        assert data == f"Data: {facts.dataset}"
        assert epoch == f"{estimate_from(facts.work, RATE).per_epoch()} on this computer"
        assert item.text().split("\n")[1:] == [figures, data, epoch]
    dialog.select("AlexNet")
    details = dialog.details.text()
    assert "61,100,840 parameters" in details and "1,000 classes" in details
    assert "per epoch on the CPU (4 threads)" in details and "192 training" in details


def test_the_epoch_is_measured_off_the_gui_thread_then_shown(qtbot, monkeypatch):
    import threading
    threads = []
    monkeypatch.setattr(gallery, "cached_rate", lambda device="auto": None)
    monkeypatch.setattr(gallery, "measure_rate",
                        lambda device="auto": threads.append(threading.current_thread())
                        or RATE)
    monkeypatch.setattr(gallery._RateProbe, "_shared", None)
    dialog = make(qtbot)
    lenet = dialog.names().index("LeNet-5")
    if dialog.rate is None:                # the worker may already have answered
        assert dialog.list.item(lenet).data(LINES_ROLE)[2] == MEASURING
    qtbot.waitUntil(lambda: dialog.rate is RATE, timeout=5000)
    assert threads and threads[0] is not threading.main_thread()
    assert dialog.list.item(lenet).data(LINES_ROLE)[2].endswith("per epoch on this computer")


def test_arrows_choose_and_enter_creates(qtbot, measured):
    dialog = make(qtbot)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.list.currentRow() == 0 and dialog.focusWidget() is dialog.list
    QTest.keyClick(dialog.list, Qt.Key.Key_Right)
    QTest.keyClick(dialog.list, Qt.Key.Key_Right)
    assert dialog.list.currentRow() == 2
    QTest.keyClick(dialog.list, Qt.Key.Key_Down)
    row = dialog.list.currentRow()
    assert row > 2                                   # the card below, in the next row
    QTest.keyClick(dialog.list, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    chosen = dialog.list.item(row).data(FACTS_ROLE).template.key
    assert dialog.project().graph == load_template(chosen).graph


def test_the_gallery_fits_the_screen(qtbot, measured):
    dialog = make(qtbot)
    room = QGuiApplication.primaryScreen().availableGeometry()
    assert dialog.width() <= room.width() and dialog.height() <= room.height()
    assert dialog.list.gridSize().width() * 2 <= dialog.width()     # two cards a row at least
