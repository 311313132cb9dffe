"""File ▸ New Workshop Pack…: a teacher chooses the day's projects (the open one, templates,
files), lessons, a fixed seed and the parameters students should not change — each with the
reason they will read beside its padlock — and saves one ``.llpack`` with ``build_pack``.

The dialog is a form over plain data (:class:`PackPlan`); ``build_pack`` reads the pack back
before writing it, with the checks a student's machine makes, so what it saves also opens.
What it refuses is listed in the dialog, naming the project, lesson or lock.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QPushButton, QSpinBox, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from layerlab.engine import ProjectLoadError, find_layer, load_project
from layerlab.engine.lessons import LessonLoadError, bundled_lessons, load_lesson
from layerlab.engine.lessons.pack import PACK_SUFFIX, Lock, PackError, build_pack
from layerlab.engine.templates import list_templates, load_template

__all__ = ["PackDialog", "PackPlan", "project_key"]

ALL = "*"
EVERY_PROJECT = "every project"


@contextmanager
def refilled(combo: QComboBox, quietly: bool = False):
    """Empty ``combo`` for the caller to fill again, then choose what was chosen before (or
    the first item); ``quietly``: without telling its listeners on the way."""
    current = combo.currentData()
    was = combo.blockSignals(True) if quietly else None
    combo.clear()
    try:
        yield combo
    finally:
        combo.setCurrentIndex(max(combo.findData(current), 0))
        if quietly:
            combo.blockSignals(was)


def project_key(name: str, taken=()) -> str:
    """A pack key from a project's name: letters, digits, _ and -, unique among ``taken``."""
    key = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_-").lower()[:40] or "project"
    if not key[0].isalnum():
        key = "p" + key
    base, n = key, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


@dataclass
class PackPlan:
    """What the dialog will write: ``projects`` are (key, Project, base folder)."""
    title: str = ""
    author: str = ""
    description: str = ""
    seed: int = 42
    projects: list = field(default_factory=list)
    lessons: list = field(default_factory=list)       # Lesson objects
    locks: list = field(default_factory=list)         # Lock objects
    start_lesson: str | None = None

    def build(self, out: Path):
        return build_pack(out, title=self.title, seed=self.seed, projects=self.projects,
                          lessons=self.lessons, locks=self.locks,
                          description=self.description, author=self.author,
                          start_lesson=self.start_lesson)


def _training_keys() -> list[str]:
    from layerlab.engine.training.config import TrainingConfig
    return sorted(TrainingConfig.__dataclass_fields__)


def _dataset_keys(project) -> list[str]:
    from layerlab.engine.data.fit import dataset_spec
    from layerlab.engine.data.kinds import find
    kind = find(dataset_spec(project).get("kind", "digits"))
    names = [p.name for p in kind.all_params] if kind is not None else []
    return ["kind"] + [n for n in names if n != "kind"]


class PackDialog(QDialog):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.setWindowTitle("New Workshop Pack")
        self.setObjectName("packDialog")
        self.window_ = window
        self.plan = PackPlan()
        self.saved_pack = None
        self.saved_path: Path | None = None
        doc = window.document
        self.plan.title = f"Workshop: {doc.project.name or 'my network'}"

        # --- what is in it ---
        self.title = QLineEdit(self.plan.title)
        self.title.setObjectName("packTitle")
        self.author = QLineEdit()
        self.description = QLineEdit()
        self.description.setPlaceholderText("what the day is about (students see it)")
        self.seed = QSpinBox()
        self.seed.setObjectName("packSeed")
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(self.plan.seed)
        self.seed.setToolTip("Every project trains with this seed: the same curve on every "
                             "laptop. Students cannot change it.")
        about = QGroupBox("The pack")
        form = QFormLayout(about)
        form.addRow("Title", self.title)
        form.addRow("Author", self.author)
        form.addRow("Description", self.description)
        form.addRow("Seed", self.seed)

        self.project_list = QListWidget()
        self.project_list.setObjectName("packProjects")
        self.project_list.setMaximumHeight(120)
        self.templates = QComboBox()
        self.templates.setObjectName("packTemplates")
        for template in list_templates():
            self.templates.addItem(f"{template.name} ({template.key})", template.key)
        add_template = QPushButton("Add template")
        add_template.clicked.connect(lambda: self.add_template(self.templates.currentData()))
        add_file = QPushButton("Add project file…")
        add_file.clicked.connect(self._add_file)
        remove = QPushButton("Remove")
        remove.clicked.connect(self._remove_project)
        projects_box = QGroupBox("Projects (the first opens with the pack)")
        pl = QVBoxLayout(projects_box)
        pl.addWidget(self.project_list)
        row = QHBoxLayout()
        row.addWidget(self.templates, 1)
        row.addWidget(add_template)
        pl.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(add_file)
        row.addWidget(remove)
        row.addStretch(1)
        pl.addLayout(row)

        self.lesson_list = QListWidget()
        self.lesson_list.setObjectName("packLessons")
        for lesson in bundled_lessons(strict=False):
            self._add_lesson_item(lesson)
        self.lesson_list.itemChanged.connect(lambda _i: self._fill_start())
        add_lesson = QPushButton("Add lesson file…")
        add_lesson.clicked.connect(self._add_lesson_file)
        self.start = QComboBox()
        self.start.setObjectName("packStart")
        lessons_box = QGroupBox("Lessons (tick the day's)")
        ll = QVBoxLayout(lessons_box)
        ll.addWidget(self.lesson_list, 1)
        row = QHBoxLayout()
        row.addWidget(add_lesson)
        row.addStretch(1)
        row.addWidget(QLabel("opens with"))
        row.addWidget(self.start, 1)
        ll.addLayout(row)

        # --- locks ---
        self.lock_project = QComboBox()
        self.lock_project.setObjectName("lockProject")
        self.lock_target = QComboBox()
        self.lock_target.setObjectName("lockTarget")
        self.lock_param = QComboBox()
        self.lock_param.setObjectName("lockParam")
        self.lock_reason = QLineEdit()
        self.lock_reason.setObjectName("lockReason")
        self.lock_reason.setPlaceholderText("why — students read this beside the padlock")
        self.lock_project.currentIndexChanged.connect(lambda _i: self._fill_targets())
        self.lock_target.currentIndexChanged.connect(lambda _i: self._fill_params())
        add_lock = QPushButton("Lock it")
        add_lock.setObjectName("addLock")
        add_lock.clicked.connect(self._add_lock_from_form)
        remove_lock = QPushButton("Remove lock")
        remove_lock.clicked.connect(self._remove_lock)
        self.lock_table = QTableWidget(0, 3)
        self.lock_table.setObjectName("lockTable")
        self.lock_table.setHorizontalHeaderLabels(["project", "locked", "reason"])
        self.lock_table.horizontalHeader().setStretchLastSection(True)
        self.lock_table.verticalHeader().hide()
        self.lock_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        locks_box = QGroupBox("Locked parameters")
        lf = QFormLayout(locks_box)
        lf.addRow("Project", self.lock_project)
        lf.addRow("Layer or section", self.lock_target)
        lf.addRow("Parameter", self.lock_param)
        lf.addRow("Reason", self.lock_reason)
        row = QHBoxLayout()
        row.addWidget(add_lock)
        row.addWidget(remove_lock)
        row.addStretch(1)
        lf.addRow(row)
        lf.addRow(self.lock_table)
        seed_note = QLabel("The seed is always locked.")
        seed_note.setStyleSheet("color: palette(placeholder-text);")
        lf.addRow(seed_note)

        self.problems = QLabel()
        self.problems.setObjectName("packProblems")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #D93025;")
        self.problems.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("Save pack…")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)

        left = QVBoxLayout()
        left.addWidget(about)
        left.addWidget(projects_box)
        left.addWidget(lessons_box, 1)
        right = QVBoxLayout()
        right.addWidget(locks_box, 1)
        columns = QHBoxLayout()
        lw, rw = QWidget(), QWidget()
        lw.setLayout(left)
        rw.setLayout(right)
        columns.addWidget(lw, 1)
        columns.addWidget(rw, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addWidget(self.problems)
        layout.addWidget(buttons)
        self.resize(1080, 720)

        if doc.project.graph.nodes:
            self.add_project(doc.project.copy(), doc.path.parent if doc.path else None)
        self._fill_start()

    # --- projects ------------------------------------------------------------------------------
    def add_project(self, project, base_dir=None, key: str | None = None) -> str:
        key = key or project_key(project.name or "project",
                                 {k for k, _p, _b in self.plan.projects})
        self.plan.projects.append((key, project, base_dir))
        item = QListWidgetItem(f"{key} — {project.name or 'Untitled'} "
                               f"({len(project.graph.nodes)} layers)")
        item.setData(Qt.ItemDataRole.UserRole, key)
        self.project_list.addItem(item)
        self._fill_lock_projects()
        return key

    def add_template(self, key: str) -> str | None:
        try:
            project = load_template(key)
        except (KeyError, ProjectLoadError) as exc:
            self._say([str(exc)])
            return None
        return self.add_project(project, None, project_key(
            key, {k for k, _p, _b in self.plan.projects}))

    def _add_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a project", "",
                                              "LayerLab projects (*.json)")
        if not path:
            return
        try:
            project = load_project(path)
        except ProjectLoadError as exc:
            self._say([str(p) for p in exc.problems] or [str(exc)])
            return
        self.add_project(project, Path(path).parent, project_key(
            Path(path).stem, {k for k, _p, _b in self.plan.projects}))

    def _remove_project(self) -> None:
        row = self.project_list.currentRow()
        if row < 0:
            return
        key = self.project_list.takeItem(row).data(Qt.ItemDataRole.UserRole)
        self.plan.projects = [p for p in self.plan.projects if p[0] != key]
        self.plan.locks = [lock for lock in self.plan.locks if lock.project != key]
        self._fill_lock_projects()
        self._fill_lock_table()

    # --- lessons -------------------------------------------------------------------------------
    def _add_lesson_item(self, lesson, checked: bool = False) -> None:
        item = QListWidgetItem(f"{lesson.title}  ·  {', '.join(lesson.concepts)}")
        item.setData(Qt.ItemDataRole.UserRole, lesson)
        item.setToolTip(lesson.summary)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.lesson_list.addItem(item)

    def _add_lesson_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a lesson", "", "Lessons (*.json)")
        if not path:
            return
        try:
            lesson = load_lesson(path, {k: p for k, p, _b in self.plan.projects})
        except LessonLoadError as exc:
            self._say([str(p) for p in exc.problems] or [str(exc)])
            return
        self._add_lesson_item(lesson, checked=True)
        self._fill_start()

    def tick_lessons(self, ids) -> None:
        """Tick the lessons ``ids`` (in the list's order) — scripts and tests."""
        ids = set(ids)
        for i in range(self.lesson_list.count()):
            item = self.lesson_list.item(i)
            lesson = item.data(Qt.ItemDataRole.UserRole)
            item.setCheckState(Qt.CheckState.Checked if lesson.id in ids
                               else Qt.CheckState.Unchecked)

    def chosen_lessons(self) -> list:
        return [self.lesson_list.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.lesson_list.count())
                if self.lesson_list.item(i).checkState() == Qt.CheckState.Checked]

    def _fill_start(self) -> None:
        with refilled(self.start):
            for lesson in self.chosen_lessons():
                self.start.addItem(lesson.title, lesson.id)

    # --- locks ---------------------------------------------------------------------------------
    def _fill_lock_projects(self) -> None:
        with refilled(self.lock_project, quietly=True):
            self.lock_project.addItem(EVERY_PROJECT, None)
            for key, _project, _base in self.plan.projects:
                self.lock_project.addItem(key, key)
        self._fill_targets()

    def _projects_for_lock(self) -> list:
        key = self.lock_project.currentData()
        return [p for k, p, _b in self.plan.projects if key is None or k == key]

    def _fill_targets(self) -> None:
        with refilled(self.lock_target, quietly=True):
            self.lock_target.addItem("training settings", "training")
            self.lock_target.addItem("dataset settings", "dataset")
            seen = set()
            for project in self._projects_for_lock():
                for node_id, node in project.graph.nodes.items():
                    if node_id not in seen:
                        seen.add(node_id)
                        self.lock_target.addItem(f"{node_id} ({node.type})", node_id)
        self._fill_params()

    def _fill_params(self) -> None:
        target = self.lock_target.currentData()
        self.lock_param.clear()
        self.lock_param.addItem("all of them (*)", ALL)
        names: list[str] = []
        projects = self._projects_for_lock()
        if target == "training":
            names = _training_keys()
        elif target == "dataset":
            names = _dataset_keys(projects[0]) if projects else ["kind"]
        else:
            for project in projects:
                node = project.graph.nodes.get(target)
                spec = find_layer(node.type) if node is not None else None
                if spec is not None:
                    names = [p.name for p in spec.params]
                    break
        for name in names:
            if name != "seed" or target != "training":   # the seed is locked anyway
                self.lock_param.addItem(name, name)

    def add_lock(self, target: str, param: str, reason: str,
                 project: str | None = None) -> bool:
        reason = reason.strip()
        if not reason:
            self._say(["Give the reason students will read beside the padlock."])
            return False
        self.plan.locks = [lock for lock in self.plan.locks
                           if (lock.target, lock.param, lock.project) != (target, param, project)]
        self.plan.locks.append(Lock(target, param, reason, project))
        self._fill_lock_table()
        self._say([])
        return True

    def _add_lock_from_form(self) -> None:
        if self.add_lock(self.lock_target.currentData(), self.lock_param.currentData() or ALL,
                         self.lock_reason.text(), self.lock_project.currentData()):
            self.lock_reason.clear()

    def _remove_lock(self) -> None:
        row = self.lock_table.currentRow()
        if 0 <= row < len(self.plan.locks):
            del self.plan.locks[row]
            self._fill_lock_table()

    def _fill_lock_table(self) -> None:
        self.lock_table.setRowCount(len(self.plan.locks))
        for row, lock in enumerate(self.plan.locks):
            for col, text in enumerate((lock.project or EVERY_PROJECT,
                                        f"{lock.target}.{lock.param}", lock.reason)):
                self.lock_table.setItem(row, col, QTableWidgetItem(text))
        self.lock_table.resizeColumnsToContents()
        self.lock_table.horizontalHeader().setStretchLastSection(True)

    # --- saving --------------------------------------------------------------------------------
    def collect(self) -> PackPlan:
        plan = self.plan
        plan.title = self.title.text().strip()
        plan.author = self.author.text().strip()
        plan.description = self.description.text().strip()
        plan.seed = self.seed.value()
        plan.lessons = self.chosen_lessons()
        plan.start_lesson = self.start.currentData()
        return plan

    def save(self, path: Path | str | None = None) -> bool:
        """Write the pack (asking where, unless ``path`` is given); refusals are listed."""
        plan = self.collect()
        problems = []
        if not plan.title:
            problems.append("Give the pack a title: students see it.")
        if not plan.projects:
            problems.append("Add at least one project: the pack opens with the first.")
        if problems:
            self._say(problems)
            return False
        if path is None:
            settings = self.window_.settings
            start = Path(str(settings.value("files/lastDir", str(Path.home())))) \
                / f"{project_key(plan.title)}{PACK_SUFFIX}"
            chosen, _ = QFileDialog.getSaveFileName(self, "Save workshop pack", str(start),
                                                    f"Workshop packs (*{PACK_SUFFIX})")
            if not chosen:
                return False
            path = chosen
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(PACK_SUFFIX)
        try:
            self.saved_pack = plan.build(path)
        except PackError as exc:
            self._say([str(p) for p in exc.problems] or [str(exc)])
            return False
        self.saved_path = path
        pack = self.saved_pack
        self.window_.editor.message.emit(
            f"Saved {path.name}: {len(pack.projects)} project(s), {len(pack.lessons)} "
            f"lesson(s), {len(pack.locks)} lock(s), seed {pack.seed}")
        self.accept()
        return True

    def _say(self, problems: list[str]) -> None:
        self.problems.setText("\n".join(f"• {p}" for p in problems))
        self.problems.setVisible(bool(problems))
