"""Training: the project's "training" section, the Trainer (the one loop, with live control,
plain-data snapshots and a strategy for one process or DDP), checkpoints, and what a headless
run writes.

    from layerlab.engine.training import Trainer, save_checkpoint
    trainer = Trainer.from_project(project, base_dir, epochs=5)
    result = trainer.run()        # or trainer.start() and pause()/resume()/step()/stop()

``config`` and ``errors`` import without torch (an editor validating settings stays light);
everything else loads torch when first used. See docs/training.md.
"""
from .config import (DEFAULT_LR, DEVICES, LOSSES, OPTIMIZERS, SCHEDULES, ScheduleConfig,
                     SnapshotConfig, TrainingConfig, check_training, parse_training,
                     resolve_loss)
from .errors import (CheckpointError, ConfigProblem, DataMismatchError, DeviceError,
                     MemoryLimitError, ModelError, TrainingConfigError, TrainingError)

_LAZY = {
    "Trainer": "trainer",
    "TrainingObserver": "observers", "RateLimiter": "observers",
    "RunInfo": "snapshots", "BatchSnapshot": "snapshots", "EpochSnapshot": "snapshots",
    "EvalSnapshot": "snapshots", "VisualSnapshot": "snapshots", "StateSnapshot": "snapshots",
    "RunResult": "snapshots", "HISTORY_FIELDS": "snapshots", "format_eta": "snapshots",
    "TrainingEvent": "snapshots", "HistogramSnapshot": "snapshots", "loss_label": "snapshots",
    "Gap": "snapshots", "train_val_gap": "snapshots",
    "Checkpoint": "checkpoint", "save_checkpoint": "checkpoint", "load_checkpoint": "checkpoint",
    "DeviceInfo": "device", "resolve_device": "device", "available_devices": "device",
    "TrainingParts": "setup", "prepare": "setup", "check_model": "setup",
    "train_step": "loop", "evaluate": "loop", "forward_loss": "loop", "apply_update": "loop",
    "Objective": "losses", "make_objective": "losses",
    "make_optimizer": "optim", "lr_factor": "optim",
    "BatchSource": "batches", "Controller": "control",
    "Strategy": "strategy", "SingleProcess": "strategy",
    "RunFolder": "run_folder",
}

__all__ = ["DEFAULT_LR", "DEVICES", "LOSSES", "OPTIMIZERS", "SCHEDULES", "ScheduleConfig",
           "SnapshotConfig", "TrainingConfig", "check_training", "parse_training",
           "resolve_loss", "CheckpointError", "ConfigProblem", "DataMismatchError",
           "DeviceError", "MemoryLimitError", "ModelError", "TrainingConfigError", "TrainingError",
           *_LAZY]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
