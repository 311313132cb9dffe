"""The one owner of what the dashboard shows for the open project.

:class:`ProjectState` holds everything that belongs to the open project besides its graph
(which the Document holds): the dataset as the worker loaded it, the run (its status, the
settings it holds, its progress and ending), the model the worker holds (session), whether
its weights are saved, and the results — curves, visuals, evaluation, predictions, samples,
and whatever a later request stores. Views render only from it and observe it by *topic*;
they keep no data of their own.

Opening or creating a project calls :meth:`new_project`: a new *generation* begins, every
field starts empty and every topic is announced, so each view shows its empty state for the
new project; anything the worker still sends for an older generation is dropped on arrival.

Qt-free and torch-free: the Qt adapter (state_binding.py) feeds it the worker's messages and
publishes its changes to the views once per frame.
"""
from __future__ import annotations

import itertools
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable


from layerlab.engine.service.protocol import (WORKER_GENERATION, DatasetFacts, Event, Reply,
                                              SessionInfo)

from .curves import Curves
from .insight import Insight
from .session import LIVE_TRAINING_KEYS

__all__ = ["ProjectState", "ProjectFacts", "RunState", "Message", "TOPICS", "ACTIVE",
           "ENDINGS"]

#: What views observe. A request's ``store`` name is a topic too (state.results.extra).
TOPICS = ("project", "dataset", "worker", "run", "progress", "session", "weights", "curves",
          "visuals", "evaluation", "prediction", "samples", "choices", "message",
          # the looks inside (issue 11): request stores and forwarded events
          "explanation", "saliency", "saliency_gallery", "histograms", "runs", "lr_find",
          "activation_curve", "batch")
#: Run statuses in which the run holds the model and its settings.
ACTIVE = ("preparing", "running", "paused", "stopping")
#: How a run can end ("crashed": the worker process died under it).
ENDINGS = ("finished", "stopped", "diverged", "failed", "crashed")

_generations = itertools.count(1)     # process-wide: two windows never share a generation


@dataclass(frozen=True)
class ProjectFacts:
    """The open project as the views need it before anything is trained."""
    name: str = "Untitled"
    path: str | None = None
    graph_key: str = ""
    node_ids: tuple[str, ...] = ()
    node_types: dict = field(default_factory=dict)
    param_ids: tuple[str, ...] = ()       # nodes with trainable parameters
    task_hint: str = ""                   # "regression" when the dataset section says so

    @property
    def conv_ids(self) -> tuple[str, ...]:
        return tuple(n for n in self.node_ids if self.node_types.get(n) == "Conv2d")

    @property
    def layer_ids(self) -> tuple[str, ...]:
        return tuple(n for n in self.node_ids if self.node_types.get(n) != "Input")


@dataclass(frozen=True)
class Message:
    kind: str                                  # info | warning | error
    title: str
    text: str
    actions: tuple[tuple[str, str], ...] = ()  # (button label, command name)


@dataclass
class WorkerStatus:
    status: str = "starting"       # starting (PyTorch loading) | ready | restarting
    info: Any = None               # WorkerInfo
    warm: bool = False
    restarts: int = 0

    @property
    def ready(self) -> bool:
        return self.status == "ready"


@dataclass
class RunState:
    status: str = "idle"           # idle | preparing | running | paused | stopping
    token: int | None = None       # the train request's id
    held: dict | None = None       # {"dataset": …, "training": …}: what the run holds
    info: Any = None               # RunInfo
    epochs: int = 0                # the target
    progress: Any = None           # the newest BatchSnapshot
    last_epoch: Any = None         # the newest EpochSnapshot
    final: Any = None              # the newest StateSnapshot (the true step at the end)
    outcome: str | None = None     # how the last run ended (ENDINGS)
    outcome_message: str = ""
    result: Any = None             # RunResult
    clicked_at: float | None = None
    first_batch_s: float | None = None   # Train click → first batch arrived
    hint: Any = None               # the run's near-chance hint (TrainingEvent), if it gave one
    hint_message: Any = None       # the Message that shows it

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


@dataclass
class WeightsState:
    unsaved: bool = False          # trained weights that no file holds yet
    imported_from: str | None = None   # the file they came from, while untrained since
    saving: dict = field(default_factory=dict)   # request id → folder being written
    rescued: Any = None            # Rescued: the last good weights on disk for recovery


@dataclass
class Results:
    visuals: Any = None            # VisualSnapshot
    evaluation: Any = None         # EvalSnapshot
    prediction: Any = None         # Prediction
    samples: dict = field(default_factory=dict)    # validation index → (image, target)
    extra: dict = field(default_factory=dict)      # store name → a later request's result
    errors: dict = field(default_factory=dict)     # store/request name → its last error


@dataclass
class Choices:
    """What the person chose to look at in this project."""
    probe: int = 0
    filter_node: str | None = None
    feature_node: str | None = None
    filter_modes: dict = field(default_factory=dict)
    cell: tuple[int, int] | None = None
    #: The explainer: (node, output index) — the clicked cell, then wherever the window is.
    explain: tuple | None = None
    #: Where it looked: whose input ("probe" | "drawing" | "image"), that raw input for a
    #: drawing or an opened image (the dataset's own scale) and its name, the method, the
    #: Grad-CAM layer (None: the last Conv2d) and the class (None: the predicted one).
    saliency_subject: str = "probe"
    saliency_raw: Any = None
    saliency_name: str = ""
    saliency_method: str = "gradcam"
    saliency_node: str | None = None
    saliency_class: int | None = None
    #: The confusion gallery's overlay: None (off), "predicted" or "true" (the class shown).
    gallery_saliency: str | None = None
    histogram_node: str | None = None
    #: Slow motion: seconds waited after every batch (how one watches, not a setting saved
    #: with the project).
    delay: float = 0.0
    axis: str = "epoch"              # the curves' x axis: "epoch" | "batch"
    runs_shown: tuple[str, ...] = ()   # run ids whose curves are overlaid


class ProjectState:
    def __init__(self) -> None:
        self.worker = WorkerStatus()           # the worker outlives projects
        self._subscribers: list[tuple[Callable[[frozenset], None], frozenset]] = []
        self._changed: set[str] = set()
        self.new_project(ProjectFacts())

    # --- observing -----------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[frozenset], None], topics: Iterable[str]) -> None:
        """``callback(changed_topics)`` at every publish that changed one of ``topics``."""
        self._subscribers.append((callback, frozenset(topics)))

    def touch(self, *topics: str) -> None:
        self._changed.update(topics)

    def publish(self) -> frozenset:
        """Tell each subscriber which of its topics changed since the last publish."""
        changed, self._changed = frozenset(self._changed), set()
        if changed:
            for callback, topics in list(self._subscribers):
                hit = changed & topics
                if hit:
                    callback(hit)
        return changed

    @property
    def pending(self) -> frozenset:
        return frozenset(self._changed)

    # --- the project -----------------------------------------------------------------------------
    def new_project(self, facts: ProjectFacts) -> int:
        """A project was opened or created: a new generation, everything empty."""
        self.generation = next(_generations)
        self.project = facts
        self.dataset: DatasetFacts | None = None
        self.run = RunState()
        self.session: SessionInfo | None = None
        self.weights = WeightsState()
        self.curves = Curves()
        old_extra = tuple(getattr(getattr(self, "results", None), "extra", {}) or ())
        self.results = Results()
        self.insight = Insight()
        self.choices = Choices()
        self.message: Message | None = None
        # Every topic, and whatever a request stored for the project before: its views show
        # their empty state for this one.
        self.touch(*TOPICS, *old_extra)
        return self.generation

    def update_project(self, facts: ProjectFacts) -> None:
        """The open project was edited (or saved under another name)."""
        if facts != self.project:
            self.project = facts
            self.touch("project", "session")

    @property
    def session_fits(self) -> bool:
        """The worker's model was trained on the graph now on the canvas."""
        return self.session is not None and self.session.graph_key == self.project.graph_key

    @property
    def can_resume(self) -> bool:
        """There are trained weights that fit the canvas to continue from."""
        return self.session_fits and self.session.step > 0

    @property
    def task(self) -> str:
        """classification | regression | "" (not known yet)."""
        if self.session is not None:
            return self.session.task
        if self.dataset is not None and self.dataset.task:
            return self.dataset.task
        return self.project.task_hint

    @property
    def class_names(self) -> tuple[str, ...]:
        if self.session is not None:
            return self.session.class_names
        return self.dataset.class_names if self.dataset is not None else ()

    @property
    def weights_version(self) -> tuple[int, int] | None:
        """(which trainer, its step): the weights the worker holds now — what an explanation
        or a saliency map was computed on must match it, else it is out of date."""
        s = self.session
        if s is None:
            return None
        step, run = s.step, self.run
        if run.active:
            for snap in (run.progress, run.final):
                if snap is not None:
                    step = max(step, int(snap.step))
        return (s.serial, step)

    # --- the run (what the person did) ----------------------------------------------------------
    def begin_run(self, token: int, held: dict, epochs: int, fresh: bool) -> None:
        """Train / Resume pressed: the run holds ``held`` until it ends."""
        self.run = RunState(status="preparing", token=token, held=held, epochs=epochs,
                            clicked_at=time.monotonic(), info=None)
        if fresh:
            self.curves.reset(self.task, epochs)
        self.message = None
        self.touch("run", "progress", "curves", "message")

    def begin_stop(self) -> None:
        if self.run.active:
            self.run.status = "stopping"
            self.touch("run", "progress")

    def held_refusal(self, section: str, key: str) -> str | None:
        """Why ``section.key`` cannot change now (the running run holds it), or None."""
        held = self.run.held
        if not self.run.active or held is None:
            return None
        if section == "training" and key in LIVE_TRAINING_KEYS:
            return None
        value = (held.get(section) or {}).get(key, "its default")
        return (f"{section}.{key} is held by the training run in progress (it started with "
                f"{value!r}); stop the run first, then change it")

    def choose(self, **changes: Any) -> None:
        for name, value in changes.items():
            if not _same(getattr(self.choices, name), value):
                setattr(self.choices, name, value)
                self.touch("choices")

    def set_message(self, message: Message | None) -> None:
        if message != self.message:
            self.message = message
            self.touch("message")

    def weights_saving(self, call_id: int, directory: str) -> None:
        self.weights.saving[call_id] = str(directory)
        self.touch("weights")

    def mark_weights_unsaved(self, imported_from: str | None = None) -> None:
        """Weights no file holds; ``imported_from`` names the file they were imported from
        (File ▸ Import), so questions about them do not call them trained."""
        self.weights.unsaved = True
        self.weights.imported_from = imported_from
        self.touch("weights")

    def set_followed(self, rows: list[dict], reset: bool) -> None:
        self.curves.set_followed(rows, reset)
        self.touch("curves")

    # --- what the worker said ----------------------------------------------------------------------
    def apply(self, messages: Iterable) -> None:
        for message in messages:
            generation = getattr(message, "generation", None)
            if generation not in (WORKER_GENERATION, self.generation):
                continue                       # for a project that is no longer open
            if isinstance(message, Event):
                handler = getattr(self, f"_on_{message.kind}", None)
                if handler is not None:
                    handler(message.payload)
            elif isinstance(message, Reply):
                self._store(message)
            elif type(message).__name__ == "WorkerExited":
                self._on_exited(message)

    def _on_ready(self, info) -> None:
        self.worker.status, self.worker.info = "ready", info
        self.touch("worker")

    def _on_warm(self, _payload) -> None:
        self.worker.warm = True
        self.touch("worker")

    def _on_session(self, info: SessionInfo) -> None:
        self.session = info
        if info.loaded_from is not None and not self.run.active:
            self.curves.set_history(info.task, info.history)
            self.touch("curves")
        self.touch("session")

    def _on_run_started(self, info) -> None:
        run = self.run
        run.info, run.epochs = info, info.epochs
        if run.status == "preparing":
            run.status = "running"
        fresh = info.start_step == 0 and info.start_epoch == 0
        if fresh:
            self.curves.reset(info.task, info.epochs)
            self.results.visuals = self.results.evaluation = self.results.prediction = None
            self.touch("visuals", "evaluation", "prediction")
        else:
            self.curves.task, self.curves.epochs_target = info.task, max(1, info.epochs)
        if info.notes:
            self.message = Message("info", "Note", "\n".join(info.notes))
            self.touch("message")
        self.touch("run", "progress", "curves")

    def _on_batch(self, snap) -> None:
        run = self.run
        if run.first_batch_s is None and run.clicked_at is not None:
            run.first_batch_s = time.monotonic() - run.clicked_at
        self.curves.add_batches((snap,))
        run.progress = snap
        self.touch("curves", "progress")

    def _on_epoch(self, snap) -> None:
        self.curves.add_epochs((snap,))
        self.run.last_epoch = snap
        self.touch("curves", "progress")

    def _on_visuals(self, snap) -> None:
        self.results.visuals = snap
        self.touch("visuals")

    def _on_evaluation(self, snap) -> None:
        self.results.evaluation = snap
        self.touch("evaluation")

    def _on_state(self, snap) -> None:
        run = self.run
        run.final = snap
        if snap.state == "paused" and run.status in ("preparing", "running"):
            run.status = "paused"
        elif snap.state == "running" and run.status in ("preparing", "paused"):
            run.status = "running"
        elif snap.state in ENDINGS:
            run.outcome, run.outcome_message = snap.state, snap.message
        self.touch("run", "progress")

    def _on_run_ended(self, result) -> None:
        run = self.run
        start = run.info.start_step if run.info is not None else 0
        run.status, run.held, run.result = "idle", None, result
        if result is not None:
            run.outcome = result.status
            run.outcome_message = result.message
            if result.steps > start:
                self.weights.unsaved, self.weights.imported_from = True, None
            ending = self._ending_message(result)
            if not self._message_outlives(ending):
                self.message = ending
            self.touch("message", "weights")
        self.touch("run", "progress")

    def _message_outlives(self, ending: Message) -> bool:
        """Whether the message the run left stays over a quiet ending (finished, stopped —
        the run line says those anyway): an error raised on the way (something could not be
        shown), or the near-chance hint while the last epoch is still near chance."""
        current, run = self.message, self.run
        if ending.kind != "info" or current is None:
            return False
        if current.kind == "error":
            return True
        hint, last = run.hint, run.last_epoch
        return (current is run.hint_message and hint.near_chance_below is not None
                and last is not None and last.val_acc is not None
                and last.val_acc < hint.near_chance_below)

    def _ending_message(self, result) -> Message:
        status, text = result.status, result.message
        if status == "diverged":
            return Message("error", "Training stopped: the loss blew up",
                           f"{_sentence(text)} Lower the learning rate and press Resume "
                           f"training.")
        if status == "failed":
            return Message("error", "Training failed", f"{_sentence(text)} Nothing was lost: "
                           f"the weights of the last completed step are kept.")
        if status == "stopped":
            return Message("info", "Training stopped", f"{_sentence(text)} Resume training "
                           f"continues from there.")
        last = self.run.last_epoch
        acc = (f": validation accuracy {100 * last.val_acc:.1f} %" if last is not None
               and last.val_acc is not None else f": validation MAE {self.mae_text(last)}"
               if last is not None and last.val_mae is not None else "")
        return Message("info", "Training finished", f"{text[:1].upper()}{text[1:]}{acc}.")

    def mae_text(self, row) -> str:
        """A row's validation MAE in the target's units, as a person writes it:
        "30,540 (price)"."""
        from layerlab.engine.formatting import plain_number
        names = self.session.target_names if self.session is not None else ()
        unit = f" ({', '.join(names)})" if names else ""
        return f"{plain_number(row.val_mae)}{unit}"

    def _on_failed(self, payload) -> None:
        title, text = payload
        self.message = Message("error", title, text)
        self.touch("message")

    def _on_rescued(self, rescued) -> None:
        self.weights.rescued = rescued
        self.touch("weights")

    def _on_histograms(self, strips) -> None:
        self.insight.histograms = strips
        self.touch("histograms")

    def _on_marker(self, event) -> None:
        """A setting changed mid-run (a marker on the curves), or accuracy near chance (a
        message with its remedy)."""
        self.curves.add_marker(event)
        self.touch("curves")
        if event.kind == "lr_hint":
            from layerlab.engine.formatting import plain_number
            if event.new:
                actions = ((f"Use learning rate {plain_number(event.new)}",
                            f"set_lr:{event.new!r}"),)
            else:
                actions = (("Find a learning rate", "lr_find"),)
            self.message = Message("warning", "Accuracy is near chance", event.message,
                                   actions)
            self.run.hint, self.run.hint_message = event, self.message
            self.touch("message")

    def _on_lr_find(self, progress) -> None:
        current = self.insight.lr_find
        if current is None or current.result is None:   # the answer may have come first
            self.insight.lr_find = progress
            self.touch("lr_find")

    def _store_lr_find(self, reply: Reply) -> None:
        self.insight.lr_find = reply.value
        self.touch("lr_find")

    def begin_lr_find(self, batches: int) -> None:
        """The range test was asked for: its plot starts empty."""
        from layerlab.engine.service.protocol import RangeTestProgress
        self.insight.lr_find = RangeTestProgress((), (), int(batches))
        self.results.errors.pop("lr_find", None)
        self.touch("lr_find")

    def _store_explanation(self, reply: Reply) -> None:
        self.insight.explanation.add(reply.value)
        self.touch("explanation")

    def _on_exited(self, exited) -> None:
        self.worker.status = "restarting"
        self.worker.warm = False
        self.worker.restarts += 1
        run = self.run
        if run.active:
            run.status, run.held, run.outcome = "idle", None, "crashed"
            run.outcome_message = f"the training process stopped unexpectedly: {exited.how}"
        self.touch("worker", "run", "progress")

    def _store(self, reply: Reply) -> None:
        key = reply.store or reply.name
        if reply.error is not None:
            self.results.errors[key] = reply.error
            if reply.store == "saved":
                self.weights.saving.pop(reply.id, None)
                self.message = Message("error", "Weights not saved", reply.error)
                self.touch("message", "weights")
            self.touch(key)
            return
        self.results.errors.pop(key, None)
        store = getattr(self, f"_store_{reply.store}", None) if reply.store else None
        if store is not None:
            store(reply)
        elif reply.store:
            self.results.extra[reply.store] = reply.value
            self.touch(reply.store)

    def forget_dataset(self) -> None:
        """The dataset changed (its section, or the default that follows the Input): what the
        worker said about the old one no longer holds."""
        if self.dataset is not None:
            self.dataset = None
            self.touch("dataset")

    def _store_dataset(self, reply: Reply) -> None:
        self.dataset = reply.value
        self.touch("dataset")

    def _store_prediction(self, reply: Reply) -> None:
        self.results.prediction = reply.value
        self.touch("prediction")

    def _store_samples(self, reply: Reply) -> None:
        s = reply.value
        for k, index in enumerate(s.indices):
            image = s.images[k] if s.images is not None else None
            target = s.targets[k] if k < len(s.targets) else None
            self.results.samples[index] = (image, target)
        self.touch("samples")

    def _store_evaluation(self, reply: Reply) -> None:
        self.results.evaluation = reply.value
        self.touch("evaluation")

    def _store_saved(self, reply: Reply) -> None:
        self.weights.saving.pop(reply.id, None)
        if not self.run.active:         # a run going on changes them again
            self.weights.unsaved = False
        self.touch("weights")


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _same(old: Any, new: Any) -> bool:
    """Whether a choice is unchanged — arrays too (a drawing to explain is one), which ``==``
    compares element by element. (No array exists before numpy is imported, and importing it
    here would delay the window's first paint.)"""
    np = sys.modules.get("numpy")
    if np is not None and (isinstance(old, np.ndarray) or isinstance(new, np.ndarray)):
        return old is new or (isinstance(old, np.ndarray) and isinstance(new, np.ndarray)
                              and old.shape == new.shape and np.array_equal(old, new))
    return old == new
