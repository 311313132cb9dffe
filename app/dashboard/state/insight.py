"""What the looks inside hold for the open project (Qt-free, torch-free): the explainer's
frames, the histograms over epochs, the markers on the curves. They belong to the project
state — a new project starts with none — and the views only draw them.

The explainer's frames arrive in chunks (engine/service/insight.py): :class:`ExplainFrameCache`
keeps those of one sweep — one node's channel, for one sample and one set of weights — so
stepping the window along the map, or playing it, is a lookup; asking for another sweep, or
weights that moved on, starts a new one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ExplainFrameCache", "Insight", "sweep_key"]


def sweep_key(frames) -> tuple:
    """What a chunk of frames belongs to: (weights version, split, sample, node, channel)."""
    return (tuple(frames.version), frames.split, int(frames.sample), frames.node,
            frames.channel)


class ExplainFrameCache:
    def __init__(self) -> None:
        self.key: tuple | None = None
        self.meta = None                  # the newest ExplainFrames of this sweep
        self.frames: dict[int, dict] = {}

    def add(self, chunk) -> None:
        key = sweep_key(chunk)
        if key != self.key:
            self.key, self.frames = key, {}
        self.meta = chunk
        for k, frame in enumerate(chunk.frames):
            self.frames[chunk.start + k] = frame

    def frame(self, position: int) -> dict | None:
        return self.frames.get(int(position))

    def covers(self, version, sample: int, node: str, channel, split: str = "val") -> bool:
        """These frames are of this sweep (any chunk of it)."""
        return self.key == (tuple(version) if version is not None else None, split,
                            int(sample), node, channel)

    @property
    def total(self) -> int:
        return int(self.meta.total) if self.meta is not None else 0


@dataclass
class Insight:
    explanation: ExplainFrameCache = field(default_factory=ExplainFrameCache)
    histograms: Any = None          # HistogramStrips: every epoch so far, per layer
    lr_find: Any = None             # RangeTestProgress (its ``result`` once finished)
