"""The exceptions the training engine lets out. Every message is meant for the user as is:
it names the field, node or file and says what to change."""
from __future__ import annotations

__all__ = ["TrainingError", "TrainingConfigError", "ConfigProblem", "ModelError",
           "DataMismatchError", "DeviceError", "CheckpointError", "MemoryLimitError"]

from dataclasses import dataclass


class TrainingError(Exception):
    """Base class: training cannot start or continue, for the reason in the message."""


@dataclass(frozen=True)
class ConfigProblem:
    field: str      # "training.lr", "training.schedule.gamma"
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class TrainingConfigError(TrainingError):
    """The project's "training" section is invalid; ``problems`` lists every field at fault."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = list(problems)
        if len(self.problems) == 1:
            text = f"invalid training settings: {self.problems[0]}"
        else:
            text = "invalid training settings:\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(text)


class ModelError(TrainingError):
    """The graph cannot be built, or its output does not match the dataset."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [message])


class DataMismatchError(TrainingError):
    """The dataset cannot be loaded, or its samples do not fit the graph's Input node."""


class DeviceError(TrainingError):
    """The requested device (CUDA, MPS) is not available here."""


class CheckpointError(TrainingError):
    """A checkpoint cannot be written, read, or applied to this model."""


class MemoryLimitError(TrainingError):
    """Training would need more memory than the device has free (estimated before anything
    is allocated; engine/memory.py): the message says how much, for what, and what to shrink."""
