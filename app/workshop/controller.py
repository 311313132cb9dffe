"""One window's workshop: the pack that is open, the lesson being followed, and what its checks
read.

:class:`Workshop` is the state the Lessons panel renders (it keeps no lesson state of its own):

* **the pack** — opened from File ▸ Open, ``layerlab FILE.llpack`` or a double-click: checked
  (``open_pack``: a bad file is a message, never a traceback), extracted into a per-user
  folder (relative data paths resolve; a student's saved work there is opened again next
  time), its first project opened, its locks installed on the editor
  (``Editor.set_value_locks``), its seed in every project it opens, its start lesson shown;
* **the lesson** — an engine ``Walkthrough`` per lesson, its progress and quiz score kept in
  the window's QSettings across restarts; Next / Back (a step that starts from a project of its
  own opens it, asking about unsaved work), "Show me" (the step's Fix as ONE undoable command),
  predict-then-reveal answers (right: on to the next step);
* **the runs** — a record of every run this session trained (``record_from_result`` with the
  project as it was when Train was pressed), else the run folder beside a saved project: what
  the checks that need a run read, re-evaluated when a run ends.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog

from layerlab.engine import ProjectLoadError, load_project
from layerlab.engine.edits import EditError, apply_edits
from layerlab.engine.lessons import (RunReadError, Walkthrough, bundled_lessons, find_quiz,
                                     read_run, record_from_result)
from layerlab.engine.lessons.pack import PACK_SUFFIX, PackError, is_pack, open_pack
from layerlab.engine.lessons.runs import project_changes
from layerlab.engine.locations import run_dir

from ..file_actions import show_problems
from .locks import NOT_A_PACK_PROJECT, PackLocks
from .projector import PresenterLayout, ProjectorMode

__all__ = ["Workshop"]

log = logging.getLogger(__name__)
PACK_FILTER = f"Workshop packs (*{PACK_SUFFIX});;All files (*)"
#: Where a pack's own project starts a lesson step ("pack project digits": engine Start.origin).
_PACK_ORIGIN = re.compile(r"^pack project (?P<key>[A-Za-z0-9][A-Za-z0-9_-]*)$")


class Workshop(QObject):
    #: A pack was opened (or the open document became / stopped being one of its projects).
    packChanged = Signal()
    #: The lesson, its step, its progress or the last answer changed: the panel redraws.
    changed = Signal()
    #: A run ended and its record joined ``runs``: checks that need a run are evaluated again.
    runsChanged = Signal()
    #: The step's check was evaluated again (an edit, an undo, a run's end): ``check``.
    checked = Signal()

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.editor = window.editor
        self.doc = window.document
        self.files = window.files
        self.settings = window.settings
        self.dashboard = window.dashboard
        #: Packs are extracted under here, one folder per pack file (by its content's hash).
        self.folder = Path(window.autosave.directory).parent / "workshops"
        self.pack = None
        self.pack_dir: Path | None = None
        self.project_key: str | None = None    # which pack project the document is
        self.walk: Walkthrough | None = None   # the lesson being followed
        self.last_answer = None                # the newest QuizResult, and the step it
        self.answered_step = 0                 # answered (a right one shows on the next)
        self.last_refusal: str | None = None   # why Show me / an answer could not be applied
        self.runs: list = []                   # RunRecords of this session, oldest first
        self.check = None                      # the step's CheckResult now (None: no check)
        #: Counts the documents opened (New, Open, a step's project): what the panel asked
        #: a quiz about belongs to one of them, and is asked again about the next.
        self.generation = 0
        self._walks: dict[str, Walkthrough] = {}
        self._loading: tuple | None = None     # (key,) while the workshop loads a project
        self._run_token = None
        self._run_project = None
        self._recorded = None
        self._disk_run: tuple | None = None    # ((path, mtime), RunRecord | None)

        self.projector = ProjectorMode(window)
        self.presenter = PresenterLayout(window)
        self.files.openers.append(self._open_if_pack)
        self.doc.projectReset.connect(self._project_reset)
        # Live: the check again after every edit (undo and fixes too) and when a run ends.
        for signal in (self.doc.analysisChanged, self.editor.sectionChanged,
                       self.dashboard.notifier.changed, self.runsChanged, self.changed):
            signal.connect(lambda *_: self.recheck())
        self.dashboard.project_state.subscribe(self._on_run, ("run",))
        self.dashboard.view_context.extras["workshop"] = self
        self.changed.connect(self._conceal_answers)
        self.packChanged.connect(self._conceal_answers)

    def _conceal_answers(self) -> None:
        """Predict, then reveal: while the step's quiz asks for something the window shows
        (a layer's output shape, a parameter count), the canvas, Inspector, Summary and
        status bar hide shapes and counts — until the learner has answered."""
        walk = self.walk
        quiz = walk.step.quiz if walk is not None else None
        kind = find_quiz(quiz.kind) if quiz is not None else None
        waiting = (kind is not None and kind.answer_on_canvas
                   and not (self.last_answer is not None and self.answered_step == walk.number))
        self.editor.set_concealed(
            "Predict first: the shapes and parameter counts are hidden until you answer the "
            "quiz in the Lessons panel." if waiting else None)

    # --- lessons -------------------------------------------------------------------------------
    def lessons(self) -> list:
        """The pack's lessons in workshop mode, else the bundled course."""
        if self.pack is not None and self.pack.lessons:
            return list(self.pack.lessons)
        return bundled_lessons(strict=False)

    def lesson(self, lesson_id: str):
        return next((lesson for lesson in self.lessons() if lesson.id == lesson_id), None)

    def walkthrough(self, lesson) -> Walkthrough:
        """The learner's progress in ``lesson`` (remembered across restarts)."""
        walk = self._walks.get(lesson.id)
        if walk is None or walk.lesson is not lesson:
            raw = self.settings.value(self._progress_key(lesson.id))
            try:
                data = json.loads(raw) if isinstance(raw, str) else None
            except ValueError:
                data = None
            walk = Walkthrough.from_json(lesson, data) if data else Walkthrough(lesson)
            self._walks[lesson.id] = walk
        return walk

    def _progress_key(self, lesson_id: str) -> str:
        where = f"pack-{self.pack_dir.name}" if self.pack is not None and self.pack_dir \
            else "bundled"
        return f"lessons/{where}/{lesson_id}"

    def save_progress(self) -> None:
        if self.walk is not None:
            self.settings.setValue(self._progress_key(self.walk.lesson.id),
                                   json.dumps(self.walk.to_json()))

    def open_lesson(self, lesson_id: str, from_start: bool = False, load: bool = True) -> bool:
        """Follow ``lesson_id`` where the learner left it (``from_start``: at step 1); a step
        that starts from a project of its own opens it (``load=False``: not now — the panel
        offers it)."""
        lesson = self.lesson(lesson_id)
        if lesson is None:
            return False
        self.walk = self.walkthrough(lesson)
        if from_start:
            self.walk.go(1)
        self.last_answer = self.last_refusal = None
        self.save_progress()
        if load:
            self._enter_step()
        else:
            self.changed.emit()
        self.show_panel()
        return True

    def close_lesson(self) -> None:
        """Back to the list of lessons."""
        self.walk = None
        self.changed.emit()

    def show_panel(self) -> None:
        dock = self.dashboard.docks.get("lessons")
        if dock is not None:
            dock.show()
            dock.raise_()

    def next(self) -> bool:
        if self.walk is None or self.walk.next() is None:
            return False
        self.last_answer = self.last_refusal = None
        self.save_progress()
        self._enter_step()
        return True

    def back(self) -> bool:
        if self.walk is None or self.walk.back() is None:
            return False
        self.last_answer = self.last_refusal = None
        self.save_progress()
        self.changed.emit()          # going back never replaces the document
        return True

    def _enter_step(self) -> None:
        """A step that starts from a project of its own opens it — unless the document
        already is that project (the pack's project, opened with the pack)."""
        if self.walk is not None and self.walk.opens_project and not self._on_step_project():
            self.open_step_project()
        self.changed.emit()

    def _on_step_project(self) -> bool:
        match = _PACK_ORIGIN.match(self._step_origin() or "")
        if match and self.pack is not None and match["key"] == self.project_key \
                and not self.walk.step.start.edits:
            return True             # the pack's project, maybe with the learner's work in it
        return self.at_step_start()

    def at_step_start(self) -> bool:
        """The document is the step's starting project (layers, wiring and settings)."""
        if self.walk is None:
            return False
        return not project_changes(self._start_project(), self.doc.project)

    def _start_project(self):
        project = self.walk.start_project()
        if self.pack is not None:   # the same curve on every laptop: the pack's seed
            project.training = {**(project.training or {}), "seed": self.pack.seed}
        return project

    def open_step_project(self, confirm: bool = True) -> bool:
        """Open the project the current step starts from (asking about unsaved work)."""
        if self.walk is None:
            return False
        if confirm and not self.files.confirm_discard():
            return False
        project = self._start_project()
        key, path = NOT_A_PACK_PROJECT, None
        origin = self._step_origin()
        match = _PACK_ORIGIN.match(origin or "")
        if self.pack is not None and match and match["key"] in self.pack.projects:
            key = match["key"]
            path = self.pack_dir / self.pack.project_file(key) if self.pack_dir else None
        self._load(project, path, key)
        self.changed.emit()
        return True

    def _step_origin(self) -> str | None:
        """Where the current step's project comes from (its own start, or the nearest step
        before it with one: the lesson continues on that document)."""
        for number in range(self.walk.number, 0, -1):
            start = self.walk.lesson.step(number).start
            if start is not None:
                return start.origin
        return None

    # --- doing a step --------------------------------------------------------------------------
    def evaluate(self):
        """The current step's check on the open document and the runs (None: a quiz-only
        step). Cheap for graph checks; run checks read the records kept here."""
        walk = self.walk
        if walk is None or walk.step.check is None:
            return None
        before = walk.number in walk.satisfied
        result = walk.evaluate(self.doc.project, self.doc.analysis,
                               self.runs_for_checks() if walk.step.needs_run else ())
        if result.ok and not before:
            self.save_progress()
        return result

    def recheck(self) -> None:
        """Evaluate the step's check now and tell the panel (``checked``)."""
        self.check = self.evaluate()
        self.checked.emit()

    def show_me(self) -> bool:
        """Apply the step's "Show me" as ONE undoable command; when the document is not
        where the step starts, open the step's project first (asking about unsaved work)."""
        walk = self.walk
        fix = walk.show_me() if walk is not None else None
        self.last_refusal = None
        if fix is None:
            return False
        if not fix.edits:
            self.last_refusal = fix.label or "Nothing to change here: press Train"
            self.changed.emit()
            return False
        try:
            apply_edits(self.doc.project, fix.edits)
        except EditError:
            if not self.open_step_project():
                self.last_refusal = ("Show me needs this step's starting project; it was not "
                                     "opened.")
                self.changed.emit()
                return False
        ok = self.editor.apply_fix(fix)
        if not ok:
            self.last_refusal = self.editor.last_refusal
        self.changed.emit()
        return ok

    def answer(self, text: str):
        """Mark the learner's answer to the step's quiz. Right: on to the next step (the
        result stays shown there); wrong: the worked arithmetic with their numbers."""
        walk = self.walk
        if walk is None or walk.step.quiz is None:
            return None
        result = walk.answer(text, self.doc.project)
        self.last_answer, self.answered_step = result, walk.number
        self.save_progress()
        if result.correct and not walk.at_end:
            walk.next()
            self.save_progress()
            self._enter_step()
        else:
            self.changed.emit()
        return result

    def train(self) -> None:
        self.dashboard.command("train")

    # --- runs the checks read ---------------------------------------------------------------
    def _on_run(self, _topics) -> None:
        run = self.dashboard.project_state.run
        if run.active and run.token != self._run_token:
            # The project as Train was pressed: the graph is locked during the run, and the
            # run holds its settings (all but the learning rate).
            project = self.doc.project.copy()
            held = run.held or {}
            if "training" in held:
                project.training = dict(held["training"])
            if "dataset" in held:
                project.dataset = dict(held["dataset"])
            self._run_token, self._run_project = run.token, project
        if not run.active and run.result is not None and run.result is not self._recorded:
            self._recorded = run.result
            project = self._run_project if run.token == self._run_token else None
            settings = dict((project.training if project is not None else None) or {})
            try:
                record = record_from_result(run.result, project or self.doc.project.copy(),
                                            settings)
            except (RunReadError, AttributeError, TypeError):
                log.exception("run record")
                return
            self.runs.append(record)
            self.runsChanged.emit()

    def runs_for_checks(self) -> tuple:
        """This session's runs; without any, the run saved beside the project (if any)."""
        if self.runs:
            return tuple(self.runs)
        path = self.doc.path
        if path is None:
            return ()
        folder = run_dir(path)
        marker = folder / "checkpoint" / "trainer.json"
        try:
            stamp = (str(folder), marker.stat().st_mtime_ns)
        except OSError:
            return ()
        if self._disk_run is None or self._disk_run[0] != stamp:
            try:
                record = read_run(folder)
            except RunReadError:
                record = None
            self._disk_run = (stamp, record)
        record = self._disk_run[1]
        return (record,) if record is not None else ()

    # --- packs ---------------------------------------------------------------------------------
    def new_pack(self) -> bool:
        """File ▸ New Workshop Pack…: the teacher's dialog; True when a pack was saved."""
        from .pack_dialog import PackDialog
        dialog = PackDialog(self.window)
        return bool(dialog.exec()) and dialog.saved_path is not None

    def open_pack_dialog(self) -> bool:
        """File ▸ Open Pack…: choose a ``.llpack`` (asking about unsaved work first)."""
        if not self.files.confirm_discard():
            return False
        start = str(self.settings.value("files/lastDir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self.window, "Open workshop pack", start,
                                              PACK_FILTER)
        return self.open_pack_file(Path(path), confirm=False) if path else False

    @property
    def active(self) -> bool:
        """Workshop mode: a pack is open."""
        return self.pack is not None

    def _open_if_pack(self, path: Path):
        """FileController opener: a pack is opened here (None: not a pack, not ours)."""
        path = Path(path)
        if path.suffix.lower() != PACK_SUFFIX and not is_pack(path):
            return None
        return self.open_pack_file(path, confirm=False)

    def open_pack_file(self, path: Path, confirm: bool = True) -> bool:
        """Start workshop mode from a pack file; a file that is not a good pack is a message
        naming what is wrong, and the current work stays as it is."""
        path = Path(path)
        if confirm and not self.files.confirm_discard():
            return False
        try:
            pack = open_pack(path)
            folder = self._extract(pack, path)
        except PackError as exc:
            self._pack_error(path, [str(p) for p in exc.problems] or [str(exc)])
            return False
        except OSError as exc:
            self._pack_error(path, [f"{getattr(exc, 'filename', '') or path}: "
                                    f"{exc.strerror or exc}"])
            return False
        except Exception as exc:  # noqa: BLE001 — a file nobody vouched for: never a traceback
            log.exception("opening pack %s", path)
            self._pack_error(path, [f"{type(exc).__name__}: {exc}"])
            return False
        self.pack, self.pack_dir = pack, folder
        self._walks.clear()
        self.walk = None
        self.runs.clear()
        key = next(iter(pack.projects))
        project, project_path, note = self._pack_project(key)
        self._load(project, project_path, key)
        self.packChanged.emit()
        if note:
            self.editor.message.emit(note)
        start = pack.start_lesson or (pack.lessons[0].id if pack.lessons else None)
        if start is not None:    # the pack's first project stays open: the panel offers
            self.open_lesson(start, load=False)   # the step's own project, if it has one
        else:
            self.changed.emit()
        return True

    def _pack_error(self, path: Path, problems: list[str]) -> None:
        show_problems(self.window, "Cannot open workshop pack",
                      f"{path.name} cannot be opened as a workshop pack. Your current work is "
                      f"unchanged.", problems)

    def _extract(self, pack, path: Path) -> Path:
        """The pack's files in a per-user folder of their own (the same file: the same folder,
        so the work a student saved there is found again)."""
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", pack.title).strip("-")[:40] or "workshop"
        folder = self.folder / f"{slug}-{digest}"
        if (folder / "manifest.json").is_file():
            return folder
        if folder.exists() and any(folder.iterdir()):
            folder = folder.with_name(folder.name + "-fresh")
            if (folder / "manifest.json").is_file():
                return folder
        folder.mkdir(parents=True, exist_ok=True)
        return pack.extract(folder)

    def _pack_project(self, key: str):
        """(project, path, note): the student's saved copy in the pack folder when it loads
        and keeps every locked value, else the teacher's."""
        path = self.pack_dir / self.pack.project_file(key)
        try:
            project = load_project(path)
            violations = self.pack.check_locks(project, key)
        except (ProjectLoadError, OSError, KeyError):
            return self.pack.projects[key].copy(), path, None
        if violations:
            return (self.pack.projects[key].copy(), path,
                    f"The saved copy of {path.name} changed locked values "
                    f"({violations[0].message}); the teacher's version is open.")
        project.training = {**(project.training or {}), "seed": self.pack.seed}
        return project, path, None

    def _load(self, project, path: Path | None, key: str) -> None:
        self._loading = (key,)
        try:
            self.files.load_into(project, path)
        finally:
            self._loading = None

    def _project_reset(self) -> None:
        """Another project is open: this session's runs were of the last one; the pack's locks
        follow the document (a pack project, a lesson's own start, or a file of the user's)."""
        self.runs.clear()
        self._disk_run = None
        self.generation += 1
        if self._loading is None:   # the learner's New / Open: the last answer was about
            self.last_answer = self.last_refusal = None    # another project
        self.changed.emit()
        if self.pack is None:
            return
        if self._loading is not None:
            key = self._loading[0]
        else:
            key = self._key_of_path(self.doc.path)
        self.project_key = key
        self.editor.set_value_locks(PackLocks(self.pack, key) if key is not None else None)
        self.packChanged.emit()

    def _key_of_path(self, path: Path | None) -> str | None:
        """A pack project's key when ``path`` is its file in the pack folder (the student's
        saved work), else None: a project of the user's own, which no lock applies to."""
        if path is None or self.pack_dir is None:
            return None
        try:
            inside = Path(path).resolve().parent == (self.pack_dir / "projects").resolve()
        except OSError:
            return None
        stem = Path(path).stem
        return stem if inside and stem in self.pack.projects else None
