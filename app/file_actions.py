"""New / Open / Save / Save As / recent files, with the dialogs around them.

A file that fails to load shows every problem the loader found and leaves the current work
untouched. Saving is atomic (the engine writes a temporary file and renames it).
``layerlab ARG`` goes through :meth:`FileController.open_argument`: a project file, or a
bundled template's name (as every command accepts) opened like File ▸ New from the gallery.
"""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox, QWidget

from layerlab.engine import Project, ProjectLoadError, load_project, save_project
from layerlab.engine.locations import project_file

from .autosave import Autosave
from .editor import Editor
from .recent_files import RecentFiles
from .template_dialog import TemplateDialog

__all__ = ["FileController", "FILE_FILTER", "project_slug", "show_problems"]

log = logging.getLogger(__name__)
FILE_FILTER = ("LayerLab projects and workshop packs (*.json *.llpack);;"
               "LayerLab projects (*.json);;Workshop packs (*.llpack);;All files (*)")
MAX_LISTED_PROBLEMS = 12


class FileController(QObject):
    #: A project was loaded or started (the window fits the view to it).
    projectLoaded = Signal()
    recentChanged = Signal()
    #: The project was written to this Path (the dashboard saves trained weights beside it).
    projectSaved = Signal(object)

    def __init__(self, window: QWidget, editor: Editor, settings: QSettings,
                 autosave: Autosave | None) -> None:
        super().__init__(window)
        self.window = window
        self.editor = editor
        self.doc = editor.document
        self.settings = settings
        self.autosave = autosave
        self.recent = RecentFiles(settings)
        #: Besides the document: functions that describe other unsaved work of the project
        #: (a sentence, or None when there is none) — the dashboard's trained weights. Saving
        #: the project saves them (they listen to projectSaved).
        self.unsaved_work: list = []
        #: Besides projects: functions path → True/False (opened it, or tried and said why)
        #: or None (not theirs) — a workshop pack (app/workshop/controller.py).
        self.openers: list = []

    # --- starting points -------------------------------------------------------------------------
    def new(self) -> bool:
        if not self.confirm_discard():
            return False
        dialog = TemplateDialog(self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        try:
            project = dialog.project()
        except ProjectLoadError as exc:
            self.show_load_error(exc)
            return False
        self.load_into(project, None)
        return True

    def open(self) -> bool:
        if not self.confirm_discard():
            return False
        start = str(self.doc.path.parent) if self.doc.path else str(
            self.settings.value("files/lastDir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self.window, "Open project", start, FILE_FILTER)
        return self.open_path(Path(path), confirm=False) if path else False

    def open_argument(self, text: str) -> bool:
        """What ``layerlab ARG`` names: a project file, or a bundled template's name (a new,
        unsaved project named after it, as File ▸ New from the gallery makes). One branch per
        kind of thing, the same rule as every command (engine.locations.project_file)."""
        path, template = project_file(text)
        if template is not None:
            return self.new_from_template(path)
        if not path.exists():
            from layerlab.engine.templates import list_templates
            names = ", ".join(t.key for t in list_templates())
            QMessageBox.warning(self.window, "Cannot open project",
                                f"{text} is neither a project file nor the name of a bundled "
                                f"template ({names}). Nothing was opened.")
            return False
        return self.open_path(path, confirm=False)

    def new_from_template(self, path: Path) -> bool:
        """A copy of the template at ``path`` as a new project (no file yet)."""
        try:
            project = load_project(path)
        except ProjectLoadError as exc:
            self.show_load_error(exc)
            return False
        self.load_into(project, None)
        return True

    def open_path(self, path: Path, confirm: bool = True) -> bool:
        """Load ``path``; on failure show the loader's messages and keep the current work."""
        if confirm and not self.confirm_discard():
            return False
        for opener in self.openers:
            opened = opener(Path(path))
            if opened is not None:
                return opened
        try:
            project = load_project(path)
        except ProjectLoadError as exc:
            self.show_load_error(exc)
            return False
        self.load_into(project, Path(path))
        self.recent.add(Path(path))
        self.settings.setValue("files/lastDir", str(Path(path).resolve().parent))
        self.recentChanged.emit()
        return True

    def load_into(self, project: Project, path: Path | None) -> None:
        self.doc.set_project(project, path)
        self.editor.reset_history()
        if self.autosave:
            self.autosave.discard()
        self.projectLoaded.emit()

    # --- saving --------------------------------------------------------------------------------
    def save(self) -> bool:
        return self.save_to(self.doc.path) if self.doc.path else self.save_as()

    def save_as(self) -> bool:
        start = str(self.doc.path) if self.doc.path else str(
            Path(str(self.settings.value("files/lastDir", str(Path.home()))))
            / f"{project_slug(self.doc.project.name)}.json")
        path, _ = QFileDialog.getSaveFileName(self.window, "Save project as", start, FILE_FILTER)
        if not path:
            return False
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(".json")
        return self.save_to(path)

    def save_to(self, path: Path) -> bool:
        path = Path(path)
        try:
            save_project(self.doc.project, path)
        except OSError as exc:
            log.warning("save failed: %s", exc)
            QMessageBox.warning(self.window, "Cannot save",
                                f"{path} could not be written:\n{exc.strerror or exc}")
            return False
        self.doc.set_path(path)
        self.editor.mark_saved()
        if self.autosave:
            self.autosave.discard()
        self.recent.add(path)
        self.settings.setValue("files/lastDir", str(path.resolve().parent))
        self.recentChanged.emit()
        self.editor.message.emit(f"Saved {path.name}")
        self.projectSaved.emit(path)
        return True

    # --- questions -----------------------------------------------------------------------------
    def unsaved(self) -> list[str]:
        """Sentences describing unsaved work besides the document's edits."""
        return [text for describe in self.unsaved_work if (text := describe())]

    def is_modified(self) -> bool:
        """The document, or other work of the project (trained weights), is unsaved."""
        return self.editor.is_modified() or bool(self.unsaved())

    def confirm_discard(self) -> bool:
        """True when the current work may be replaced (saved, discarded, or unchanged)."""
        others = self.unsaved()
        edited = self.editor.is_modified()
        if not edited and not others:
            return True
        what = "the changes" if edited else "the trained weights"
        if edited and others:
            what = "the changes and the trained weights"
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved changes",
                          f"Save {what} to {self.display_name()}?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self.window)
        box.setInformativeText("\n".join(others + ["Your changes are lost if you don't save "
                                                   "them."]))
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def show_load_error(self, exc: ProjectLoadError) -> None:
        show_problems(self.window, "Cannot open project",
                      f"{Path(exc.source).name} cannot be opened. Your current work is "
                      f"unchanged.", [str(p) for p in exc.problems] or [str(exc)])

    def display_name(self) -> str:
        return self.doc.path.name if self.doc.path else self.doc.project.name or "Untitled"


def show_problems(parent: QWidget, title: str, text: str, problems: list[str]) -> None:
    """A file that cannot be opened: ``text``, the first problems listed, all in the details."""
    shown = problems[:MAX_LISTED_PROBLEMS]
    more = len(problems) - len(shown)
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok,
                      parent)
    box.setInformativeText("\n".join(f"• {p}" for p in shown)
                           + (f"\n… and {more} more (see details)" if more else ""))
    box.setDetailedText("\n".join(problems))
    box.exec()


def project_slug(name: str) -> str:
    """A file name for a project called ``name`` ("LeNet-5" → "LeNet-5", "My net!" → "My_net")."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_") or "project"
