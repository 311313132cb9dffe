"""One-click fixes in the window (Problems list and the card's red !), each one undo step;
unwired layers are neutral; hints do not outlive their gesture."""
from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication

from layerlab.engine import Problem
from layerlab.engine.edits import Fix, SetParams, SetSection
from layerlab.engine.templates import load_template

from app_helpers import dialogs, palette_drop, window, wire  # noqa: F401


def build_conv_then_linear(window):
    ed = window.editor
    ed.add_node("Input", (0, 0))
    ed.append_node("Conv2d", "input1")
    ed.append_node("Linear", "conv1")
    return ed


def snapshot(window):
    g = window.document.graph
    return ({n: (node.type, dict(node.params), node.position) for n, node in g.nodes.items()},
            list(g.edges))


def test_the_problems_list_offers_the_fix_and_applies_it_in_one_undo_step(window):
    ed = build_conv_then_linear(window)
    before = snapshot(window)
    steps = ed.undo_stack.count()
    panel = window.problems_panel
    rows = panel.fix_rows()
    assert [r.text() for r in rows] == ["Fix: Insert a Flatten before fc1"]
    panel.list.itemClicked.emit(rows[0])
    graph = window.document.graph
    assert graph.nodes["flatten1"].type == "Flatten"
    assert [e.source for e in graph.incoming("fc1")] == ["flatten1"]
    assert window.document.analysis.ok
    assert ed.undo_stack.count() == steps + 1                 # one step
    assert window.scene.node_items["fc1"].label.status == "ok"
    cards = [i.sceneBoundingRect() for i in window.scene.node_items.values()]
    assert not any(a.intersects(b) for i, a in enumerate(cards) for b in cards[i + 1:]
                   if a.adjusted(3, 3, -3, -3).intersects(b.adjusted(3, 3, -3, -3)))
    assert ed.undo()
    assert snapshot(window) == before                         # exactly as it was
    assert panel.fix_rows()                                   # and the fix is offered again
    assert ed.redo() and "flatten1" in graph.nodes


def test_an_empty_or_unfinished_network_is_not_counted_as_a_problem_anywhere(window):
    assert window.stats_label.text().endswith("no problems")      # the empty canvas
    assert window.panels["problems"].windowTitle() == "Problems"
    ed = window.editor
    ed.add_node("Input", (0, 0))
    ed.append_node("Conv2d", "input1")                            # ends in feature maps
    assert window.stats_label.text().endswith("no problems")
    assert window.panels["problems"].windowTitle() == "Problems"
    ed.set_param("conv1", "kernel_size", 99)                      # now a real mistake
    assert window.stats_label.text().endswith("1 problem")
    assert window.panels["problems"].windowTitle() == "Problems (1)"


def test_the_status_bar_counts_the_problems_the_problems_tab_lists(window):
    ed = window.editor
    ed.add_node("Input", (0, 0))
    ed.set_param("input1", "shape", [64, 16, 16])      # no bundled dataset gives 64 channels
    errors = [p for p in ed.problems() if p.is_error]
    assert errors and not any(p.is_error for p in window.document.analysis.problems)
    n = len(errors)
    assert window.panels["problems"].windowTitle() == f"Problems ({n})"
    assert window.stats_label.text().endswith(f"{n} problem{'s' if n != 1 else ''}")


def test_changing_a_layer_type_is_one_undo_step_that_keeps_its_place(window):
    ed = window.editor
    ed.add_node("Input", (0, 0))
    ed.set_param("input1", "shape", [4])
    ed.append_node("BatchNorm2d", "input1")
    ed.append_node("ReLU", "bn1")
    ed.set_param("bn1", "momentum", 0.3)
    before = snapshot(window)
    steps = ed.undo_stack.count()
    fixes = window.scene.node_items["bn1"].fixes
    assert [f.label for f in fixes] == ["Use a BatchNorm1d here instead"]
    assert ed.apply_fix(fixes[0])
    graph = window.document.graph
    assert graph.nodes["bn1"].type == "BatchNorm1d" and graph.nodes["bn1"].params == {
        "momentum": 0.3}
    assert graph.nodes["bn1"].position == before[0]["bn1"][2]
    assert sorted((e.source, e.target) for e in graph.edges) == [("bn1", "relu1"),
                                                                 ("input1", "bn1")]
    assert window.document.analysis.ok and ed.undo_stack.count() == steps + 1
    assert window.scene.node_items["bn1"].label.status == "ok"
    assert ed.undo() and snapshot(window) == before
    assert ed.redo() and window.document.graph.nodes["bn1"].type == "BatchNorm1d"


def test_the_red_badge_on_the_card_opens_the_fixes(window):
    ed = window.editor
    ed.add_node("Input", (0, 0))
    ed.set_param("input1", "shape", [1, 3, 3])
    ed.append_node("Conv2d", "input1")
    ed.set_param("conv1", "kernel_size", 5)
    card = window.scene.node_items["conv1"]
    assert card.has_problem and [f.label for f in card.fixes] == [
        "Set kernel_size to 3×3", "Set padding to 1"]
    assert "red !" in card.toolTip()
    menu = window.scene.fix_menu("conv1")
    actions = menu.actions()
    assert [a.text() for a in actions] == ["Fix: Set kernel_size to 3×3",
                                           "Fix: Set padding to 1"]
    actions[1].trigger()
    assert ed.graph.nodes["conv1"].params["padding"] == 1
    assert window.document.analysis.ok
    assert not window.scene.node_items["conv1"].has_problem
    ed.undo()
    assert "padding" not in ed.graph.nodes["conv1"].params


def test_a_fix_that_removes_a_parameter_undoes_to_the_old_value(window):
    ed = window.editor
    ed.add_node("Input", (0, 0))
    ed.append_node("Conv2d", "input1")
    ed.set_param("conv1", "groups", 2)                       # 1 channel into 2 groups
    (fix,) = window.scene.node_items["conv1"].fixes
    assert ed.apply_fix(fix)
    assert ed.graph.nodes["conv1"].params["groups"] == 1
    ed.undo()
    assert ed.graph.nodes["conv1"].params["groups"] == 2
    reset = Fix("Reset groups", (SetParams("conv1", {"groups": None}),))
    assert ed.apply_fix(reset) and "groups" not in ed.graph.nodes["conv1"].params
    ed.undo()
    assert ed.graph.nodes["conv1"].params["groups"] == 2


def test_a_stale_fix_is_refused_with_a_reason(window):
    ed = build_conv_then_linear(window)
    (fix,) = window.editor.fixes_for("fc1")
    ed.delete(["conv1"])
    steps = ed.undo_stack.count()
    assert not ed.apply_fix(fix)
    assert "cannot be applied" in ed.last_refusal
    assert ed.undo_stack.count() == steps


def test_problems_from_another_source_get_their_fix_button_too(window):
    """Whatever produces a Problem with fixes (e.g. the dataset's fit), it gets the
    button, and a fix that changes a project section is one undo step too."""
    window.files.load_into(load_template("digits_cnn"), None)
    ed = window.editor
    sections = []
    ed.sectionChanged.connect(sections.append)

    def dataset_problems(project):
        if project.dataset.get("size") == 8:
            return []
        fix = Fix("Use 8×8 digits", (SetSection("dataset", {"size": 8}),))
        return [Problem("input", "input: the digits are 8×8, the Input is 1×8×8 — "
                                 "set the digits size to 8", (fix,))]
    ed.add_problem_source(dataset_problems)
    rows = window.problems_panel.fix_rows()
    assert [r.text() for r in rows] == ["Fix: Use 8×8 digits"]
    assert window.scene.node_items["input"].fixes                  # on the card as well
    window.problems_panel.list.itemClicked.emit(rows[0])
    assert window.document.project.dataset["size"] == 8
    assert sections == ["dataset"]
    ed.refresh_problems()
    assert window.problems_panel.fix_rows() == []
    ed.undo()
    assert "size" not in window.document.project.dataset


def test_a_dropped_unwired_layer_is_neutral_not_an_error(window):
    ed = window.editor
    ed.add_node("Input", (0, 0))
    ed.append_node("ReLU", "input1")
    assert palette_drop(window.view, "Conv2d", QPointF(600, 300))
    card = window.scene.node_items["conv1"]
    assert card.label.status == "unconnected" and not card.has_problem
    assert "Not connected yet" in card.toolTip()
    # Nothing is wrong, only unfinished: the net ends in feature maps (a todo, not an error).
    assert [p.severity for p in ed.problems()] == ["todo"]
    texts = [window.problems_panel.list.item(i).text()
             for i in range(window.problems_panel.list.count())]
    assert texts[0] == "No problems so far: the network is not finished yet."
    assert not window.scene.node_items["relu1"].has_problem
    wire(window, "relu1", "conv1")
    assert window.scene.node_items["conv1"].label.status == "ok"


def test_the_connect_hint_goes_when_the_wire_is_dropped(window):
    ed = window.editor
    ed.add_node("Input", (0, 0))
    ed.add_node("ReLU", (300, 0))
    bar = window.statusBar()
    shown = []
    window.scene.hintChanged.connect(lambda t: shown.append((t, bar.currentMessage())))
    wire(window, "input1", "relu1")
    assert ("release to connect", "release to connect") in shown
    QApplication.processEvents()
    assert bar.currentMessage() != "release to connect"            # not after the fact
    ed.message.emit("Editing is locked: training")                 # a refusal stays
    window.scene.show_hint("")
    assert bar.currentMessage() == "Editing is locked: training"
