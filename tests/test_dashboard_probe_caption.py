"""The probe's "true:" / "guess:" caption fits its narrow column: a 1,000-class generated set
names three shapes side by side, and such names ran under the picture and the spin box in a
real window (issue 10, AlexNet from the gallery). Elided; whole in the tooltip."""
from __future__ import annotations

from types import SimpleNamespace

from layerlab.app.dashboard.state.project_state import ProjectState
from layerlab.app.dashboard.views.feature_maps_view import FeatureMapsView

LONG = "vertical bar · horizontal bar · square"


def view(qtbot) -> FeatureMapsView:
    ctx = SimpleNamespace(state=ProjectState(), ask=lambda *a, **k: None,
                          choose=lambda **k: None, select=lambda *a: None)
    v = FeatureMapsView(ctx)
    qtbot.addWidget(v)
    return v


def test_long_class_names_are_elided_to_two_lines_each(qtbot):
    v = view(qtbot)
    label = v.probe_label
    true = v._fit_name("true: ", LONG, "")
    guess = v._fit_name("guess: ", "triangle · diagonal bar · diamond", " (0%)")
    assert true.startswith("true: vertical") and true.endswith("…")
    assert guess.startswith("guess: ") and guess.endswith("… (0%)")
    line = label.fontMetrics().lineSpacing()
    for part in (true, guess):                  # two lines each at most
        label.setText(part)
        assert label.heightForWidth(label.width()) <= 2 * line + 2, part
    label.setText(f"{true}\n{guess}")
    assert label.heightForWidth(label.width()) <= 4 * line + 2
    label.setText(f"true: {LONG}\nguess: triangle · diagonal bar · diamond (0%)")
    assert label.heightForWidth(label.width()) > 4 * line       # what it was: 5 lines and more


def test_short_class_names_stay_whole_and_the_top_line_shows_first(qtbot):
    from PySide6.QtCore import Qt
    v = view(qtbot)
    assert v.probe_label.alignment() & Qt.AlignmentFlag.AlignTop
    assert v._fit_name("true: ", "circle", "") == "true: circle"
    assert v._fit_name("guess: ", "circle", " (98%)") == "guess: circle (98%)"
