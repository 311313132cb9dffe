"""Train / Resume / Pause / Step / Stop (a mixin of :class:`~..dashboard.Dashboard`).

States (ProjectState.run.status): idle → preparing (the worker loads data) → running ⇄
paused → stopping → idle. Nothing here waits for the worker: a command sends a request and
records what the person asked for in the project state; the worker's answers move it on.

* Train with trained weights that fit asks first: resume them, or start over?
* Resume when the run already trained its Epochs says so, with a one-click remedy.
* Stop always stops: when the run has not ended ``STOP_GRACE_S`` after Stop (a huge batch,
  a hang), the worker process is ended and a new one takes over with the last good weights.
"""
from __future__ import annotations

import copy
import itertools
import threading

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox

from layerlab.engine.project import project_to_dict

from ..settings_commands import set_setting
from ..state.project_state import Message
from ..state.session import graph_key, settings_key

__all__ = ["RunControl", "STOP_GRACE_S"]

#: How long a stopping run may take to reach a batch boundary before its process is ended.
STOP_GRACE_S = 10.0

_tokens = itertools.count(1)

Button = QMessageBox.StandardButton


class RunControl:
    # --- commands --------------------------------------------------------------------------------
    def can_resume(self) -> bool:
        return self.project_state.can_resume

    def _epochs_setting(self) -> int:
        epochs = (self.doc.project.training or {}).get("epochs", 10)
        return epochs if isinstance(epochs, int) and not isinstance(epochs, bool) \
            and epochs > 0 else 10

    def _can_start(self) -> bool:
        s = self.project_state
        return (not self._shut_down and not s.run.active and s.worker.ready
                and self.binding.worker is not None)

    def train(self, start_over: bool = False) -> bool:
        """Train from fresh weights — after asking, when trained weights would be replaced
        (``start_over``: replace them without asking; scripts, benchmarks)."""
        return self._train(start_paused=False, steps=0, start_over=start_over)

    def _train(self, start_paused: bool, steps: int, start_over: bool = False) -> bool:
        state = self.project_state
        if self.binding.worker is None:
            return False                # no training process (it could not start)
        if not state.worker.ready and not state.run.active and not self._shut_down:
            # Pressed while PyTorch still loads (just after start-up): train once it is ready.
            self._train_when_ready = (start_paused, steps)
            state.set_message(Message("info", "Training starts when PyTorch is loaded",
                                      "PyTorch is loading in the background (a few seconds "
                                      "after start-up); the run begins as soon as it is "
                                      "ready."))
            self._state_changed()
            return True
        if not self._can_start():
            return False
        if self.can_resume() and not start_over:
            choice = self._ask_resume_or_start_over()
            if choice == "resume":
                return self._resume(start_paused, steps)
            if choice != "start_over":
                return False
        return self._start(resume=False, start_paused=start_paused, steps=steps)

    def _ask_resume_or_start_over(self) -> str:
        s = self.project_state.session
        epochs = self._epochs_setting()
        done = s.epoch >= epochs
        what = (f"{s.epoch} epoch{'s' if s.epoch != 1 else ''} (step {s.step:,}), finished"
                if done else f"{s.epoch} of {epochs} epochs (step {s.step:,})")
        box = QMessageBox(QMessageBox.Icon.Question, "Resume or start over?",
                          f"This network already has trained weights: {what}.",
                          Button.Yes | Button.No | Button.Cancel, self.window)
        box.setInformativeText(
            ("Train more continues from them; " if done else "Resume continues from them; ")
            + "Start over trains new weights from scratch and replaces them.")
        box.button(Button.Yes).setText(f"Train {epochs} more epochs" if done else "Resume")
        box.button(Button.No).setText("Start over")
        box.setDefaultButton(Button.Yes)
        answer = box.exec()
        return {Button.Yes: "resume", Button.No: "start_over"}.get(answer, "cancel")

    def resume(self) -> bool:
        if not self._can_start() or not self.can_resume():
            return False
        return self._resume(False, 0)

    def _resume(self, start_paused: bool, steps: int) -> bool:
        s = self.project_state.session
        epochs = self._epochs_setting()
        if s.epoch >= epochs:
            self.project_state.set_message(Message(
                "info", "Nothing left to train",
                f"This network has already trained {s.epoch} epoch{'s' if s.epoch != 1 else ''}"
                f" and Epochs is set to {epochs}, so Resume has nothing to do. Set Epochs above "
                f"{s.epoch} to train further, or press Train to start over.",
                actions=((f"Train {epochs} more epochs", "train_more"),)))
            self.binding.schedule()
            return False
        return self._start(resume=True, start_paused=start_paused, steps=steps)

    def train_more(self) -> bool:
        """Set Epochs to what is done plus the current setting (an undoable edit), resume."""
        s = self.project_state.session
        if s is None or not self._can_start():
            return False
        set_setting(self.editor, self.notifier, "training", "epochs",
                    s.epoch + self._epochs_setting())
        return self._start(resume=True)

    def _start(self, resume: bool, start_paused: bool = False, steps: int = 0) -> bool:
        project = self.doc.project.copy()
        path = self.doc.path
        token = next(_tokens)
        held = {"dataset": copy.deepcopy(project.dataset or {}),
                "training": copy.deepcopy(project.training or {})}
        epochs = self._epochs_setting()
        self.project_state.begin_run(token, held, epochs, fresh=not resume)
        self.binding.call("train", project=project_to_dict(project),
                          base_dir=str(path.parent) if path else None, epochs=epochs,
                          resume=resume, start_paused=start_paused, steps=steps,
                          probe=self.project_state.choices.probe,
                          graph_key=graph_key(project.graph),
                          settings_key=settings_key(project), token=token)
        self._state_changed()
        return True

    def toggle_pause(self) -> None:
        status = self.project_state.run.status
        if status == "running":
            self.binding.call("pause")
        elif status == "paused":
            self.binding.call("resume")

    def step(self) -> bool:
        """One batch: pauses a running run; from idle, starts a run paused and steps it."""
        status = self.project_state.run.status
        if status in ("running", "paused"):
            self.binding.call("step", count=1)
            return True
        if status != "idle":
            return False
        s = self.project_state.session
        if self.can_resume() and s.epoch < self._epochs_setting():
            return self._can_start() and self._start(resume=True, start_paused=True, steps=1)
        return self._train(start_paused=True, steps=1)

    def stop(self) -> None:
        run = self.project_state.run
        if run.status not in ("preparing", "running", "paused"):
            return
        self.binding.call("stop", token=run.token)
        self.project_state.begin_stop()
        self._stop_timer.start(int(STOP_GRACE_S * 1000))
        self._state_changed()

    def _stop_overdue(self) -> None:
        """Stop was pressed long ago and the run has not ended: end the worker process."""
        if not self.project_state.run.active:
            return
        self._ending_worker = "Stop did not take effect within " \
                              f"{STOP_GRACE_S:g} s, so the training process was ended"
        worker = self.binding.worker
        if worker is not None:         # (off the GUI thread: a hung process takes a while)
            threading.Thread(target=worker.kill, kwargs={"grace_s": 1.0},
                             name="layerlab-worker-kill", daemon=True).start()

    def set_probe(self, index: int) -> None:
        self.project_state.choose(probe=int(index))
        self.binding.call("probe", index=int(index))
        self.binding.schedule()

    # --- the lock and the actions ----------------------------------------------------------------
    def _train_if_queued(self) -> None:
        """PyTorch is ready: the Train pressed while it loaded begins now."""
        queued, self._train_when_ready = self._train_when_ready, None
        if queued is not None and self.project_state.worker.ready:
            self.project_state.set_message(None)
            self._train(*queued)

    def _update_lock_and_actions(self) -> None:
        s = self.project_state
        status = s.run.status
        reason = {"preparing": "Training is starting", "running": "Training in progress",
                  "paused": "Training is paused", "stopping": "Training is stopping"}.get(status)
        if reason != self.doc.lock_reason:
            self.editor.set_locked(reason)
        idle, ready = status == "idle", s.worker.ready
        self.act_train.setEnabled(idle and self._train_when_ready is None)
        self.act_resume.setEnabled(idle and ready and self.can_resume())
        self.act_pause.setEnabled(status in ("running", "paused"))
        self.act_pause.setText("&Resume" if status == "paused" else "&Pause")
        self.act_step.setEnabled(ready and status in ("idle", "running", "paused"))
        self.act_stop.setEnabled(status in ("preparing", "running", "paused"))
        self.act_follow.setEnabled(idle)
        if not s.run.active:
            self._stop_timer.stop()

    def _make_stop_timer(self) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.timeout.connect(self._stop_overdue)
        return timer
