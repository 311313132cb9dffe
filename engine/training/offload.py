"""Periodic visual snapshots taken off the training thread.

A visual snapshot (the filters, the probe sample's feature maps, the gradient norms) costs the
training thread far more than its own few hundred microseconds: between two batches every
cache is cold, and the batches after it run slower too. A window that shows them at display
rates can hand the periodic ones to someone else — the worker's capture process
(engine/service/capture.py) — through this hook, ``Trainer.visual_offload``. The Trainer
still takes the forced ones (pause, step, a new probe sample, the end of a run) itself, so
they always show exactly the weights they name.

The Trainer calls, on its training thread:

* ``begin(trainer)`` as a run starts (after ``on_start``);
* ``offer(trainer)`` when a periodic snapshot is due: True when it was handed over (the time
  ``offer`` took counts against ``snapshots.visual_budget``), False when the last one is still
  being taken (nothing is sent; it is due again after the next batch), None when the offload
  cannot take it (the Trainer takes it inline);
* ``settle()`` before a forced snapshot: returns once what was handed over has been sent, so
  the forced one arrives after it;
* ``end()`` once the run has ended, however it ended.

Torch-free: an offload reads the Trainer's public attributes.
"""
from __future__ import annotations

from typing import Protocol

__all__ = ["VisualOffload"]


class VisualOffload(Protocol):
    def begin(self, trainer) -> None: ...

    def offer(self, trainer) -> bool | None: ...

    def settle(self) -> None: ...

    def end(self) -> None: ...
