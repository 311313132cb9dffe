"""The worker's requests, each declared once: name → handler → plain-data result → where the
app keeps it.

    @request("saliency", store="saliency")
    def saliency(service, node, index):
        "A saliency map of one validation sample."
        return plain_numpy_result

is all a new kind of request needs on the worker's side: the app sends ``call("saliency",
node=…, index=…)``, the worker runs the handler where the model may be touched, and the
:class:`~layerlab.engine.service.protocol.Reply` carries the result with ``store`` — the
name under which the app's project state keeps it (and the topic its views observe).

Where a handler runs (``runs``):
  * ``CONTROL`` — at once, on the worker's message thread: flips thread-safe flags (pause,
    stop); never touches the model.
  * ``MODEL`` — where the model may be read: between two batches of a running (or paused)
    run, else on the worker's model thread. Predictions, visuals, evaluations, saves.
  * ``JOB`` — queued on the model thread behind earlier jobs: loading data and weights, and
    training itself (a run holds that thread until it ends).

This module holds the registry only (no torch): handlers.py declares the requests.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["RequestSpec", "REQUESTS", "request", "CONTROL", "MODEL", "JOB"]

CONTROL, MODEL, JOB = "control", "model", "job"


@dataclass(frozen=True)
class RequestSpec:
    name: str
    handler: Callable[..., Any]     # handler(service, **args) → plain data
    store: str | None               # where the app's state keeps the result (None: nowhere)
    runs: str                       # CONTROL | MODEL | JOB
    summary: str                    # the handler's first docstring line


#: Every request the worker answers, by name.
REQUESTS: dict[str, RequestSpec] = {}


def request(name: str, *, store: str | None = None, runs: str = MODEL):
    """Declare the decorated function as the worker's handler of ``name``."""
    if runs not in (CONTROL, MODEL, JOB):
        raise ValueError(f"runs must be CONTROL, MODEL or JOB (found {runs!r})")

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in REQUESTS:
            raise ValueError(f"request {name!r} is declared twice")
        summary = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        REQUESTS[name] = RequestSpec(name, fn, store, runs, summary)
        return fn
    return register
