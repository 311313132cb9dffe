"""Run training in another process — one process, or several under torchrun — and follow
its metrics file live (epoch curves in the loss view). The command is shown and may be
edited (another node count, a remote launcher); any run that writes a LayerLab metrics file
(``--metrics-json``) can be followed, also one started elsewhere.

The process runs as a QProcess (its output streams into the log, nothing blocks); the file
is read by the engine's MetricsFollower from a 2 Hz timer.
"""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

from PySide6.QtCore import QProcess, QTimer, Signal
from PySide6.QtWidgets import (QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout,
                               QWidget)

from layerlab.engine.locations import metrics_path, run_dir
from layerlab.engine.training.follow import MetricsFollower

from ..threads import gui_only

__all__ = ["FollowDialog"]

POLL_MS = 500


class FollowDialog(QDialog):
    #: New epoch rows of the followed run (reset: a new run, drop the old curves first).
    rowsFollowed = Signal(list, bool)
    #: The followed run ended (status: finished, stopped, diverged, failed or "exited N").
    runFinished = Signal(str)

    def __init__(self, project_path: Path, epochs: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Run in background / follow a run")
        self.setObjectName("followDialog")
        self.setModal(False)
        self.project_path = Path(project_path)
        self.metrics = QLineEdit(str(metrics_path(self.project_path)))
        self.metrics.setObjectName("metricsPath")
        self.nproc = QSpinBox()
        self.nproc.setRange(1, 64)
        self.nproc.setToolTip("Processes on this machine (more than 1 runs torchrun: "
                              "DistributedDataParallel, one process per GPU or CPU share)")
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100_000)
        self.epochs.setValue(epochs)
        self.command = QLineEdit()
        self.command.setObjectName("followCommand")
        self.command.setToolTip("Edit freely: e.g. a torchrun command for several machines")
        for w in (self.nproc, self.epochs):
            w.valueChanged.connect(lambda _v: self._fill_command())
        self._fill_command()

        self.start_button = QPushButton("Start run")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop run")
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setEnabled(False)
        self.follow_button = QPushButton("Follow a metrics file…")
        self.follow_button.clicked.connect(self._choose_file)
        self.status = QLabel("Not running.")
        self.status.setObjectName("followStatus")
        self.status.setWordWrap(True)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        self.log.setObjectName("followLog")

        form = QFormLayout()
        form.addRow("Processes", self.nproc)
        form.addRow("Epochs", self.epochs)
        form.addRow("Metrics file", self.metrics)
        form.addRow("Command", self.command)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        buttons.addWidget(self.follow_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.log, 1)
        self.resize(720, 420)

        self.process: QProcess | None = None
        self.follower: MetricsFollower | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)

    def _fill_command(self) -> None:
        from layerlab.engine.train import build_command
        cmd = build_command(self.project_path, nproc_per_node=self.nproc.value(),
                            epochs=self.epochs.value(), out=run_dir(self.project_path),
                            metrics_json=self.metrics.text(), python=sys.executable)
        self.command.setText(shlex.join(cmd))

    # --- the process ------------------------------------------------------------------------------
    def start(self) -> bool:
        if self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning:
            return False
        try:
            argv = shlex.split(self.command.text())
        except ValueError as exc:
            self.status.setText(f"The command cannot be read: {exc}")
            return False
        if not argv:
            self.status.setText("Enter a command to run.")
            return False
        Path(self.metrics.text()).parent.mkdir(parents=True, exist_ok=True)
        self.process = QProcess(self)
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        self.process.setWorkingDirectory(str(self.project_path.parent))
        self.process.readyReadStandardOutput.connect(self._read_output)
        self.process.finished.connect(self._process_finished)
        self.process.errorOccurred.connect(self._process_error)
        self.log.appendPlainText(f"$ {self.command.text()}")
        self.process.start(argv[0], argv[1:])
        self.follow(Path(self.metrics.text()))
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.status.setText("Starting…")
        return True

    def stop(self) -> None:
        """SIGTERM: the run stops after its batch and still writes its checkpoint."""
        if self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning:
            self.process.terminate()
            self.status.setText("Stopping… (the run saves its checkpoint first)")

    def kill(self) -> None:
        if self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning:
            self.process.kill()

    @gui_only
    def _read_output(self) -> None:
        data = bytes(self.process.readAllStandardOutput()).decode("utf-8", "replace")
        # The progress bar rewrites its line with \r: keep the finished lines only.
        for line in data.replace("\r", "\n").splitlines():
            if line.strip():
                self.log.appendPlainText(line)

    @gui_only
    def _process_finished(self, code: int, _status) -> None:
        self.poll()
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        status = self.follower.status if self.follower else "waiting"
        self.status.setText(f"The run ended ({status}, exit code {code}).")
        self.timer.stop()
        self.runFinished.emit(status if status != "waiting" else f"exited {code}")

    @gui_only
    def _process_error(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.status.setText("The command could not start: check the program's name.")
            self.start_button.setEnabled(True)
            self.stop_button.setEnabled(False)

    # --- following --------------------------------------------------------------------------------
    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Follow a metrics file",
                                              str(self.project_path.parent),
                                              "Metrics (*.json);;All files (*)")
        if path:
            self.metrics.setText(path)
            self.follow(Path(path))

    def follow(self, path: Path) -> None:
        self.follower = MetricsFollower(path)
        self.rowsFollowed.emit([], True)
        self.timer.start()

    @gui_only
    def poll(self) -> None:
        if self.follower is None:
            return
        update = self.follower.poll()
        if update.changed:
            if update.rows or update.reset:
                self.rowsFollowed.emit(list(update.rows), update.reset)
            metrics = update.metrics or {}
            rows = self.follower.history
            last = rows[-1] if rows else {}
            acc = last.get("val_acc")
            self.status.setText(
                f"{update.status}: {len(rows)} of {metrics.get('epochs') or '?'} epochs"
                + (f", validation accuracy {100 * acc:.1f} %" if acc is not None else "")
                + (f" on {metrics.get('device_name')}" if metrics.get("device_name") else ""))
        if update.done and (self.process is None
                            or self.process.state() == QProcess.ProcessState.NotRunning):
            self.timer.stop()
