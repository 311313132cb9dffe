"""The training panel: dataset, settings, the Train / Pause / Step / Stop buttons, progress and
messages.

Every setting lives in the project's "dataset" / "training" sections and changes through an
undoable command (so it marks the project modified and is saved with it). The widgets only
mirror the project: ``refresh`` reads it back after any change, undo included. While a run
is active every field is locked except the learning rate, which the run takes live.
The run's buttons, progress and messages render from the project state (``flush``).
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QProgressBar, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from layerlab.engine.data import all_kinds, describe
from layerlab.engine.data.fit import dataset_spec, fitted_spec
from layerlab.engine.training import DEFAULT_LR, LOSSES, OPTIMIZERS, check_training
from layerlab.engine.training.config import TrainingConfig
from layerlab.engine.training.snapshots import format_eta

from ..settings_commands import replace_section, set_setting
from .deferred_draw import DeferredDraw
from ...workshop.lock_marks import LOCK_COLOR, lockable
from .layout_helpers import caption, vertical_scroll
from .message_bar import MessageBar
from .speed_box import SpeedBox

__all__ = ["TrainingPanel", "KIND_LABELS"]

#: The pickers' labels, from the dataset kinds' declarations (engine/data/kinds.py).
KIND_LABELS = {kind.name: kind.label for kind in all_kinds()}
LOSS_LABELS = {"auto": "auto (cross-entropy / MSE by task)", "cross_entropy": "cross-entropy",
               "mse": "mean squared error", "l1": "mean absolute error (L1)",
               "bce_with_logits": "binary cross-entropy (logits)"}
_DEFAULTS = TrainingConfig()


def _combo(name: str) -> QComboBox:
    """A combo box whose minimum width does not follow its longest entry."""
    box = QComboBox()
    box.setObjectName(name)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(10)
    return box


def _float_box(low: float, high: float, decimals: int, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
    box.setKeyboardTracking(False)   # one undo step per committed value, not per keystroke
    box.setToolTip(tip)
    return box


def _int_box(low: int, high: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setKeyboardTracking(False)
    box.setToolTip(tip)
    return box


class TrainingPanel(DeferredDraw, QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingPanel")
        self.ctx, self.state = ctx, ctx.state
        self.editor, self.notifier = ctx.editor, ctx.notifier
        self._session_token: tuple[str, int] | None = None
        self.message_bar = MessageBar()
        self.message_bar.actionTriggered.connect(ctx.command)
        self.message_bar.dismissed.connect(lambda: ctx.command("dismiss_message"))

        # --- dataset ---
        self.kind = _combo("datasetKind")
        for key, label in KIND_LABELS.items():
            self.kind.addItem(label, key)
        self._kind_tips = False
        self._devices_shown = False
        self.kind.activated.connect(self._kind_picked)
        self.dataset_text = caption(name="datasetText")
        self.dataset_button = QPushButton("Options and preview…")
        self.dataset_button.clicked.connect(
            lambda: ctx.command(f"dataset_dialog:{self.kind.currentData()}"))
        data_box = QGroupBox("Dataset")
        dl = QVBoxLayout(data_box)
        dl.addWidget(lockable(self.kind))
        dl.addWidget(self.dataset_text)
        dl.addWidget(self.dataset_button)

        # --- settings ---
        self.loss = _combo("loss")
        for key in LOSSES:
            self.loss.addItem(LOSS_LABELS.get(key, key), key)
        self.optimizer = _combo("optimizer")
        for key in OPTIMIZERS:
            self.optimizer.addItem(key, key)
        self.lr = _float_box(1e-6, 10.0, 6, "Learning rate: how big each step is. It can "
                                            "change while training runs or is paused.")
        self.lr.setObjectName("lr")
        self.batch_size = _int_box(1, 65_536, "Samples per optimizer step")
        self.batch_size.setObjectName("batchSize")
        self.epochs = _int_box(1, 100_000, "Passes over the training set")
        self.epochs.setObjectName("epochs")
        self.l1 = _float_box(0.0, 1.0, 6, "L1 penalty on weights (pushes many to exactly 0)")
        self.l2 = _float_box(0.0, 1.0, 6, "L2 penalty / weight decay (keeps weights small)")
        self.seed = _int_box(0, 2**31 - 1, "Random seed: same seed, same run")
        self.seed.setObjectName("seed")
        self.device = _combo("device")
        self.device.addItem("auto", "auto")
        self.device.addItem("cpu", "cpu")
        self.problems = caption(name="settingsProblems")
        self.problems.setStyleSheet("color: #D93025;")
        self.problems.hide()
        form_box = QGroupBox("Training")
        form = QFormLayout(form_box)
        # Each field beside the padlock a workshop pack's lock shows (app/workshop).
        form.addRow("Loss", lockable(self.loss))
        form.addRow("Optimizer", lockable(self.optimizer))
        form.addRow("Learning rate", lockable(self.lr))
        form.addRow("Batch size", lockable(self.batch_size))
        form.addRow("Epochs", lockable(self.epochs))
        form.addRow("L1", lockable(self.l1))
        form.addRow("L2 (weight decay)", lockable(self.l2))
        form.addRow("Seed", lockable(self.seed))
        form.addRow("Device", lockable(self.device))
        form.addRow(self.problems)
        self.locks_note = caption(name="locksNote")
        self.locks_note.setStyleSheet(f"color: {LOCK_COLOR};")
        self.locks_note.hide()
        form.addRow(self.locks_note)
        #: The project setting each field edits: what a workshop lock is looked up by.
        self._lockable = {("training", "loss"): self.loss,
                          ("training", "optimizer"): self.optimizer,
                          ("training", "lr"): self.lr, ("training", "batch_size"):
                          self.batch_size, ("training", "epochs"): self.epochs,
                          ("training", "l1"): self.l1, ("training", "weight_decay"): self.l2,
                          ("training", "seed"): self.seed, ("training", "device"): self.device}

        for box, key in ((self.loss, "loss"), (self.optimizer, "optimizer"),
                         (self.device, "device")):
            box.activated.connect(lambda _i, b=box, k=key: self._edit(k, b.currentData()))
        for box, key in ((self.lr, "lr"), (self.batch_size, "batch_size"),
                         (self.epochs, "epochs"), (self.l1, "l1"), (self.l2, "weight_decay"),
                         (self.seed, "seed")):
            box.valueChanged.connect(lambda v, k=key: self._edit(k, v))

        # --- run ---
        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("trainButton")
        self.train_button.setToolTip("Train from freshly initialized weights")
        self.resume_button = QPushButton("Resume training")
        self.resume_button.setObjectName("resumeButton")
        self.resume_button.setToolTip("Continue from the current weights where the last run "
                                      "stopped (a finished run trains more epochs)")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("pauseButton")
        self.step_button = QPushButton("Step")
        self.step_button.setObjectName("stepButton")
        self.step_button.setToolTip("Pause, then train exactly one batch")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopButton")
        self.follow_button = QPushButton("Run in background / follow a run…")
        self.follow_button.setToolTip("Train in a separate process (also distributed, with "
                                      "torchrun) and follow its curves here")
        for button, command in ((self.train_button, "train"), (self.resume_button, "resume"),
                                (self.pause_button, "toggle_pause"), (self.step_button, "step"),
                                (self.stop_button, "stop"), (self.follow_button, "follow")):
            button.clicked.connect(lambda _c=False, name=command: ctx.command(name))
        self.progress = QProgressBar()
        self.progress.setObjectName("trainingProgress")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("Ready")
        self.progress.setTextVisible(True)
        self.run_text = caption("", "runText")
        # Fixed height: it changes a few times a second and must not relayout the panel.
        self.run_text.setFixedHeight(2 * self.run_text.fontMetrics().lineSpacing() + 2)
        row1 = QHBoxLayout()
        row1.addWidget(self.train_button)
        row1.addWidget(self.resume_button)
        row2 = QHBoxLayout()
        row2.addWidget(self.pause_button)
        row2.addWidget(self.step_button)
        row2.addWidget(self.stop_button)
        run_box = QGroupBox("Run")
        rl = QVBoxLayout(run_box)
        rl.addLayout(row1)
        rl.addLayout(row2)
        rl.addWidget(self.progress)
        rl.addWidget(self.run_text)
        rl.addWidget(self.follow_button)

        inner = QWidget()
        il = QVBoxLayout(inner)
        il.setContentsMargins(4, 4, 4, 4)
        il.addWidget(self.message_bar)
        il.addWidget(run_box)
        self.speed_box = SpeedBox(ctx)          # slow motion, the learning-rate range test
        il.addWidget(self.speed_box)
        il.addWidget(data_box)
        il.addWidget(form_box)
        il.addStretch(1)
        scroll = vertical_scroll(inner)
        # Scroll vertically only: the dock is at least as wide as the form.
        scroll.setMinimumWidth(inner.minimumSizeHint().width()
                               + scroll.verticalScrollBar().sizeHint().width())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self._settings_widgets = (self.kind, self.dataset_button, self.loss, self.optimizer,
                                  self.batch_size, self.epochs, self.l1, self.l2, self.seed,
                                  self.device)
        self._lockable[("dataset", "kind")] = self.kind
        self.notifier.changed.connect(lambda _section: self.refresh())
        self.editor.valueLocksChanged.connect(self._show_value_locks)
        self._show_value_locks()
        self.refresh()
        self.render()
        # Without a dataset section the default dataset follows the Input: show it as it does.
        self.editor.document.analysisChanged.connect(self._graph_changed)

    def _graph_changed(self, _analysis) -> None:
        if not self.project.dataset:
            self.refresh()

    # --- the project ↔ the widgets --------------------------------------------------------------
    @property
    def project(self):
        return self.editor.document.project

    def refresh(self) -> None:
        """Show the project's settings (after load, undo, or any edit)."""
        training = dict(self.project.training or {})
        dataset = dataset_spec(self.project)   # no section: the default that fits the Input
        widgets = (self.kind, self.loss, self.optimizer, self.device, self.lr, self.batch_size,
                   self.epochs, self.l1, self.l2, self.seed)
        for w in widgets:
            w.blockSignals(True)
        try:
            self._set_combo(self.kind, dataset.get("kind", "digits"))
            self._set_combo(self.loss, training.get("loss", _DEFAULTS.loss))
            optimizer = training.get("optimizer", _DEFAULTS.optimizer)
            self._set_combo(self.optimizer, optimizer)
            self._set_combo(self.device, training.get("device", _DEFAULTS.device))
            self.lr.setValue(_number(training.get("lr"), DEFAULT_LR.get(optimizer, 0.001)))
            self.batch_size.setValue(int(_number(training.get("batch_size"),
                                                 _DEFAULTS.batch_size)))
            self.epochs.setValue(int(_number(training.get("epochs"), _DEFAULTS.epochs)))
            self.l1.setValue(_number(training.get("l1"), 0.0))
            self.l2.setValue(_number(training.get("weight_decay"), 0.0))
            self.seed.setValue(int(min(_number(training.get("seed"), 0), 2**31 - 1)))
        finally:
            for w in widgets:
                w.blockSignals(False)
        self._describe_dataset()
        problems = check_training(training)
        self.problems.setText("\n".join(str(p) for p in problems))
        self.problems.setVisible(bool(problems))

    @staticmethod
    def _set_combo(combo: QComboBox, value) -> None:
        index = combo.findData(value)
        if index < 0 and value is not None:
            combo.addItem(str(value), value)   # e.g. "cuda:1" from a file
            index = combo.count() - 1
        combo.setCurrentIndex(max(index, 0))

    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        current = (self.project.training or {}).get("device", "auto")
        self.device.blockSignals(True)
        self.device.clear()
        for value, label in devices:
            self.device.addItem(label, value)
        self._set_combo(self.device, current)
        self.device.blockSignals(False)

    def _edit(self, key: str, value) -> None:
        # Arrow clicks on the same field merge into one undo step; another field starts anew.
        if self._session_token is None or self._session_token[0] != key:
            self._session_token = (key, self.editor.new_param_session())
        if isinstance(value, float):
            value = float(f"{value:.6g}")
        set_setting(self.editor, self.notifier, "training", key, value, self._session_token[1])

    def _kind_picked(self, _index: int) -> None:
        kind = self.kind.currentData()
        current = dataset_spec(self.project)
        if kind == current.get("kind", "digits"):
            return
        if kind in ("digits", "shapes"):
            keep = {k: v for k, v in current.items() if k in ("val_fraction", "seed", "limit",
                                                              "normalize", "train_samples")}
            # Made to give the Input's shape when the kind can (digits at 28×28, …).
            replace_section(self.editor, self.notifier, "dataset",
                            fitted_spec(self.project, kind, keep),
                            f"Use the {KIND_LABELS[kind].split(' (')[0].lower()} dataset")
        else:
            self.refresh()                      # shows the current kind until the dialog says
            self.ctx.command(f"dataset_dialog:{kind}")

    def _describe_dataset(self) -> None:
        """What the worker said about the dataset (it loads it), else the kind's name."""
        facts = self.state.dataset
        spec = dataset_spec(self.project)   # no section: the default that fits the Input
        if facts is not None and facts.error:
            text = f"{facts.description}\n⚠ {facts.error}" if facts.description else \
                f"⚠ {facts.error}"
        elif facts is not None and facts.description:
            text = facts.description
            if facts.task == "classification" and facts.class_names:
                text += f" · {len(facts.class_names):,} classes"
        else:   # until the worker has loaded it: what the declarations say of it
            text = describe(spec)
            text += "" if self.state.worker.ready else " (Loading PyTorch…)"
        if self.dataset_text.text() != text:
            self.dataset_text.setText(text)

    # --- the run, from the project state ----------------------------------------------------
    def draw(self, topics: frozenset) -> None:
        state = self.state
        if not topics or "project" in topics:
            self.refresh()                   # another project, or this one edited
        elif topics & {"worker", "dataset"}:
            self._describe_dataset()
        self._kind_tooltips()
        if not topics or topics & {"worker", "run", "session", "project", "weights"}:
            self.set_run_state(state.run.status, state.can_resume, state.worker.ready)
        info = state.worker.info
        if info is not None and not self._devices_shown:
            self._devices_shown = True
            self.set_devices(list(info.devices))
        self._show_progress()
        if not topics or "message" in topics:
            self.message_bar.present(state.message)
        if not topics or topics & {"worker", "run", "choices", "lr_find", "project"}:
            self.speed_box.draw()

    def _kind_tooltips(self) -> None:
        info = self.state.worker.info
        if self._kind_tips or info is None:
            return
        self._kind_tips = True
        for i in range(self.kind.count()):
            self.kind.setItemData(i, info.dataset_kinds.get(self.kind.itemData(i), ""),
                                  Qt.ItemDataRole.ToolTipRole)

    def set_run_state(self, state: str, can_resume: bool, ready: bool = True) -> None:
        """idle | preparing | running | paused | stopping: which buttons and fields work."""
        active = state != "idle"
        self.train_button.setEnabled(not active)
        self.train_button.setText("Train" if ready else "Train (PyTorch loading…)")
        self.resume_button.setEnabled(not active and can_resume and ready)
        self.pause_button.setEnabled(state in ("running", "paused"))
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        self.step_button.setEnabled(ready and state in ("idle", "running", "paused"))
        self.stop_button.setEnabled(state in ("preparing", "running", "paused"))
        for w in self._settings_widgets:
            w.setEnabled(not active and not self._locked(w))
        self.lr.setEnabled(state in ("idle", "running", "paused") and not self._locked(self.lr))
        self.follow_button.setEnabled(not active)
        self._run_state = (state, can_resume, ready)

    # --- a workshop pack's locks ---------------------------------------------------------------
    def _locked(self, widget) -> bool:
        mark = getattr(widget, "lock_mark", None)
        return mark is not None and mark.reason is not None

    def _show_value_locks(self) -> None:
        """Padlocks with the teacher's reasons on the settings a workshop pack locks."""
        notes = []
        for (section, key), widget in self._lockable.items():
            reason = self.editor.locked_value(section, key)
            widget.lock_mark.set_reason(reason)
            if reason:
                notes.append(f"{'dataset' if section == 'dataset' else key.replace('_', ' ')}"
                             f": {reason}")
        self.locks_note.setText("Locked in this workshop — " + "; ".join(notes) if notes
                                else "")
        self.locks_note.setVisible(bool(notes))
        self.set_run_state(*getattr(self, "_run_state", ("idle", False, True)))

    def _show_progress(self) -> None:
        state = self.state
        run = state.run
        fmt, text, value = self._progress_texts()
        if value is not None:
            self.progress.setValue(value)
        if self.progress.format() != fmt:
            self.progress.setFormat(fmt)
        if self.run_text.text() != text:
            self.run_text.setText(text)
        info = run.info
        tip = (f"Training on {info.device_name}"
               f"{f' ({info.device_reason})' if info.device_reason else ''}: "
               f"{info.num_train:,} samples, {info.batches_per_epoch} batches per epoch"
               if info is not None else "")
        if self.progress.toolTip() != tip:
            self.progress.setToolTip(tip)

    def _progress_texts(self) -> tuple[str, str, int | None]:
        """(the bar's text, the line under it, the bar's value 0..1000 or None to keep)."""
        state = self.state
        run, session = state.run, state.session
        if not state.worker.ready and not run.active:
            return ("Loading PyTorch…", "Press Train at any time: the run begins as soon as "
                    "PyTorch is loaded.", 0)
        if run.status == "preparing":
            return "Loading the dataset…", "", 0
        snap = run.progress
        epochs = run.epochs or (run.info.epochs if run.info else 1)
        if run.active:
            if snap is None:
                return "Starting…", "", None
            done = (snap.epoch - 1 + snap.batch / max(snap.batches, 1)) / max(epochs, 1)
            acc = f" · acc {100 * snap.running_acc:.1f} %" if snap.running_acc is not None \
                else ""
            if run.status == "paused":      # (no speed or ETA: nothing runs)
                bar = f"Paused · epoch {snap.epoch}/{epochs}"
            elif run.status == "stopping":
                bar = f"Stopping · epoch {snap.epoch}/{epochs}"
            else:
                bar = (f"Epoch {snap.epoch}/{epochs} · {snap.samples_per_s:,.0f} samples/s · "
                       f"ETA {format_eta(snap.eta_s)}")
            return (bar,
                    f"Batch {snap.batch}/{snap.batches} · step {snap.step:,} · loss "
                    f"{snap.running_loss:.4f}{acc} · lr {snap.lr:.3g}",
                    int(1000 * min(max(done, 0.0), 1.0)))
        if run.outcome == "crashed":
            final = run.final
            where = f" at step {final.step:,}" if final is not None else ""
            kept = (f"; the weights after step {session.step:,} (epoch {session.epoch}) are "
                    f"kept" if session is not None else "")
            return "Training process ended", f"It ended{where}{kept}.", None
        if run.outcome is not None:
            final, result = run.final, run.result
            step = final.step if final is not None else (result.steps if result else 0)
            epoch = final.epoch if final is not None else (
                result.epochs_completed if result else 0)
            rate = f" · {result.samples_per_s:,.0f} samples/s" if result is not None \
                and result.samples_per_s else ""
            last = run.last_epoch
            score = (f" · validation accuracy {100 * last.val_acc:.1f} %" if last is not None
                     and last.val_acc is not None else f" · validation MAE {state.mae_text(last)}"
                     if last is not None and last.val_mae is not None else "")
            value = 1000 if run.outcome == "finished" else None
            # A diverged run's last step did not count (its update was undone).
            where = "after" if run.outcome in ("diverged", "failed", "crashed") else "at"
            return (f"{run.outcome.capitalize()} · {epoch} epoch{'s' if epoch != 1 else ''}"
                    f"{rate}", f"{run.outcome.capitalize()} {where} step {step:,} "
                    f"({epoch} epoch{'s' if epoch != 1 else ''} done){score}", value)
        if session is not None and session.loaded_from is not None:
            return (f"Trained · {session.epoch} epochs",
                    f"Trained weights loaded: step {session.step:,}, {session.epoch} epoch"
                    f"{'s' if session.epoch != 1 else ''}", 0)
        return "Ready", "", 0


def _number(value, default: float) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else float(default)
