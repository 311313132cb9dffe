"""What the dashboard does with each thing the worker reports (a mixin of
:class:`~.dashboard.Dashboard`). The worker's signals arrive queued, so every slot runs on the
GUI thread (``gui_only`` checks); snapshots come through the mailbox (run_control.py)."""
from __future__ import annotations

from PySide6.QtCore import QTimer

from ..threads import gui_only

__all__ = ["WorkerSlots", "TERMINAL"]

TERMINAL = ("finished", "stopped", "diverged", "failed")


class WorkerSlots:
    # --- slots for the worker (GUI thread) ----------------------------------------------------------
    @gui_only
    def _on_busy(self, busy: bool) -> None:
        self.worker_busy = busy
        if not busy and self.state == "idle":
            self._after_idle()

    @gui_only
    def _on_devices(self, devices) -> None:
        self.panel.set_devices(devices)

    @gui_only
    def _on_session(self, info) -> None:
        new = self.session is None or info.dataset is not self.session.dataset
        self.session = info
        if new:
            self.filters_view.set_layers(info.conv_ids)
            self.feature_view.set_session(info)
            self.confusion_view.set_session(info)
            self.gradients_view.set_order(info.node_ids)
            if info.loaded_from is not None:
                self.loss_view.set_history(info.task, info.history)
                last = info.history[-1] if info.history else None
                acc = (f", validation accuracy {100 * last.val_acc:.1f} %"
                       if last is not None and last.val_acc is not None else "")
                self.panel.message_bar.show_message(
                    "info", "Trained weights loaded",
                    f"{info.epoch} epoch{'s' if info.epoch != 1 else ''} trained{acc} "
                    f"(from {info.loaded_from}). Resume training continues from there.")
            self._on_canvas_selection(self.selection.current)
        self._check_session_fits()
        self._update_buttons()

    @gui_only
    def _on_session_cleared(self) -> None:
        self.session = None
        self.predict_panel.set_session(None)
        self._update_buttons()

    def _on_run_started(self, info) -> None:
        """A run's first mail (see RunControl._route)."""
        self.run_info = info
        if info.start_step == 0 and info.start_epoch == 0:
            self.loss_view.reset(info.task, info.epochs)
        else:
            self.loss_view.set_epochs_target(info.epochs)
        self._pending_batches.clear()
        self._pending_epochs.clear()
        if self.state == "preparing":
            self._set_state("running")
        where = info.device_name + (f" ({info.device_reason})" if info.device_reason else "")
        self.panel.run_text.setText(f"Training on {where}: {info.num_train:,} samples, "
                                    f"{info.batches_per_epoch} batches per epoch")
        notes = [n for n in info.notes]
        if notes:
            self.panel.message_bar.show_message("info", "Note", "\n".join(notes))

    @gui_only
    def _on_state(self, snap) -> None:
        if snap.state == "paused":
            self._set_state("paused")
        elif snap.state == "running" and self.state in ("preparing", "paused"):
            self._set_state("running")
        elif snap.state in TERMINAL:
            self.editor.set_locked(None)   # the weights are final; saving happens meanwhile
            self._route(self.worker.mailbox.take())   # the last epoch, for the report
            self._report_end(snap.state, snap.message)

    def _report_end(self, status: str, message: str) -> None:
        bar = self.panel.message_bar
        if status == "diverged":
            bar.show_message("error", "Training stopped: the loss blew up", message
                             + " Lower the learning rate and press Resume training.")
        elif status == "failed":
            bar.show_message("error", "Training failed", message + ". Nothing was lost: the "
                             "weights of the last completed step are kept.")
        elif status == "stopped":
            bar.show_message("info", "Training stopped", f"{message}. Resume training "
                             "continues from there.")
        elif status == "finished":
            last = self._last_epoch
            acc = (f": validation accuracy {100 * last.val_acc:.1f} %"
                   if last is not None and last.val_acc is not None else "")
            bar.show_message("info", "Training finished", f"{message}{acc}.")

    @gui_only
    def _on_run_ended(self, result) -> None:
        self.draw_rest()
        if result is not None:
            self.panel.progress.setFormat(f"{result.status.capitalize()} · "
                                          f"{result.epochs_completed} epochs · "
                                          f"{result.samples_per_s:,.0f} samples/s")
            if self.doc.path is None and result.steps:
                self.window.statusBar().showMessage(
                    "Save the project to keep the trained weights beside it", 8000)
        else:
            self.panel.progress.setFormat("Ready")
        self._set_state("idle")
        self.editor.set_locked(None)
        self._after_idle()

    def _after_idle(self) -> None:
        if self.state != "idle" or self.worker_busy:
            return
        self._stop_frames()
        if self._close_when_idle:
            self._close_when_idle = False
            QTimer.singleShot(0, self.window.close)
        elif self._load_when_idle:
            self._load_when_idle = False
            self._load_saved_weights()

    @gui_only
    def _on_failed(self, title: str, message: str) -> None:
        self.panel.message_bar.show_message("error", title, message)
        self.window.statusBar().showMessage(f"{title}: {message.splitlines()[0]}", 8000)

    @gui_only
    def _on_predicted(self, token: int, values) -> None:
        self._predict_inflight = False
        if token == self._predict_token:
            self.predict_panel.show_result(values)
        if self._predict_next is not None:
            x, self._predict_next = self._predict_next, None
            self.predict(x)

    @gui_only
    def _on_saved(self, directory: str) -> None:
        self.window.statusBar().showMessage(f"Trained weights saved in {directory}", 5000)

    @gui_only
    def _on_save_failed(self, message: str) -> None:
        self.panel.message_bar.show_message("error", "Weights not saved", message)
