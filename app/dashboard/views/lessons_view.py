"""The Lessons panel: the course (or a workshop pack's lessons) and the step being followed.

It renders from the window's :class:`~layerlab.app.workshop.controller.Workshop` (the lesson,
its step, the progress and the last answer) and keeps nothing of its own. Two pages:

* **the list** — every lesson with its concept tags and the learner's score;
* **the step** — its text and what to do now, the check turning green or red *live* (it is
  evaluated again on every edit, undo included, and when a run ends), a hint, "Show me" (the
  step's Fix as one undoable command), Train where the step needs a run, Next / Back, and
  predict-then-reveal quizzes: a field for a shape or a number (Enter answers), or the
  learning-rate curves drawn with pyqtgraph to click on. A wrong answer shows the worked
  arithmetic with the learner's numbers; a right one moves on.
"""
from __future__ import annotations

import html
import math
import re

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QPushButton, QStackedWidget,
                               QVBoxLayout, QWidget)

from ...workshop.lock_marks import LOCK_COLOR
from .deferred_draw import DeferredDraw
from .layout_helpers import caption, still_plot, vertical_scroll

__all__ = ["LessonsView", "CURVE_COLORS", "rich"]

OK_COLOR, TODO_COLOR = "#1E7B34", "#B3261E"
#: The pick-the-curve quiz's curves, A, B, C…: distinct for colour-blind eyes too.
CURVE_COLORS = ("#1F77B4", "#D62728", "#2CA02C", "#9467BD", "#FF7F0E", "#17BECF")


def rich(text: str) -> str:
    """A lesson's text as HTML: paragraphs, **bold** and *italic* (lessons.md)."""
    out = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        p = html.escape(paragraph)
        p = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", p)
        p = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<i>\1</i>", p)
        out.append(f"<p style='margin:0 0 6px 0'>{p.replace(chr(10), '<br>')}</p>")
    return "".join(out)


def _box(name: str, background: str = "palette(alternate-base)") -> QFrame:
    frame = QFrame()
    frame.setObjectName(name)
    frame.setStyleSheet(f"QFrame#{name} {{ background: {background}; border-radius: 6px; }}")
    return frame


class LessonsView(DeferredDraw, QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lessonsView")
        self.ctx = ctx
        self.workshop = ctx.extras["workshop"]
        self.doc = ctx.editor.document
        self._shown_step: tuple | None = None
        self.check_result = None
        self.question = None

        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_list())
        self.pages.addWidget(self._build_step())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.pack_banner)        # on both pages: this is a workshop
        layout.addWidget(self.pages)

        w = self.workshop
        for signal in (w.checked, w.packChanged):      # (changed: a check follows it)
            signal.connect(lambda *_: self._update())
        self.render()

    # --- building ------------------------------------------------------------------------------
    def _build_list(self) -> QWidget:
        self.pack_banner = caption(name="packBanner")
        self.pack_banner.setStyleSheet(f"color: {LOCK_COLOR}; font-weight: bold;")
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.list_intro = caption("Pick a lesson: each one builds a network step by step, "
                                  "checks your work as you go, and asks you to predict before "
                                  "it shows you.", "lessonsIntro")
        self.lesson_list = QListWidget()
        self.lesson_list.setObjectName("lessonList")
        self.lesson_list.setWordWrap(True)
        self.lesson_list.setAlternatingRowColors(True)
        self.lesson_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.lesson_list.itemActivated.connect(self._start_selected)
        self.start_button = QPushButton("Start lesson")
        self.start_button.setObjectName("startLesson")
        self.start_button.clicked.connect(lambda: self._start_selected(
            self.lesson_list.currentItem()))
        layout.addWidget(self.list_intro)
        layout.addWidget(self.lesson_list, 1)
        layout.addWidget(self.start_button)
        return page

    def _build_step(self) -> QWidget:
        page = QWidget()
        outer = QVBoxLayout(page)
        outer.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.all_button = QPushButton("◀ Lessons")
        self.all_button.setObjectName("allLessons")
        self.all_button.clicked.connect(self.workshop.close_lesson)
        self.score = QLabel()
        self.score.setObjectName("lessonScore")
        top.addWidget(self.all_button)
        top.addStretch(1)
        top.addWidget(self.score)
        outer.addLayout(top)
        self.lesson_title = caption(name="lessonTitle")
        font = self.lesson_title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.lesson_title.setFont(font)
        self.step_title = caption(name="stepTitle")
        bold = self.step_title.font()
        bold.setBold(True)
        self.step_title.setFont(bold)
        outer.addWidget(self.lesson_title)
        outer.addWidget(self.step_title)

        body = QWidget()
        b = QVBoxLayout(body)
        b.setContentsMargins(0, 0, 4, 0)
        b.setSpacing(8)
        self.last_answer = caption(name="lastAnswer")
        self.text = caption(name="stepText")
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.action_box = _box("actionBox")
        al = QVBoxLayout(self.action_box)
        self.action = caption(name="stepAction")
        al.addWidget(self.action)
        self.check_box = _box("checkBox", "transparent")
        cl = QVBoxLayout(self.check_box)
        self.check = caption(name="stepCheck")
        self.check.setTextFormat(Qt.TextFormat.RichText)
        cl.addWidget(self.check)
        self.hint_button = QPushButton("Hint")
        self.hint_button.setObjectName("hintButton")
        self.hint_button.setCheckable(True)
        self.hint = caption(name="stepHint")
        self.hint.setStyleSheet("font-style: italic;")
        self.hint_button.toggled.connect(self.hint.setVisible)
        self.hint.hide()
        b.addWidget(self.last_answer)
        b.addWidget(self.text)
        b.addWidget(self.action_box)
        b.addWidget(self.check_box)
        b.addWidget(self._build_quiz())
        b.addWidget(self.hint_button, 0, Qt.AlignmentFlag.AlignLeft)
        b.addWidget(self.hint)
        self.refusal = caption(name="lessonRefusal")
        self.refusal.setStyleSheet(f"color: {TODO_COLOR};")
        b.addWidget(self.refusal)
        b.addStretch(1)
        self.scroll = vertical_scroll(body)
        outer.addWidget(self.scroll, 1)

        actions = QHBoxLayout()
        self.show_me_button = QPushButton("Show me")
        self.show_me_button.setObjectName("showMe")
        self.show_me_button.setToolTip("Do this step for me (one undo step: Ctrl+Z takes it "
                                       "back)")
        self.show_me_button.clicked.connect(self.workshop.show_me)
        self.open_button = QPushButton("Start from the step's project")
        self.open_button.setObjectName("openStepProject")
        self.open_button.clicked.connect(lambda: self.workshop.open_step_project())
        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("lessonTrain")
        self.train_button.clicked.connect(self.workshop.train)
        actions.addWidget(self.show_me_button)
        actions.addWidget(self.train_button)
        nav = QHBoxLayout()
        self.back_button = QPushButton("◀ Back")
        self.back_button.setObjectName("lessonBack")
        self.back_button.clicked.connect(self.workshop.back)
        self.next_button = QPushButton("Next ▶")
        self.next_button.setObjectName("lessonNext")
        self.next_button.clicked.connect(self._next)
        nav.addWidget(self.back_button)
        nav.addStretch(1)
        nav.addWidget(self.next_button)
        outer.addWidget(self.open_button)
        outer.addLayout(actions)
        outer.addLayout(nav)
        return page

    def _build_quiz(self) -> QWidget:
        self.quiz_box = _box("quizBox")
        q = QVBoxLayout(self.quiz_box)
        self.prompt = caption(name="quizPrompt")
        bold = self.prompt.font()
        bold.setBold(True)
        self.prompt.setFont(bold)
        self.answer = QLineEdit()
        self.answer.setObjectName("quizAnswer")
        self.answer.returnPressed.connect(self._answer_typed)
        self.answer_button = QPushButton("Answer")
        self.answer_button.setObjectName("quizAnswerButton")
        self.answer_button.clicked.connect(self._answer_typed)
        row = QHBoxLayout()
        row.addWidget(self.answer, 1)
        row.addWidget(self.answer_button)
        self.answer_row = QWidget()
        self.answer_row.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        self.curves = still_plot("loss (log)", "step")
        self.curves.setObjectName("quizCurves")
        self.curves.setMinimumHeight(200)
        self.curves.getPlotItem().setLogMode(y=True)
        self.curves.getPlotItem().addLegend(offset=(-10, 10))
        self.choice_row = QHBoxLayout()
        self.choice_buttons: dict[str, QPushButton] = {}
        self.result = caption(name="quizResult")
        self.result.setTextFormat(Qt.TextFormat.RichText)
        self.worked = caption(name="quizWorked")
        self.worked.setTextFormat(Qt.TextFormat.RichText)
        q.addWidget(self.prompt)
        q.addWidget(self.answer_row)
        q.addWidget(self.curves)
        q.addLayout(self.choice_row)
        q.addWidget(self.result)
        q.addWidget(self.worked)
        return self.quiz_box

    # --- drawing -------------------------------------------------------------------------------
    def _update(self) -> None:
        """An edit, an undo, a run's end: the check again, at once (cheap) — also behind
        another tab, so the step is green the moment the learner looks."""
        self.render()
        if self.isVisible():
            self.flush()

    def draw(self, _topics: frozenset) -> None:
        walk = self.workshop.walk
        self._draw_banner()
        if walk is None:
            self._draw_list()
            self.pages.setCurrentIndex(0)
            self._shown_step = None
            return
        self.pages.setCurrentIndex(1)
        key = (id(walk), walk.lesson.id, walk.number, self.workshop.generation)
        if key != self._shown_step:
            self._shown_step = key
            self._draw_step(walk)
        self._draw_progress(walk)

    def _draw_banner(self) -> None:
        pack = self.workshop.pack
        if pack is None:
            self.pack_banner.hide()
            return
        self.pack_banner.setText(f"Workshop: {pack.title} · seed {pack.seed}"
                                 + (f" — {pack.description}" if pack.description else ""))
        self.pack_banner.show()

    def _draw_list(self) -> None:
        current = self.lesson_list.currentRow()
        self.lesson_list.clear()
        for number, lesson in enumerate(self.workshop.lessons(), 1):
            walk = self.workshop.walkthrough(lesson)
            score = walk.score
            done = sum(1 for s in lesson.steps if walk.done(s.number))
            progress = (f"{done}/{len(lesson.steps)} steps done"
                        + (f" · quizzes {score.first_try}/{score.total} right first time"
                           if score.total else ""))
            item = QListWidgetItem(f"{number}. {lesson.title}\n"
                                   f"    {' · '.join(lesson.concepts)}\n    {progress}")
            item.setData(Qt.ItemDataRole.UserRole, lesson.id)
            item.setToolTip(lesson.summary)
            self.lesson_list.addItem(item)
        self.lesson_list.setCurrentRow(max(0, min(current, self.lesson_list.count() - 1)))

    def _draw_step(self, walk) -> None:
        """What changes only with the step: its text, action, hint, quiz question."""
        step, lesson = walk.step, walk.lesson
        self.lesson_title.setText(lesson.title)
        self.lesson_title.setToolTip("Concepts: " + ", ".join(lesson.concepts))
        self.step_title.setText(f"Step {step.number} of {len(lesson.steps)} · {step.title}")
        self.text.setText(rich(step.text))
        self.action.setText(f"<b>Do this:</b> {html.escape(step.action)}" if step.action
                            else "")
        self.action_box.setVisible(bool(step.action))
        self.hint.setText(step.hint)
        self.hint_button.setChecked(False)
        self.hint_button.setVisible(bool(step.hint))
        self.answer.clear()
        self.result.clear()
        self.worked.clear()
        self.scroll.verticalScrollBar().setValue(0)
        self._draw_question(walk)

    def _draw_question(self, walk) -> None:
        self.question = None
        self.quiz_box.setVisible(walk.step.quiz is not None)
        if walk.step.quiz is None:
            return
        try:
            self.question = walk.ask(self.doc.project)
        except ValueError as exc:     # Unanswerable: neither this project nor the step's
            self.prompt.setText(str(exc))
            self.answer_row.hide()
            self.curves.hide()
            return
        q = self.question
        self.prompt.setText(q.prompt)
        self.answer.setPlaceholderText(q.hint)
        self.answer_row.setVisible(q.answer_kind != "choice")
        self.curves.setVisible(bool(q.curves))
        for button in self.choice_buttons.values():
            self.choice_row.removeWidget(button)
            button.deleteLater()
        self.choice_buttons = {}
        plot = self.curves.getPlotItem()
        plot.clear()
        for i, curve in enumerate(q.curves):
            color = CURVE_COLORS[i % len(CURVE_COLORS)]
            ys = [v if math.isfinite(v) and v > 0 else float("nan") for v in curve.losses]
            item = pg.PlotDataItem(list(range(len(ys))), ys, pen=pg.mkPen(color, width=3),
                                   name=f"curve {curve.label}", connect="finite")
            item.curve.setClickable(True, width=12)
            item.sigClicked.connect(lambda _item, *_a, label=curve.label:
                                    self._answer_choice(label))
            plot.addItem(item)
        for i, label in enumerate(q.choices):
            button = QPushButton(f"Curve {label}")
            button.setObjectName(f"choice_{label}")
            color = CURVE_COLORS[i % len(CURVE_COLORS)]
            button.setStyleSheet(f"QPushButton {{ color: {color}; font-weight: bold; }}")
            button.clicked.connect(lambda _c=False, label=label: self._answer_choice(label))
            self.choice_buttons[label] = button
            self.choice_row.addWidget(button)
        if q.answer_kind != "choice":
            self.answer.setFocus(Qt.FocusReason.OtherFocusReason)

    def _draw_progress(self, walk) -> None:
        """What changes as the learner works: the check, the answer, the score, the buttons."""
        w = self.workshop
        step = walk.step
        score = walk.score
        self.score.setText(f"Score: {score.first_try} of {score.total}" if score.total
                           else "")
        self.score.setToolTip(str(score) if score.total else "")
        answer, at = w.last_answer, w.answered_step
        moved_on = answer is not None and answer.correct and at == walk.number - 1
        self.last_answer.setVisible(moved_on)
        if moved_on:
            self.last_answer.setText(f"<span style='color:{OK_COLOR}'><b>✓ "
                                     f"{html.escape(answer.message)}</b></span>")
        if answer is not None and at == walk.number and step.quiz is not None:
            color = OK_COLOR if answer.correct else TODO_COLOR
            self.result.setText(f"<span style='color:{color}'><b>{html.escape(answer.message)}"
                                f"</b></span>")
            wrong = answer.understood and not answer.correct
            self.worked.setText("<br>".join(html.escape(line) for line in answer.worked)
                                if wrong else "")
            self.worked.setVisible(wrong and bool(answer.worked))
        elif step.quiz is not None and walk.number in walk.right:
            self.result.setText(f"<span style='color:{OK_COLOR}'><b>✓ Answered right</b>"
                                f"</span>")
            self.worked.hide()
        else:
            self.result.clear()
            self.worked.hide()
        self._draw_check(walk)
        self.refusal.setText(w.last_refusal or "")
        self.refusal.setVisible(bool(w.last_refusal))
        fix = step.show_me
        satisfied = w.check is not None and w.check.ok     # done: nothing to show or restart
        self.show_me_button.setVisible(fix is not None and bool(fix.edits) and not satisfied)
        if fix is not None:
            self.show_me_button.setToolTip(f"{fix.label} (one undo step: Ctrl+Z takes it back)")
        self.train_button.setVisible(step.needs_run)
        self.open_button.setVisible(walk.opens_project and not satisfied
                                    and not w.at_step_start())
        self.back_button.setEnabled(walk.number > 1)
        done = walk.done()
        if walk.at_end:
            self.next_button.setText("Lesson done ✓" if done else "Finish")
        else:
            self.next_button.setText("Next ▶")
        self.next_button.setDefault(done)

    def _draw_check(self, walk) -> None:
        result = self.workshop.check
        self.check_result = result
        if result is None:
            self.check_box.hide()
            return
        self.check_box.show()
        color = OK_COLOR if result.ok else TODO_COLOR
        head = (f"<span style='color:{color}'><b>{'✓ Done' if result.ok else '✗ Not yet'}"
                f"</b></span> — {html.escape(result.reason)}")
        lines = [head]
        for part in result.parts:
            mark = "✓" if part.ok else "✗"
            pc = OK_COLOR if part.ok else TODO_COLOR
            goal = html.escape(part.goal or part.reason)
            extra = "" if part.ok else f" <i>({html.escape(part.reason)})</i>"
            lines.append(f"<span style='color:{pc}'>{mark}</span> {goal}{extra}")
        self.check.setText("<br>".join(lines))
        self.check_box.setObjectName("checkBox")
        border = OK_COLOR if result.ok else TODO_COLOR
        self.check_box.setStyleSheet(f"QFrame#checkBox {{ border: 2px solid {border}; "
                                     f"border-radius: 6px; }}")
        self.check_box.setProperty("ok", result.ok)

    # --- the learner's actions -----------------------------------------------------------------
    def _start_selected(self, item) -> None:
        if item is not None:
            self.workshop.open_lesson(item.data(Qt.ItemDataRole.UserRole))

    def _next(self) -> None:
        walk = self.workshop.walk
        if walk is not None and walk.at_end:
            self.workshop.close_lesson()
        else:
            self.workshop.next()

    def _answer_typed(self) -> None:
        text = self.answer.text().strip()
        if text:
            self.workshop.answer(text)

    def _answer_choice(self, label: str) -> None:
        self.workshop.answer(label)
