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


def _recorder_for(forwarder, trainer, project, run_folder: str | None):
    """The run history's recorder of this trainer's runs in ``run_folder`` (the same one for
    a continued run, so its record says which run it continues), or None."""
    if not run_folder:
        return None
    from ..training.run_history import RunRecorder
    recorder = forwarder.recorder
    if recorder is None or str(recorder.folder) != str(Path(run_folder)):
        recorder = RunRecorder(run_folder, trainer, project)
    else:
        recorder.project = project.copy()        # this run's settings (an lr changed since)
    forwarder.recorder = recorder
    return recorder


@request("train", runs=JOB)
def train(service, project: dict, base_dir: str | None, epochs: int, resume: bool = False,
          start_paused: bool = False, steps: int = 0, probe: int = 0, graph_key: str = "",
          settings_key: str = "", token: int | None = None, run_folder: str | None = None,
          delay: float = 0.0) -> str | None:
    """Train (or continue) the project's network; the run's snapshots stream as events, and
    the run is recorded in ``run_folder``'s run history (runs/) when one is given."""
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
    recorder = _recorder_for(forwarder, trainer, proj, run_folder)
    if recorder is not None:
        trainer.add_observer(recorder)
    try:
        trainer.set_delay(float(delay or 0.0))
    except ValueError:
        trainer.set_delay(0.0)
    if start_paused:
        trainer.pause()
        if steps:
            trainer.step(int(steps))
    if 0 <= probe < len(trainer.dataset.y_val):   # the view's current sample
        service.probe = int(probe)
        trainer.set_probe(int(probe))
    try:
        result = trainer.run()
    finally:
        if recorder is not None:
            trainer.remove_observer(recorder)
    try:
        forwarder.backfill()        # the histograms of the epochs no live pass measured
    except Exception:  # noqa: BLE001 — a look inside must not lose the run's end
        log.exception("the histograms kept for after the run could not be measured")
    if recorder is not None and recorder.problem:
        service.failed("This run is not in the run history", recorder.problem)
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


@request("set_delay", runs=CONTROL)
def set_delay(service, seconds: float) -> None:
    """Slow motion: wait this long after every batch (0: full speed), from now on."""
    if service.trainer is not None:
        service.trainer.set_delay(float(seconds))


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
        # Its weights' histograms now (a strip for the epoch it stopped at); training on
        # adds one per epoch.
        forwarder.on_histograms(trainer.capture_histograms())
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
@request("histograms_live", runs=CONTROL)
def histograms_live(service, on: bool) -> None:
    """Whether the window shows the histograms now: while it does, passes at epoch ends
    (within their budget); while it does not, none — each epoch's weights are kept and
    measured once the run ends (engine/training/histogram_backlog.py)."""
    service.histograms_live = bool(on)
    trainer, forwarder = service.trainer, service.forwarder
    if trainer is None:
        return
    trainer.histograms_live = service.histograms_live
    if on and trainer.running and forwarder is not None:
        # Shown mid-run: the weights of now at once (the epochs kept so far follow at the
        # run's end), not a blank view until the next epoch ends.
        service.call_model(lambda: forwarder.on_histograms(trainer.capture_histograms()))


@request("watch", runs=CONTROL)
def watch(service, nodes: list[str] | None = None) -> None:
    """The nodes whose feature maps the views show (None: all); a paused or idle model
    sends a fresh snapshot."""
    service.watch = tuple(nodes) if nodes is not None else None
    trainer = service.trainer
    service.watch_on(trainer)
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


def _loaded_dataset(service):
    from ..training import TrainingError
    ds = service.trainer.dataset if service.trainer is not None else service.dataset
    if ds is None:
        raise TrainingError("the dataset is not loaded yet")
    return ds


@request("samples", store="samples")
def samples(service, indices: list[int]):
    """Validation samples by index, ready to show (images 0..1, their targets)."""
    from .model_facts import samples as take
    return take(_loaded_dataset(service), indices)


@request("batch_samples", store="batch")
def batch_samples(service, indices: list[int], split: str = "train", step: int = 0):
    """The samples a batch trained on (a Step, slow motion), ready to show; ``step`` is
    handed back so the view knows which batch they are."""
    from .model_facts import samples as take
    return {"step": int(step), "split": split,
            "samples": take(_loaded_dataset(service), indices, split)}


@request("evaluate", store="evaluation")
def evaluate(service):
    """A validation pass of the current model: the confusion matrix (or errors) now."""
    from ..training import TrainingError
    from .model_facts import evaluation
    if service.trainer is None:
        raise TrainingError("there is no trained model to evaluate")
    return evaluation(service.trainer)


# --- files: export and import (File ▸ Export, File ▸ Import) --------------------------------------
#: ``weights`` of an export: the session's in-memory weights (what the window shows).
SESSION = "session"


@request("export", store="exported")
def export(service, project: dict, output: str, fmt: str | None = None,
           project_path: str | None = None, base_dir: str | None = None,
           weights: str | None = SESSION, graph_key: str = "", described: str = "") -> dict:
    """Export the project as PyTorch code or ONNX with the session's trained weights (or
    those beside the project, or random initial values); the lines to show."""
    from ..export.errors import ExportError, MissingDependencyError
    from ..export.project_export import TRAINED, export_project
    from ..locations import Opened, run_dir
    from ..training import TrainingError
    proj = _project(project)
    state = None
    if weights == SESSION:
        session, trainer = service.session, service.trainer
        if trainer is None or session is None or (graph_key and session.graph_key != graph_key):
            raise TrainingError("the trained weights are no longer held by the training "
                                "process (another project was opened, or the network changed)"
                                "; export again")
        state = {k: v.detach().cpu().clone() for k, v in trainer.model.state_dict().items()}
    elif weights not in (None, TRAINED):
        raise ValueError(f"unknown weights {weights!r}")
    path = Path(project_path) if project_path else Path.cwd() / "untitled.json"
    base = _base(base_dir) or path.resolve().parent
    opened = Opened(proj, path, base, run_dir(path), None)
    try:
        result = export_project(opened, output, fmt=fmt, project=proj,
                                weights=state if weights == SESSION else weights)
    except MissingDependencyError as exc:
        raise ExportError(str(exc)) from None
    except OSError as exc:
        raise ExportError(f"{output} could not be written: {exc.strerror or exc}") from None
    lines = result.messages()
    if weights == SESSION:
        lines.insert(0, f"using {described or 'the trained weights of this session'}")
    return {"written": [str(p) for p in result.written], "format": result.format,
            "weights": SESSION if weights == SESSION else result.weights_source,
            "messages": lines}


@request("adopt_weights", runs=JOB)
def adopt_weights(service, project: dict, weights: str, base_dir: str | None = None,
                  probe: int = 0, graph_key: str = "", settings_key: str = "",
                  source: str = "") -> dict:
    """Weights from a file (an imported model's) become the session's: a trainer on the
    project's dataset holding them, so Predict, the views and Export use them."""
    from ..export.weights import apply_weights, load_weights
    proj = _project(project)
    trainer, forwarder = service.new_trainer(proj, _base(base_dir))
    apply_weights(trainer.model, load_weights(weights))
    notes = (f"the weights come from {source}",) if source else ()
    info = service.publish(trainer, forwarder, proj, graph_key, settings_key, notes=notes)
    service.probe = int(probe) if 0 <= probe < info.num_val else 0
    service.refresh_visuals()
    return {"epoch": info.epoch, "step": info.step}


# --- explaining ---------------------------------------------------------------------------------------
def _trained(service):
    from ..training import TrainingError
    if service.trainer is None:
        raise TrainingError("there is no trained model to explain yet: press Train (or open a "
                            "project with trained weights)")
    return service.trainer


@request("explain", store="explanation")
def explain(service, node: str, index=None, channel: int | None = None,
            start: int | None = None, sample: int = 0, split: str = "val"):
    """One output element of a node explained with its numbers, and its neighbours along the
    map (the sliding window's frames) — ExplainFrames for the sample and the weights now."""
    from ..explain import ExplainError
    from .insight import explain_frames
    trainer = _trained(service)
    try:
        return explain_frames(trainer, service.explainers, service.serial_of(trainer), node,
                              index=index, channel=channel, start=start, sample=int(sample),
                              split=split)
    except ExplainError as exc:
        raise ValueError(str(exc)) from None


@request("saliency", store="saliency")
def saliency(service, method: str = "gradcam", node: str | None = None,
             target: int | None = None, indices: list[int] | None = None, raw=None,
             which: str = "predicted", subject: str = "", key: tuple = ()):
    """Where the network looked (Grad-CAM or gradient saliency) for validation samples or
    one raw input — SaliencyMaps over the images."""
    return _saliency(service, method, node, target, indices, raw, which, subject, key)


@request("saliency_gallery", store="saliency_gallery")
def saliency_gallery(service, method: str = "gradcam", node: str | None = None,
                     indices: list[int] | None = None, which: str = "predicted",
                     key: tuple = ()):
    """Where it looked for each image of a confusion cell's gallery, in batches."""
    return _saliency(service, method, node, None, indices, None, which, "gallery", key)


def _saliency(service, method, node, target, indices, raw, which, subject, key):
    from ..explain import ExplainError
    from .insight import saliency_maps
    trainer = _trained(service)
    try:
        return saliency_maps(trainer, service.serial_of(trainer), method, node, target,
                             indices, raw, which, subject, tuple(key or ()))
    except ExplainError as exc:
        raise ValueError(str(exc)) from None


@request("activation_curve", store="activation_curve")
def activation_curve(service, project: dict, base_dir: str | None, node: str,
                     graph_key: str = ""):
    """An activation layer's f and f′ over the inputs it really receives: on the trained
    weights when the session's model fits the graph, else on fresh weights over the dataset,
    else (no dataset, or the graph does not build) over −4…4."""
    import torch

    from ..builder import GraphError, build_model
    from ..data import DatasetError
    from ..explain import ExplainError
    from .insight import CURVE_SAMPLES, activation_plot, function_plot
    proj = _project(project)
    trainer, session = service.trainer, service.session
    try:
        if trainer is not None and session is not None and session.graph_key == graph_key \
                and len(trainer.dataset.y_val):
            data = activation_plot(trainer.model, trainer.graph, node,
                                   trainer.dataset.x_val[:CURVE_SAMPLES], "trained")
        else:
            ds, _ = service.load_dataset(proj, _base(base_dir))
            torch.manual_seed(int((proj.training or {}).get("seed", 0) or 0))
            model = build_model(proj.graph)
            data = activation_plot(model, proj.graph, node, ds.x_val[:CURVE_SAMPLES],
                                   "initial")
    except (GraphError, DatasetError, ExplainError, RuntimeError, ValueError, OSError) as exc:
        data = function_plot(proj.graph, node)
        data["why"] = str(exc)
    data["graph_key"] = graph_key
    return data


# --- the run history and the learning rate ------------------------------------------------------------
@request("runs", store="runs", runs=CONTROL)
def runs(service, folder: str | None, token: int = 0) -> dict:
    """The run history of a run folder: every run's summary, curves and markers, the table's
    rows, and the records that could not be read (reading files only: answered at once)."""
    from dataclasses import asdict

    from ..training.run_history import list_runs, load_run, runs_table
    if not folder:
        return {"folder": None, "runs": (), "table": ((), []), "problems": (), "token": token}
    listing = list_runs(folder)
    found, problems = [], list(listing.problems)
    for summary in listing.runs:
        try:
            run = load_run(summary.path)
        except Exception as exc:  # noqa: BLE001 — a record gone meanwhile: named, not fatal
            problems.append(str(exc))
            continue
        found.append({"summary": asdict(run.summary), "history": run.history,
                      "events": tuple(asdict(e) for e in run.events)})
    return {"folder": folder, "runs": tuple(found),
            "table": runs_table([r for r in listing.runs]), "problems": tuple(problems),
            "token": token}


@request("lr_find", store="lr_find")
def lr_find(service, project: dict, base_dir: str | None, batches: int = 100,
            graph_key: str = "", settings_key: str = ""):
    """The learning-rate range test (≤ 100 batches): on the paused run's trainer (everything
    is put back), else from the project's initial weights. Its curve streams as "lr_find"
    events; the answer is the engine's LrRangeResult."""
    import time

    from .protocol import RangeTestProgress
    session, trainer = service.session, service.trainer
    if trainer is not None and trainer.running and not trainer.paused:
        raise ValueError("pause the training first: the range test runs while it is paused "
                         "or before it starts")
    if trainer is None or session is None or session.graph_key != graph_key \
            or session.settings_key != settings_key or not trainer.running:
        trainer, forwarder = service.new_trainer(_project(project), _base(base_dir))
        trainer.remove_observer(forwarder)  # a throwaway trainer: it reports nothing
    batches = max(3, min(int(batches), 100))
    lrs: list[float] = []
    losses: list[float] = []
    last = [0.0]

    def progress(_i, lr, loss) -> None:
        lrs.append(float(lr))
        losses.append(float(loss))
        now = time.monotonic()
        if now - last[0] >= 0.1:
            last[0] = now
            service.emit_event("lr_find", RangeTestProgress(tuple(lrs), tuple(losses), batches))
    result = trainer.lr_range_test(num_batches=batches, progress=progress)
    return RangeTestProgress(tuple(result.lrs), tuple(result.losses), batches, result=result)
