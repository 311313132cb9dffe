"""The Lessons panel in the window: live checks, Show me as one undo step, predict-then-reveal
quizzes (a field, Enter; the learning-rate curves), the score kept across restarts."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from layerlab.engine.project import project_to_dict

from app_helpers import dialogs, window  # noqa: F401


def lessons_panel(window):
    """The Lessons dock in front (as the learner has it) and its view."""
    window.workshop.show_panel()
    view = window.dashboard.views["lessons"].view
    QApplication.processEvents()          # the built view is shown by the event loop
    assert view.isVisible()
    view.flush()
    return view


def test_the_lessons_panel_is_declared_once_like_every_view(window):
    from layerlab.app.dashboard.views.registry import view_spec
    spec = view_spec("lessons")
    assert spec.title == "Lessons" and "lessons" in window.dashboard.docks
    view = lessons_panel(window)
    items = [view.lesson_list.item(i).text() for i in range(view.lesson_list.count())]
    assert len(items) == 16
    assert "convolution" in items[6] and "Convolution: filters that slide" in items[6]


def test_the_check_turns_green_after_the_right_edit_and_red_after_undo(window, qtbot):
    ws, ed = window.workshop, window.editor
    assert ws.open_lesson("convolution", from_start=True)
    view = lessons_panel(window)
    assert view.pages.currentIndex() == 1
    assert view.check_result is not None and not view.check_result.ok
    assert "Not yet" in view.check.text()
    # By hand, as a learner does: a Conv2d called conv1, 64 filters of 3×3, wired after input.
    assert ed.add_node("Conv2d", (300, 0), "conv1") == "conv1"
    ed.set_param("conv1", "out_channels", 64)
    ed.set_param("conv1", "kernel_size", 3)
    assert not view.check_result.ok                  # not wired yet: still red, live
    assert "input" in view.check.text()
    assert ed.connect("input", "conv1")
    assert view.check_result.ok and "Done" in view.check.text()   # green without a click
    assert view.check_box.property("ok") is True
    assert ed.undo()                                 # the wire is gone again
    assert not view.check_result.ok and "Not yet" in view.check.text()


def test_show_me_is_one_undo_step(window):
    ws, ed = window.workshop, window.editor
    ws.open_lesson("convolution", from_start=True)
    view = lessons_panel(window)
    before = project_to_dict(window.document.project)
    steps = ed.undo_stack.count()
    view.show_me_button.click()
    assert ed.undo_stack.count() == steps + 1
    assert view.check_result.ok
    assert view.show_me_button.isHidden()          # done: nothing left to show
    assert ed.undo()
    assert project_to_dict(window.document.project) == before
    assert not view.check_result.ok
    assert not view.show_me_button.isHidden()


def test_show_me_opens_the_steps_project_when_the_document_is_elsewhere(window, dialogs):
    ws, ed = window.workshop, window.editor
    ws.open_lesson("convolution", from_start=True)
    lessons_panel(window)
    ed.add_node("Linear", (600, 0), "fc9")       # unsaved work the learner made meanwhile
    ed.delete(["input"])                          # Show me no longer fits this document
    assert ws.show_me()
    assert [d["title"] for d in dialogs.shown] == ["Unsaved changes"]   # asked first
    assert set(window.document.graph.nodes) == {"input", "conv1"}
    assert ed.undo_stack.count() == 1             # the opened project, then ONE step


def test_a_wrong_answer_shows_the_arithmetic_and_a_right_one_moves_on(window, qtbot):
    ws = window.workshop
    ws.open_lesson("convolution", from_start=True)
    view = lessons_panel(window)
    view.show_me_button.click()
    view.next_button.click()                      # step 2: predict conv1's output shape
    assert ws.walk.number == 2 and view.quiz_box.isVisible()
    assert "What shape does it output" in view.prompt.text()
    qtbot.keyClicks(view.answer, "64x256x256")
    qtbot.keyClick(view.answer, Qt.Key.Key_Return)
    assert ws.walk.number == 2
    assert "Not quite" in view.result.text()
    worked = view.worked.text()
    assert view.worked.isVisible() and "⌊(256 + 2·0 − 1·(3−1) − 1) / 1⌋ + 1 = 254" in worked
    view.answer.clear()
    qtbot.keyClicks(view.answer, "64×254×254")
    qtbot.keyClick(view.answer, Qt.Key.Key_Return)
    assert ws.walk.number == 3                    # on to the next step
    assert view.last_answer.isVisible() and "Right: 64×254×254" in view.last_answer.text()
    assert view.score.text() == "Score: 0 of 2"   # wrong at the first try
    assert "1 of 2" not in view.score.text()


def test_new_and_open_leave_nothing_of_the_last_project_in_the_panel(window, qtbot, tmp_path):
    from layerlab.engine.project import save_project
    from layerlab.engine.templates import load_template
    ws = window.workshop
    ws.open_lesson("convolution", from_start=True)
    view = lessons_panel(window)
    view.show_me_button.click()
    view.next_button.click()
    qtbot.keyClicks(view.answer, "1x2x3")
    qtbot.keyClick(view.answer, Qt.Key.Key_Return)
    assert "Not quite" in view.result.text() and view.worked.isVisible()
    assert "256" in view.prompt.text()
    path = tmp_path / "mine.json"                      # a project of the learner's own
    save_project(load_template("digits_cnn"), path)
    assert window.files.open_path(path, confirm=False)
    view.flush()
    assert view.result.text() == "" and not view.worked.isVisible()
    assert view.answer.text() == ""
    assert "256" not in view.prompt.text()             # asked about the open project now
    assert view.prompt.text() == ws.walk.ask(window.document.project).prompt


def test_an_unreadable_answer_is_no_attempt(window, qtbot):
    ws = window.workshop
    ws.open_lesson("convolution", from_start=True)
    ws.walk.go(3)
    ws.open_step_project(confirm=False)
    view = lessons_panel(window)
    qtbot.keyClicks(view.answer, "lots")
    qtbot.keyClick(view.answer, Qt.Key.Key_Return)
    assert "could not read" in view.result.text()
    assert ws.walk.attempts.get(3) is None


def test_pick_the_too_high_learning_rate_from_the_curves(window, qtbot):
    ws = window.workshop
    ws.open_lesson("learning-rate", from_start=True)
    ws.walk.go(3)
    ws.changed.emit()
    view = lessons_panel(window)
    assert view.curves.isVisible() and not view.answer_row.isVisible()
    items = view.curves.getPlotItem().listDataItems()
    assert [i.name() for i in items] == ["curve A", "curve B", "curve C"]
    view.choice_buttons["A"].click()              # the quick one is not the blow-up
    assert ws.walk.number == 3 and "Not quite" in view.result.text()
    assert "1 − 2·1.1 = −1.2" in view.worked.text()
    items[1].sigClicked.emit(items[1], None)      # a click on curve B itself
    assert ws.walk.number == 4 and "curve B" in view.last_answer.text()


def test_the_score_and_the_step_are_remembered(window, tmp_path):
    ws = window.workshop
    ws.open_lesson("convolution", from_start=True)
    ws.show_me()
    ws.next()
    ws.answer("64×254×254")                       # right at the first try
    assert ws.walk.score.first_try == 1
    window.settings.sync()
    ws._walks.clear()                              # as after a restart: from the settings
    again = ws.walkthrough(ws.lesson("convolution"))
    assert again is not ws.walk
    assert again.number == 3 and again.score.first_try == 1 and 1 in again.satisfied
    view = lessons_panel(window)
    ws.close_lesson()
    text = view.lesson_list.item(6).text()
    assert "quizzes 1/2 right first time" in text and "2/5 steps done" in text


def test_a_step_that_needs_a_run_reads_the_runs_of_this_session(window):
    from layerlab.engine.lessons import find_lesson
    from layerlab.engine.lessons.runs import RunRecord
    ws = window.workshop
    ws.open_lesson("first-cnn", from_start=True)
    lesson = find_lesson("first-cnn")
    ws.walk.go(4)
    window.files.load_into(lesson.start_project(4), None)
    view = lessons_panel(window)
    ws.changed.emit()
    assert view.train_button.isVisible()
    assert "press Train" in view.check_result.reason
    project = window.document.project.copy()
    ws.runs.append(RunRecord("finished", ({"epoch": 1, "val_acc": 0.97, "train_acc": 0.98,
                                           "train_loss": 0.1, "val_loss": 0.1},),
                             {}, project))
    ws.runsChanged.emit()
    assert view.check_result.ok
    window.editor.set_param("conv1", "out_channels", 4)    # the run no longer fits
    assert not view.check_result.ok and "train again" in view.check_result.reason


def test_while_a_quiz_waits_the_window_hides_its_answer(window, qtbot):
    """Predict, then reveal: conv1's shape and parameter count are nowhere on screen while
    the quiz asks for them, and all back once it is answered."""
    ws = window.workshop
    ws.open_lesson("convolution", from_start=True)
    view = lessons_panel(window)
    view.show_me_button.click()
    window.selection.select(["conv1"])
    card = window.scene.node_items["conv1"]
    assert card.label.shape == "64×254×254"                   # before the quiz: shown
    view.next_button.click()                                  # step 2: predict the shape
    assert window.editor.concealed is not None
    assert card.label.shape == "?" and card.label.count == "? params"
    assert all(item.text in ("?", "3×256×256") for item in window.scene.edge_items.values())
    shown = window.inspector.shapes.text() + window.inspector.arithmetic.text()
    assert "254" not in shown and "1,792" not in shown
    assert window.summary_panel.model.rowCount() == 0
    assert "1,792" not in window.stats_label.text() and "?" in window.stats_label.text()
    qtbot.keyClicks(view.answer, "64x254x254")
    qtbot.keyClick(view.answer, Qt.Key.Key_Return)            # right: step 3 asks the count
    assert ws.walk.number == 3 and card.label.count == "? params"
    view.answer.clear()
    qtbot.keyClicks(view.answer, "1792")
    qtbot.keyClick(view.answer, Qt.Key.Key_Return)            # answered: all shown again
    assert ws.walk.number == 4 and window.editor.concealed is None
    assert card.label.shape == "64×254×254" and "1,792" in window.stats_label.text()
    assert window.summary_panel.model.rowCount() > 0
    ws.close_lesson()
    assert window.editor.concealed is None and card.label.shape == "64×254×254"
