"""The palette is generated from the registry: groups, icons, help, search, activation."""
from __future__ import annotations

from layerlab.app.dragdrop import LAYER_MIME, layer_type_from_mime
from layerlab.app.panels.palette import SUMMARY_ROLE, PalettePanel
from layerlab.engine import all_specs
from layerlab.engine.layout import COLUMN_WIDTH
from layerlab.engine.registry import GROUPS

from app_helpers import dialogs, window  # noqa: F401


def test_every_registered_type_is_listed_under_its_group(qtbot):
    panel = PalettePanel()
    qtbot.addWidget(panel)
    specs = list(all_specs())
    assert list(panel.items) == [s.type for s in specs]
    for spec in specs:
        item = panel.items[spec.type]
        assert item.parent().text(0) == spec.group
        assert item.data(0, SUMMARY_ROLE) == spec.summary
        assert spec.summary in item.toolTip(0)
        assert not item.icon(0).isNull()
    tops = [panel.tree.topLevelItem(i).text(0) for i in range(panel.tree.topLevelItemCount())]
    assert tops == [g for g in GROUPS if any(s.group == g for s in specs)]


def test_search_filters_by_name_summary_and_group(qtbot):
    panel = PalettePanel()
    qtbot.addWidget(panel)
    panel.search.setText("pool")
    visible = panel.visible_types()
    assert "MaxPool2d" in visible and "Conv2d" not in visible
    assert panel.group_items["Convolution"].isHidden()
    panel.search.setText("probabilities")          # words from the one-line help
    assert panel.visible_types() == ["Softmax"]
    panel.search.setText("")
    assert len(panel.visible_types()) == len(list(all_specs()))


def test_drag_payload_names_the_type(qtbot):
    panel = PalettePanel()
    qtbot.addWidget(panel)
    mime = panel.tree.mimeData([panel.items["Dropout"]])
    assert mime.hasFormat(LAYER_MIME)
    assert layer_type_from_mime(mime) == "Dropout"


def test_enter_in_search_adds_the_first_match_after_the_selection(window):
    ed = window.editor
    ed.add_node("Input", (0, 0))
    window.palette_panel.search.setText("conv")
    window.palette_panel.search.returnPressed.emit()
    assert "conv1" in ed.graph.nodes
    assert ed.graph.incoming("conv1")[0].source == "input1"   # wired after the selection
    assert ed.graph.nodes["conv1"].position == (COLUMN_WIDTH, 0.0)
    assert ed.undo_stack.count() == 2                         # add + wire was one step


RANKING = [  # query → what Enter adds, and the order the matches rank in
    ("linear", "Linear", None),
    ("Linear", "Linear", None),
    ("conv", "Conv2d", None),
    ("flat", "Flatten", None),
    ("relu", "ReLU", ["ReLU", "ReLU6", "LeakyReLU"]),
    ("pool", "MaxPool2d", ["MaxPool2d", "AvgPool2d", "LPPool2d", "AdaptiveAvgPool2d"]),
    ("max pool", "MaxPool2d", None),
    ("norm", "BatchNorm1d", ["BatchNorm1d", "BatchNorm2d"]),
    ("fully connected", "Linear", None),          # only the help says it: still found
    ("probabilities", "Softmax", None),
]


def test_search_ranks_names_before_descriptions(qtbot):
    panel = PalettePanel()
    qtbot.addWidget(panel)
    for query, best, order in RANKING:
        panel.search.setText(query)
        ranked = panel.ranked(query)
        assert ranked[0] == best, query
        assert panel.tree.currentItem() is panel.items[best]     # highlighted: what Enter adds
        if order:
            assert ranked[:len(order)] == order, query
    panel.search.setText("linear")
    # The name first; layers that only mention it in their help ("…for Linear layers",
    # "bilinear") after.
    ranked = panel.ranked("linear")
    assert ranked[0] == "Linear" and set(ranked[1:]) == {"Flatten", "Upsample"}


def test_enter_adds_the_best_name_match_not_the_first_in_the_registry(window):
    ed = window.editor
    ed.add_node("Input", (0, 0))
    window.palette_panel.search.setText("linear")        # "…for Linear layers" is Flatten's help
    window.palette_panel.search.returnPressed.emit()
    assert [n.type for n in ed.graph.nodes.values()] == ["Input", "Linear"]


def test_no_layer_name_is_cut_at_the_narrowest_dock_nor_in_a_larger_font(qtbot):
    from PySide6.QtGui import QFont, QFontMetrics

    from layerlab.app.panels.palette import _TwoLineDelegate
    panel = PalettePanel()
    qtbot.addWidget(panel)

    def cut_names() -> list[str]:
        panel.resize(panel.minimumWidth(), 600)
        panel.show()
        qtbot.waitExposed(panel)
        tree = panel.tree
        bold = QFont(tree.font())
        bold.setBold(True)
        metrics = QFontMetrics(bold)
        cut = []
        for type_name, item in panel.items.items():
            rect = tree.visualItemRect(item)
            room = (tree.viewport().width() - rect.left() - tree.iconSize().width()
                    - _TwoLineDelegate.GAP - _TwoLineDelegate.RIGHT)
            if metrics.horizontalAdvance(type_name) > room:
                cut.append(type_name)
        return cut

    assert cut_names() == []
    font = QFont(panel.font())
    font.setPointSizeF(font.pointSizeF() * 1.6)      # projector mode
    panel.setFont(font)
    assert cut_names() == []
