"""The requests the training worker answers — each declared once, here (see requests.py).

Handlers take the :class:`~.service.TrainingService` and the call's arguments (plain data:
projects as their JSON dicts, paths as strings) and return plain data. A handler that raises
a TrainingError or ValueError answers with its message, in the engine's words.
"""
from __future__ import annotations

import logging
import traceback
from pathlib import Path

from .requests import CONTROL, JOB, request

__all__: list[str] = []

log = logging.getLogger(__name__)


def _project(data: dict):
    from ..project import project_from_dict
    return project_from_dict(data)


def _base(base_dir: str | None) -> Path | None:
    return Path(base_dir) if base_dir else None


# --- the project --------------------------------------------------------------------------------
@request("reset", runs=CONTROL)
def reset(service, generation: int, rescue_dir: str | None = None) -> None:
    """A new project is open: stop what runs and forget the old model (see new_generation)."""
    service.new_generation(generation, rescue_dir)


@request("dataset", store="dataset", runs=JOB)
def dataset(service, project: dict, base_dir: str | None = None):
    """Load the project's dataset and describe it (classes, shapes), or say why it fails."""
    from ..data import DatasetError, describe
    from .model_facts import dataset_facts
    from .protocol import DatasetFacts
    proj = _project(project)
    try:
        ds, description = service.load_dataset(proj, _base(base_dir))
    except DatasetError as exc:
        from ..data.fit import dataset_spec
        return DatasetFacts(description=describe(dataset_spec(proj)), error=str(exc))
    return dataset_facts(ds, description)


# --- training -----------------------------------------------------------------------------------
def _trainer_for(service, project, base_dir, epochs: int, resume: bool, graph_key: str,
                 settings_key: str):
    """The session's trainer continued, or a new one (from its weights when they fit)."""
    old, session, notes = service.trainer, service.session, []
    same_graph = session is not None and session.graph_key == graph_key
    if resume and old is not None and same_graph and session.settings_key == settings_key:
        lr = (project.training or {}).get("lr")
        if lr is not None:
            old.set_lr(float(lr))
        old.set_epochs(epochs)
        forwarder = service.forwarder
        forwarder.project, forwarder.rescue_dir = project, service.rescue_dir
        return old, forwarder, notes
    trainer, forwarder = service.new_trainer(project, base_dir, epochs=epochs)
    if resume and old is not None and same_graph:
        # Settings changed since: keep the learned weights, start a fresh optimizer.
        trainer.model.load_state_dict(old.model.state_dict())
        notes.append("the settings changed since the last run, so training continues from "
                     "the trained weights with a fresh optimizer and history")
    return trainer, forwarder, notes


@request("train", runs=JOB)
def train(service, project: dict, base_dir: str | None, epochs: int, resume: bool = False,
          start_paused: bool = False, steps: int = 0, probe: int = 0, graph_key: str = "",
          settings_key: str = "", token: int | None = None) -> str | None:
    """Train (or continue) the project's network; the run's snapshots stream as events."""
    from ..training import TrainingError
    if token is not None and token in service.cancelled:
        service.emit_event("run_ended", None)
        return None
    proj, base = _project(project), _base(base_dir)
    try:
        trainer, forwarder, notes = _trainer_for(service, proj, base, int(epochs), resume,
                                                 graph_key, settings_key)
    except TrainingError as exc:
        service.failed("Training cannot start", str(exc))
        service.emit_event("run_ended", None)
        return None
    forwarder.run_token = token
    service.publish(trainer, forwarder, proj, graph_key, settings_key, notes=notes)
    if start_paused:
        trainer.pause()
        if steps:
            trainer.step(int(steps))
    if 0 <= probe < len(trainer.dataset.y_val):   # the view's current sample
        service.probe = int(probe)
        trainer.set_probe(int(probe))
    result = trainer.run()
    if result.status == "failed" and trainer.last_error is not None:
        log.error("training failed:\n%s", "".join(traceback.format_exception(
            trainer.last_error)))
    if result.steps:
        forwarder.rescue()
    service.publish(trainer, forwarder, proj, graph_key, settings_key)
    service.emit_event("run_ended", result, forwarder.generation)
    return result.status


@request("pause", runs=CONTROL)
def pause(service) -> None:
    """Pause the run at the next batch boundary."""
    if service.trainer is not None:
        service.trainer.pause()


@request("resume", runs=CONTROL)
def resume(service) -> None:
    """Let a paused run go on."""
    if service.trainer is not None:
        service.trainer.resume()


@request("step", runs=CONTROL)
def step(service, count: int = 1) -> None:
    """Train exactly ``count`` more batches, then park (pauses a running run first)."""
    if service.trainer is not None:
        service.trainer.step(int(count))


@request("stop", runs=CONTROL)
def stop(service, token: int | None = None) -> None:
    """Stop the run at the next batch boundary — or before it begins, if still loading."""
    if token is not None:
        service.cancelled.add(int(token))
    if service.trainer is not None:
        service.trainer.stop()


@request("set_lr", runs=CONTROL)
def set_lr(service, lr: float) -> None:
    """The learning rate, now (a running run takes it at the next batch)."""
    if service.trainer is not None:
        service.trainer.set_lr(float(lr))


# --- weights on disk ------------------------------------------------------------------------------
@request("load", runs=JOB)
def load(service, project: dict, base_dir: str | None, checkpoint_dir: str, probe: int = 0,
         graph_key: str = "", settings_key: str = "") -> dict:
    """Saved weights of the project: a trainer positioned where they stopped, its
    validation results (confusion matrix) and visuals."""
    from ..training import TrainingError, load_checkpoint
    from .model_facts import evaluation
    proj = _project(project)
    try:
        checkpoint = load_checkpoint(checkpoint_dir)
        trainer, forwarder = service.new_trainer(proj, _base(base_dir))
        trainer.resume_from(checkpoint)
    except TrainingError as exc:
        service.failed("Saved weights not loaded", f"{exc}. The project opened without them; "
                                                   f"train again to replace them.")
        raise
    info = service.publish(trainer, forwarder, proj, graph_key, settings_key,
                           loaded_from=str(checkpoint_dir))
    if info.num_val:
        service.emit_event("evaluation", evaluation(trainer), forwarder.generation)
    service.probe = int(probe) if 0 <= probe < info.num_val else 0
    service.refresh_visuals()
    return {"epoch": info.epoch, "step": info.step}


@request("save", store="saved")
def save(service, directory: str, project: dict | None = None) -> dict:
    """Write the session's checkpoint into ``directory`` (mid-run: between two batches)."""
    from ..training import TrainingError, save_checkpoint
    trainer = service.trainer
    if trainer is None:
        raise TrainingError("there are no trained weights to save")
    proj = _project(project) if project is not None else service.project
    save_checkpoint(directory, trainer, proj)
    return {"directory": str(directory), "epoch": int(trainer.epoch),
            "step": int(trainer.global_step)}


@request("rescue")
def rescue(service) -> None:
    """Write the last good weights to the rescue folder now."""
    if service.forwarder is not None:
        service.forwarder.rescue()


# --- looking inside ---------------------------------------------------------------------------------
@request("watch", runs=CONTROL)
def watch(service, nodes: list[str] | None = None) -> None:
    """The nodes whose feature maps the views show (None: all); a paused or idle model
    sends a fresh snapshot."""
    service.watch = tuple(nodes) if nodes is not None else None
    trainer = service.trainer
    if trainer is not None and (trainer.paused or not trainer.running):
        service.call_model(service.refresh_visuals)


@request("probe")
def probe(service, index: int) -> None:
    """The validation sample whose feature maps the visual snapshots show."""
    trainer = service.trainer
    if trainer is not None and 0 <= int(index) < len(trainer.dataset.y_val):
        service.probe = int(index)
        trainer.set_probe(int(index))


@request("predict", store="prediction")
def predict(service, x, token: int = 0):
    """Class probabilities (or values in real units) of one raw sample."""
    from ..training import TrainingError
    from .model_facts import predict as run
    if service.trainer is None:
        raise TrainingError("there is no trained model to ask")
    return run(service.trainer, x, token)


@request("samples", store="samples")
def samples(service, indices: list[int]):
    """Validation samples by index, ready to show (images 0..1, their targets)."""
    from ..training import TrainingError
    from .model_facts import samples as take
    ds = service.trainer.dataset if service.trainer is not None else service.dataset
    if ds is None:
        raise TrainingError("the dataset is not loaded yet")
    return take(ds, indices)


@request("evaluate", store="evaluation")
def evaluate(service):
    """A validation pass of the current model: the confusion matrix (or errors) now."""
    from ..training import TrainingError
    from .model_facts import evaluation
    if service.trainer is None:
        raise TrainingError("there is no trained model to evaluate")
    return evaluation(service.trainer)
