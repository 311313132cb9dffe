"""File ▸ Export (PyTorch code, ONNX) and File ▸ Import (an ONNX model, a PyTorch module).

The window never imports PyTorch, so neither runs here:

* an **export** runs in the training worker (the "export" request, engine/service/handlers.py)
  because that is where the session's trained weights are — saved or not: the file holds
  exactly the weights the window shows, and the report says which they were (the session's,
  the ones saved beside the project, or random initial values after asking);
* an **import** runs ``layerlab import`` in a short-lived process of its own: an ONNX file,
  or the person's own Python code (which must never run inside the app). The project it
  writes opens as a new, unsaved project, and the worker takes its weights ("adopt_weights")
  so Predict, the views and a new export use them.

Nothing waits on the GUI thread: the window stays responsive and says what is going on;
errors are messages naming the file and what is wrong, never tracebacks.
"""
from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, Qt, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog

from layerlab.engine import ProjectLoadError, load_project
from layerlab.engine.locations import checkpoint_dir, has_checkpoint
from layerlab.engine.project import project_to_dict
from layerlab.engine.service.protocol import WORKER_GENERATION, Reply

from .dashboard.state.project_state import Message
from .dashboard.state.session import graph_key, settings_key
from .file_actions import project_slug

__all__ = ["ModelFiles", "EXPORT_FORMATS", "ImportJob"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportFormat:
    key: str            # the engine's format name
    title: str          # what the menu and the dialogs call it
    suffix: str
    file_filter: str


EXPORT_FORMATS = {
    "pytorch": ExportFormat("pytorch", "PyTorch code", ".py", "PyTorch code (*.py)"),
    "onnx": ExportFormat("onnx", "ONNX", ".onnx", "ONNX models (*.onnx)"),
}
ONNX_FILTER = "ONNX models (*.onnx);;All files (*)"
#: The export request's ``weights`` argument (engine/service/handlers.py).
SESSION, TRAINED = "session", "trained"


@dataclass
class ImportJob:
    """One ``layerlab import`` running in its own process."""
    source: str                 # what is imported, as the person knows it (a file name)
    folder: Path                # a temporary folder for the project and weights it writes
    process: QProcess
    progress: QProgressDialog | None = None
    cancelled: bool = False

    @property
    def project_file(self) -> Path:
        return self.folder / "imported.json"

    @property
    def weights_file(self) -> Path:
        return self.folder / "imported.safetensors"


class ModelFiles(QObject):
    #: (ok, title, lines): an export or import ended (after its message was shown).
    finished = Signal(bool, str, list)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.files = window.files
        self.doc = window.document
        self.dashboard = window.dashboard
        self.exporting: dict[int, Path] = {}      # export call id → the file being written
        self.importing: ImportJob | None = None
        self._adopting: dict[int, ImportJob] = {}  # adopt call id → its import
        #: Where the session's weights came from when an import brought them (for Export).
        self.imported_from: str | None = None
        self.dashboard.binding.after_apply.append(self._on_messages)
        self.doc.projectReset.connect(self._project_reset)
        self._status = None

    # --- export -----------------------------------------------------------------------------------
    def export(self, fmt: str) -> bool:
        """Ask which weights when there is a question, then where; the worker writes it."""
        kind = EXPORT_FORMATS[fmt]
        if self.exporting:
            self._say("An export is still being written; wait for it to finish")
            return False
        choice = self._choose_weights()
        if choice is None:
            return False
        weights, described = choice
        path = self._ask_export_path(kind)
        if path is None:
            return False
        worker = self.dashboard.binding.worker
        if worker is None:
            self._report(False, f"Cannot export {path.name}", [
                "The training process is not running in this session (the Training panel "
                "says why), and exporting needs it. From a terminal: "
                f"layerlab export PROJECT -o {path.name}"])
            return False
        doc = self.doc
        call_id = worker.call(
            "export", WORKER_GENERATION, project=project_to_dict(doc.project.copy()),
            output=str(path), fmt=kind.key, project_path=str(doc.path) if doc.path else None,
            base_dir=str(doc.path.parent) if doc.path else None, weights=weights,
            graph_key=graph_key(doc.graph), described=described)
        self.exporting[call_id] = path
        loading = "" if self.dashboard.project_state.worker.ready else \
            " (waiting for PyTorch to load)"
        self._busy(f"Exporting {path.name}{loading}…")
        self._update_actions()
        return True

    def _choose_weights(self) -> tuple[str | None, str] | None:
        """(the export's ``weights``, how the report names them), or None when cancelled."""
        state = self.dashboard.project_state
        s = state.session
        if state.session_fits:
            return SESSION, self._describe_session()
        if s is None and has_checkpoint(self.doc.path):
            # Saved weights the worker has not loaded (yet, or they did not fit): from the
            # disk; the engine checks that they fit and says which file it used.
            return TRAINED, ""
        question = ("The trained weights no longer fit this network: it changed since they "
                    "were trained." if s is not None else "This network has not been trained "
                    "yet.")
        answer = QMessageBox.question(
            self.window, "Export with random weights?",
            f"{question} Export it with random initial weights?\n\nTo export trained weights, "
            f"train it first and export again.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return None
        return None, "random initial weights"

    def _describe_session(self) -> str:
        """Which weights the session's are, in words: trained how far, saved where or not."""
        state = self.dashboard.project_state
        s = state.session
        if state.run.active:
            return (f"the weights of the run in progress at step {s.step:,} (epoch "
                    f"{s.epoch}), not saved yet")
        if s.step == 0 and self.imported_from:
            what = f"the weights imported from {self.imported_from}"
        else:
            what = (f"the trained weights of this session ({s.epoch} epoch"
                    f"{'s' if s.epoch != 1 else ''}, step {s.step:,})")
        if state.weights.unsaved:
            return f"{what}, not saved yet"
        if self.doc.path is not None and has_checkpoint(self.doc.path):
            return f"{what}, saved in {checkpoint_dir(self.doc.path) / 'weights.safetensors'}"
        return what

    def _ask_export_path(self, kind: ExportFormat) -> Path | None:
        settings = self.window.settings
        remembered = str(settings.value("files/exportDir", "") or "")
        start = Path(remembered) if remembered and Path(remembered).is_dir() else (
            self.doc.path.parent if self.doc.path else
            Path(str(settings.value("files/lastDir", str(Path.home())))))
        suggested = start / f"{project_slug(self.doc.project.name)}{kind.suffix}"
        path, _ = QFileDialog.getSaveFileName(self.window, f"Export {kind.title}",
                                              str(suggested), kind.file_filter)
        if not path:
            return None
        path = Path(path)
        if path.suffix.lower() != kind.suffix:
            path = path.with_name(path.name + kind.suffix)
        settings.setValue("files/exportDir", str(path.resolve().parent))
        return path

    def _export_answered(self, reply: Reply) -> None:
        path = self.exporting.pop(reply.id)
        self._update_actions()
        if not self.exporting:
            self._busy(None)
        if reply.error is not None:
            self._report(False, f"Cannot export {path.name}", [reply.error])
            return
        value = reply.value or {}
        self._report(True, f"Exported {path.name}", list(value.get("messages", [])))

    # --- import -----------------------------------------------------------------------------------
    def import_onnx(self) -> bool:
        """Ask about unsaved work, then for an ONNX file; import it in its own process."""
        if not self._may_start_import() or not self.files.confirm_discard():
            return False
        start = str(self.window.settings.value("files/importDir", "") or
                    self.window.settings.value("files/lastDir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self.window, "Import an ONNX model", start,
                                              ONNX_FILTER)
        if not path:
            return False
        path = Path(path)
        self.window.settings.setValue("files/importDir", str(path.resolve().parent))
        return self.start_import(["import", str(path)], path.name)

    def import_torch(self) -> bool:
        """Ask about unsaved work, then for the module (a dialog that says it runs the
        code); import it in its own process."""
        from .torch_import_dialog import TorchImportDialog
        if not self._may_start_import() or not self.files.confirm_discard():
            return False
        dialog = TorchImportDialog(self.window, self.window.settings)
        if not dialog.exec():
            return False
        spec = dialog.choice()
        return self.start_import(["import", "--torch", spec.target, "--input-shape",
                                  spec.input_shape], spec.source, cwd=spec.folder)

    def _may_start_import(self) -> bool:
        if self.importing is not None:
            self._say(f"{self.importing.source} is still being imported")
            return False
        return True

    def start_import(self, args: list[str], source: str, cwd: Path | None = None) -> bool:
        """Run ``layerlab <args> -o … --weights-out …`` in its own process (it may run the
        person's code and imports PyTorch); the result opens when it ends."""
        folder = Path(tempfile.mkdtemp(prefix="layerlab-import-"))
        process = QProcess(self)
        job = ImportJob(source, folder, process)
        process.setProgram(sys.executable)
        process.setArguments(["-m", "layerlab.engine.cli", *args, "-o", str(job.project_file),
                              "--weights-out", str(job.weights_file)])
        if cwd is not None:
            process.setWorkingDirectory(str(cwd))
        process.finished.connect(lambda code, status, j=job: self._import_ended(j, code, status))
        process.errorOccurred.connect(lambda error, j=job: self._import_failed_to_start(j, error))
        self.importing = job
        job.progress = self._progress(f"Importing {source}… (PyTorch loads in a process of its "
                                      f"own; the window stays usable)", job)
        self._busy(f"Importing {source}…")
        self._update_actions()
        process.start()
        return True

    def _progress(self, text: str, job: ImportJob) -> QProgressDialog:
        dialog = QProgressDialog(text, "Cancel", 0, 0, self.window)
        dialog.setWindowTitle("Import")
        # Window-modal: the canvas cannot change under an import that will replace it; the
        # event loop (and the training views) keep running.
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(lambda j=job: self.cancel_import(j))
        dialog.show()
        return dialog

    def cancel_import(self, job: ImportJob | None = None) -> None:
        job = job or self.importing
        if job is None or job is not self.importing:
            return
        job.cancelled = True
        job.process.kill()

    def _import_failed_to_start(self, job: ImportJob, error) -> None:
        if error != QProcess.ProcessError.FailedToStart or job is not self.importing:
            return
        self._end_import(job)
        self._report(False, f"Cannot import {job.source}", [
            f"The import process could not start ({job.process.errorString()})."])

    def _import_ended(self, job: ImportJob, code: int, status) -> None:
        if job is not self.importing:
            return
        stdout = bytes(job.process.readAllStandardOutput()).decode(errors="replace")
        stderr = bytes(job.process.readAllStandardError()).decode(errors="replace")
        self._end_import(job)
        if job.cancelled:
            shutil.rmtree(job.folder, ignore_errors=True)
            self._say(f"Import of {job.source} cancelled")
            return
        if code != 0 or status != QProcess.ExitStatus.NormalExit:
            shutil.rmtree(job.folder, ignore_errors=True)
            if stderr.strip():
                log.warning("import of %s failed:\n%s", job.source, stderr)
            self._report(False, f"Cannot import {job.source}", import_errors(stderr, code))
            return
        try:
            project = load_project(job.project_file)
        except ProjectLoadError as exc:
            shutil.rmtree(job.folder, ignore_errors=True)
            self._report(False, f"Cannot import {job.source}",
                         [str(p) for p in exc.problems] or [str(exc)])
            return
        self._open_imported(job, project, stdout)

    def _end_import(self, job: ImportJob) -> None:
        self.importing = None
        if job.progress is not None:
            job.progress.reset()
            job.progress.hide()
            job.progress.deleteLater()
            job.progress = None
        self._busy(None)
        self._update_actions()

    def _open_imported(self, job: ImportJob, project, stdout: str) -> None:
        """The imported project: a new, unsaved one (its weights held by the worker)."""
        self.files.load_into(project, None)
        self.window.editor.mark_modified()      # nowhere on disk yet: closing asks
        self.imported_from = job.source
        analysis = self.doc.analysis
        n = len(project.graph.nodes)
        lines = [f"{n} layers, {analysis.total_params:,} parameters, opened as a new project "
                 f"(not saved yet)."]
        if job.weights_file.is_file():
            call_id = self.dashboard.binding.call(
                "adopt_weights", project=project_to_dict(project.copy()),
                weights=str(job.weights_file), probe=self.dashboard.project_state.choices.probe,
                graph_key=graph_key(project.graph), settings_key=settings_key(project),
                source=job.source)
            if call_id >= 0:
                self._adopting[call_id] = job
                lines.append("Its weights are being loaded: Predict, the views and Export use "
                             "them; Save keeps them beside the project.")
            else:
                shutil.rmtree(job.folder, ignore_errors=True)
                lines.append("Its weights are not kept: the training process is not running.")
        else:
            shutil.rmtree(job.folder, ignore_errors=True)
        self._report(True, f"Imported {job.source}", lines)

    def _adopted(self, reply: Reply) -> None:
        job = self._adopting.pop(reply.id)
        shutil.rmtree(job.folder, ignore_errors=True)
        state = self.dashboard.project_state
        if reply.generation != state.generation:
            return                               # another project is open by now
        if reply.error is not None:
            state.set_message(Message("error", "Imported weights not loaded",
                                      f"The weights of {job.source} could not be loaded: "
                                      f"{reply.error}. The network opened with fresh weights."))
        else:
            state.mark_weights_unsaved(imported_from=job.source)
            state.set_message(Message("info", "Imported weights loaded",
                                      f"The network holds the weights of {job.source}: "
                                      f"Predict, the views and Export use them. Save keeps "
                                      f"them beside the project; Train starts from fresh "
                                      f"weights."))
        self.dashboard.binding.schedule()

    # --- the worker's answers ---------------------------------------------------------------------
    def _on_messages(self, messages: list) -> None:
        for message in messages:
            if isinstance(message, Reply):
                if message.id in self.exporting and message.name == "export":
                    self._export_answered(message)
                elif message.id in self._adopting and message.name == "adopt_weights":
                    self._adopted(message)
            elif type(message).__name__ == "WorkerExited":
                self._worker_gone()

    def _worker_gone(self) -> None:
        for path in list(self.exporting.values()):
            self._report(False, f"Cannot export {path.name}", [
                "The training process ended before the file was written; export again "
                "(a new training process is starting)."])
        self.exporting.clear()
        for job in self._adopting.values():
            shutil.rmtree(job.folder, ignore_errors=True)
        self._adopting.clear()
        self._busy(None)
        self._update_actions()

    def _project_reset(self) -> None:
        self.imported_from = None

    # --- saying what happened ---------------------------------------------------------------------
    def _report(self, ok: bool, title: str, lines: list[str]) -> None:
        """A message box — shown from the event loop, not from inside the frame that
        delivered the answer — and the status bar."""
        self._say(title if ok else f"{title}: {lines[0] if lines else ''}")

        def show() -> None:
            icon = QMessageBox.Icon.Information if ok else QMessageBox.Icon.Warning
            box = QMessageBox(icon, title, title + ("" if ok else "."),
                              QMessageBox.StandardButton.Ok, self.window)
            box.setInformativeText("\n".join(_sentence(line) for line in lines))
            box.exec()
            self.finished.emit(ok, title, list(lines))
        QTimer.singleShot(0, show)

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 10_000)

    def _busy(self, text: str | None) -> None:
        """A permanent note in the status bar while something runs elsewhere."""
        if self._status is None:
            from PySide6.QtWidgets import QLabel
            self._status = QLabel()
            self._status.setObjectName("filesBusyLabel")
            self.window.statusBar().addWidget(self._status)
        self._status.setText(text or "")
        self._status.setVisible(bool(text))

    def _update_actions(self) -> None:
        w = self.window
        for name in ("act_export_pytorch", "act_export_onnx"):
            action = getattr(w, name, None)
            if action is not None:
                action.setEnabled(not self.exporting)
        for name in ("act_import_onnx", "act_import_torch"):
            action = getattr(w, name, None)
            if action is not None:
                action.setEnabled(self.importing is None)


def import_errors(stderr: str, code: int) -> list[str]:
    """What ``layerlab import`` said was wrong: its "error:" lines (and the lines that
    continue them), never a traceback."""
    lines = stderr.strip().splitlines()
    found: list[str] = []
    for i, line in enumerate(lines):
        if line.startswith("error: "):
            found.append(line[len("error: "):])
            found += [more for more in lines[i + 1:] if more.startswith("  ")]
            break
    if found:
        return found
    last = next((line for line in reversed(lines) if line.strip()), "")
    if last:
        return [f"the import process failed: {last.strip()}"]
    return [f"the import process ended with code {code} without saying why"]


def _sentence(text: str) -> str:
    """One line of a report as a sentence: capitalised, ending in a full stop — except a
    bullet, and a line ending in a path (a stop there would read as part of the name)."""
    if text.startswith("  - "):
        return "• " + text[4:].strip()
    text = text.strip()
    last = text.rsplit(maxsplit=1)[-1] if text else ""
    if text and (text[-1].isalnum() or text[-1] in ")]\"'") and not any(
            sep in last for sep in ("/", "\\")):
        text += "."
    return text[:1].upper() + text[1:]
