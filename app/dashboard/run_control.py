"""Train / Resume / Pause / Step / Stop, the run state with its lock, and the coalescing
timers that draw what the worker sent (a mixin of :class:`~.dashboard.Dashboard`).

States: idle → preparing (the worker loads data) → running ⇄ paused → stopping → idle. The
structure is locked (with the reason on the canvas) in every state but idle. Nothing here
waits for the worker: commands flip the trainer's thread-safe flags or queue a job.
"""
from __future__ import annotations

import time

from .session import RunRequest, graph_key, settings_key
from .threads import gui_only
from .weights_store import checkpoint_dir

__all__ = ["RunControl", "CURVE_MS", "IMAGE_MS"]

CURVE_MS = 50     # ~20 Hz: the loss curves
IMAGE_MS = 250    # ~4 Hz: each of filters, feature maps, gradients, confusion; progress text


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
            self._start_timers()

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

    def _start_timers(self) -> None:
        if not self.curve_timer.isActive():
            self.budget.reset()
            self.curve_timer.start()
        if not self.image_timer.isActive():
            self.image_timer.start()

    # --- drawing (timers) ---------------------------------------------------------------------------
    def _curve_tick(self) -> None:
        if self._pending_batches or self._pending_epochs:
            if self.budget.may_draw("curves"):
                self._draw_curves()

    def _image_tick(self) -> None:
        turn = self._image_turn % len(self.image_views)
        if self.budget.may_draw(f"image{turn}"):    # a skipped view keeps its turn
            self._draw_next_image()

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
        if now - self._progress_at >= IMAGE_MS / 1000:
            self._progress_at = now
            self._draw_progress()

    def _draw_progress(self) -> None:
        if self._progress_dirty and self._last_batch is not None:
            self._progress_dirty = False
            total = self.run_info.epochs if self.run_info else self._last_batch.epoch
            self.panel.show_batch(self._last_batch, total)

    @gui_only
    def _draw_next_image(self) -> None:
        """The next image view in turn."""
        turn = self._image_turn % len(self.image_views)
        self._image_turn += 1
        self.image_views[turn].flush()

    @gui_only
    def _draw_images(self) -> None:
        """Everything at once: after a run, a pause or a probe change (not per frame)."""
        for view in self.image_views:
            view.flush()
        self._draw_progress()
