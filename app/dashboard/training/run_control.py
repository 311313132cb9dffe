"""Train / Resume / Pause / Step / Stop, the run state with its lock, and the frames that
draw what the worker sent (a mixin of :class:`~.dashboard.Dashboard`).

States: idle → preparing (the worker loads data) → running ⇄ paused → stopping → idle. The
structure is locked (with the reason on the canvas) in every state but idle. Nothing here
waits for the worker: commands flip the trainer's thread-safe flags or queue a job.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QTimer

from layerlab.engine.locations import checkpoint_dir

from ..state.session import RunRequest, graph_key, settings_key
from ..threads import gui_only

__all__ = ["RunControl", "PROGRESS_MS"]

PROGRESS_MS = 250   # the progress text at most 4 times a second (its labels cost a relayout)
# QTimer takes an int of ms; a budget of 0 (the bench's --frozen) would ask for ∞.
MAX_TIMER_MS = 3_600_000


class RunControl:
    # --- commands -----------------------------------------------------------------------------------
    def can_resume(self) -> bool:
        s = self.session
        return s is not None and s.step > 0 and s.graph_key == graph_key(self.doc.graph)

    def train(self) -> bool:
        return self._start(resume=False)

    def resume(self) -> bool:
        return self._start(resume=True) if self.can_resume() else False

    def _start(self, resume: bool, start_paused: bool = False, steps: int = 0) -> bool:
        if self.state != "idle" or self._shut_down:
            return False
        project = self.doc.project.copy()
        epochs = int((project.training or {}).get("epochs", 10)) if isinstance(
            (project.training or {}).get("epochs", 10), int) else 10
        if resume and self.session is not None and self.session.epoch >= epochs:
            epochs = self.session.epoch + epochs     # a finished run: train that much more
        path = self.doc.path
        req = RunRequest(project=project, base_dir=path.parent if path else None,
                         resume=resume, epochs=epochs, start_paused=start_paused, steps=steps,
                         probe=self.probe, graph_key=graph_key(project.graph),
                         settings_key=settings_key(project))
        self.worker.weights_dir = checkpoint_dir(path) if path else None
        self.worker.cancel_requested = False
        self.panel.message_bar.hide()
        self.panel.progress.setFormat("Loading the dataset…")
        self.panel.run_text.setText("")
        self._set_state("preparing")
        self.worker.submit(lambda: self.worker.run_training(req))
        return True

    def toggle_pause(self) -> None:
        trainer = self.worker.trainer
        if trainer is None:
            return
        if self.state == "running":
            trainer.pause()
        elif self.state == "paused":
            trainer.resume()

    def step(self) -> bool:
        """One batch: pauses a running run; from idle, starts a run paused and steps it."""
        if self.state in ("running", "paused") and self.worker.trainer is not None:
            self.worker.trainer.step(1)
            return True
        if self.state == "idle":
            s = self.session
            unfinished = self.can_resume() and s.epoch < int(
                (self.doc.project.training or {}).get("epochs", 10))
            return self._start(resume=unfinished, start_paused=True, steps=1)
        return False

    def stop(self) -> None:
        if self.state == "preparing":
            self.worker.cancel_requested = True
        if self.state in ("preparing", "running", "paused"):
            trainer = self.worker.trainer
            if trainer is not None:
                trainer.stop()
            self._set_state("stopping")

    def set_probe(self, index: int) -> None:
        self.probe = int(index)
        self.worker.call(lambda: self.worker.set_probe(index))

    def predict(self, x) -> None:
        """Coalesced: one prediction in flight; the newest input waits, older ones are
        dropped (a fast drawer never builds a queue)."""
        if self._predict_inflight:
            self._predict_next = x
            return
        self._predict_token += 1
        token = self._predict_token
        self._predict_inflight = True
        self.worker.call(lambda: self.worker.predict(token, x))

    # --- state, lock, buttons -------------------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        self.state = state
        reason = {"preparing": "Training is starting", "running": "Training in progress",
                  "paused": "Training is paused", "stopping": "Training is stopping"}.get(state)
        if reason != self.doc.lock_reason:
            self.editor.set_locked(reason)
        self._update_buttons()
        if state != "idle":
            self._start_frames()

    def _update_buttons(self) -> None:
        can_resume = self.can_resume()
        self.panel.set_run_state(self.state, can_resume)
        idle = self.state == "idle"
        self.act_train.setEnabled(idle)
        self.act_resume.setEnabled(idle and can_resume)
        self.act_pause.setEnabled(self.state in ("running", "paused"))
        self.act_pause.setText("&Resume" if self.state == "paused" else "&Pause")
        self.act_step.setEnabled(self.state in ("idle", "running", "paused"))
        self.act_stop.setEnabled(self.state in ("preparing", "running", "paused"))
        self.act_follow.setEnabled(idle)

    # --- frames -------------------------------------------------------------------------------------
    # While a run is active the dashboard draws frames on its own single-shot timer, each
    # re-armed with the budget's delay: a frame takes the mailbox (every snapshot since the
    # last frame), redraws the curves and one image view in turn. Idle, the mailbox's
    # wake-up signal draws what arrives at once.
    def _start_frames(self) -> None:
        if self._framing:
            return
        self._framing = True
        self.budget.reset()
        self.worker.mailbox.start_polling()
        self.frame_timer.start(0)

    def _stop_frames(self) -> None:
        """The run is over: take what is left, draw everything, and let the mailbox wake
        us from now on."""
        if not self._framing:
            return
        self._framing = False
        self.frame_timer.stop()
        self._route(self.worker.mailbox.stop_polling())
        self.draw_rest()

    @gui_only
    def _frame(self) -> None:
        self._route(self.worker.mailbox.take())
        if self._pending_batches or self._pending_epochs:
            self._draw_curves()
            self.budget.drawn["curves"] += 1
        self._draw_next_image()
        self.budget.drawn["frames"] += 1
        if self._framing:
            delay_ms = 1000 * self.budget.next_delay()
            self.frame_timer.start(int(min(delay_ms, MAX_TIMER_MS)))

    @gui_only
    def _on_mail(self) -> None:
        """Idle (not polling): a probe change, loaded weights… draw them now."""
        if not self._framing:
            self.draw_now()

    def draw_now(self) -> None:
        """Take the mailbox and draw everything, now (idle; tests)."""
        self._route(self.worker.mailbox.take())
        self._draw_curves()
        self._draw_images()

    def draw_rest(self) -> None:
        """A run's last drawing: the curves now, then the image views one per turn of the
        event loop — all of them in one go would be one long stall."""
        self._route(self.worker.mailbox.take())
        self._draw_curves()
        self._draw_progress()
        self._draw_images_in_turn()

    def _draw_images_in_turn(self) -> None:
        if self._draw_next_image():
            QTimer.singleShot(0, self, self._draw_images_in_turn)

    def _route(self, mail) -> None:
        """Hand what a take brought to the views (they store it; frames draw it)."""
        if mail.started is not None:
            self._on_run_started(mail.started)
        if mail.batches:
            self._pending_batches.extend(mail.batches)
        if mail.epochs:
            self._pending_epochs.extend(mail.epochs)
            self._last_epoch = mail.epochs[-1]
        if mail.visuals is not None:
            for view in (self.filters_view, self.feature_view, self.gradients_view):
                view.set_visuals(mail.visuals)
        if mail.evaluation is not None:
            self.confusion_view.set_evaluation(mail.evaluation)

    @gui_only
    def _draw_curves(self) -> None:
        batches, self._pending_batches = self._pending_batches, []
        epochs, self._pending_epochs = self._pending_epochs, []
        if batches:
            self.loss_view.add_batches(batches)
            self._last_batch = batches[-1]
            self._progress_dirty = True
        if epochs:
            self.loss_view.add_epochs(epochs)
        self.loss_view.flush()
        # The progress text rides with the curves (so it is never staler than they are),
        # at most 4 times a second: its labels cost a relayout each.
        now = time.monotonic()
        if now - self._progress_at >= PROGRESS_MS / 1000:
            self._progress_at = now
            self._draw_progress()

    def _draw_progress(self) -> None:
        if self._progress_dirty and self._last_batch is not None:
            self._progress_dirty = False
            total = self.run_info.epochs if self.run_info else self._last_batch.epoch
            self.panel.show_batch(self._last_batch, total)

    def _draw_next_image(self) -> bool:
        """The next image view in turn that has something new to show (False: none has)."""
        views = self.image_views
        for i in range(len(views)):
            view = views[(self._image_turn + i) % len(views)]
            if view.needs_flush():
                self._image_turn = (self._image_turn + i + 1) % len(views)
                view.flush()
                self.budget.drawn[f"image:{type(view).__name__}"] += 1
                return True
        return False

    @gui_only
    def _draw_images(self) -> None:
        """Everything at once: after a run, a pause or a probe change (not per frame)."""
        for view in self.image_views:
            view.flush()
        self._draw_progress()
