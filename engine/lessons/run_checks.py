"""Check kinds about training: they read the last run record (engine/lessons/runs.py).

Every one of them first asks whether there is a run, and whether it is *fresh* — trained on
the network and settings as they are now — unless the check says ``"fresh": false``.
"""
from __future__ import annotations

import math

from ..params import BoolParam, ChoiceParam, IntParam
from .checks import (CheckContext, CheckKind, CheckResult, bound_params, bound_words, judged,
                     need_a_bound, register_check)
from .fields import REQUIRED
from .runs import project_changes

METRICS = {"val_acc": "validation accuracy", "train_acc": "training accuracy",
           "val_loss": "validation loss", "train_loss": "training loss",
           "val_mae": "validation mean absolute error", "val_rmse": "validation RMSE"}
PERCENT = ("val_acc", "train_acc")
RUN_STATUSES = ("finished", "stopped", "diverged")

FRESH = BoolParam("fresh", True, "the run must have trained the network and settings as they "
                                 "are now (false: any last run counts)")


def _run(args: dict, ctx: CheckContext):
    """(the last run, None) or (None, what the learner must do first)."""
    run = ctx.last_run
    if run is None:
        return None, "there is no training run yet — press Train"
    if not run.history and run.status != "diverged":
        return None, "the last run stopped before finishing an epoch — train again"
    if args.get("fresh", True) and run.project is not None:
        changes = project_changes(run.project, ctx.project)
        if changes:
            shown = ", ".join(changes[:4]) + (f" and {len(changes) - 4} more"
                                              if len(changes) > 4 else "")
            return None, (f"the last run trained an earlier version (since then: {shown}) — "
                          f"train again")
    return run, None


def _value_text(metric: str, value: float) -> str:
    if metric in PERCENT:
        return f"{100 * value:.1f}".removesuffix(".0") + "%"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


# --- trained -------------------------------------------------------------------------------

def _trained(args: dict, ctx: CheckContext) -> CheckResult:
    run, why = _run(args, ctx)
    if run is None:
        return CheckResult(False, why)
    if run.epochs >= args["epochs"]:
        return CheckResult(True, f"trained {run.epochs} epoch{'s' if run.epochs != 1 else ''}")
    return CheckResult(False, f"the last run trained {run.epochs} epoch"
                              f"{'s' if run.epochs != 1 else ''}; train at least "
                              f"{args['epochs']}")


register_check(CheckKind(
    "trained", "The network has been trained (at least `epochs` epochs) as it is now.",
    (IntParam("epochs", 1, "epochs at least", minimum=1, maximum=100_000), FRESH),
    _trained, lambda a: (f"trained at least {a['epochs']} epochs" if a["epochs"] > 1
                         else "the network has been trained"), needs_run=True,
    example={"kind": "trained", "epochs": 3}))


# --- run_status ----------------------------------------------------------------------------

def _run_status(args: dict, ctx: CheckContext) -> CheckResult:
    run, why = _run(args, ctx)
    if run is None:
        return CheckResult(False, why)
    want = args["status"]
    if want == "diverged":
        if run.diverged:
            return CheckResult(True, "the last run diverged: " + (
                run.message or "its loss blew up"))
        return CheckResult(False, f"the last run {run.status} without blowing up (its "
                                  f"training loss ended at {_last_loss(run)})")
    if run.diverged:
        return CheckResult(False, "the last run diverged: " + (run.message or
                                                                "its loss blew up"))
    if run.status == want:
        return CheckResult(True, f"the last run {want}")
    return CheckResult(False, f"the last run {run.status}; this step wants it {want}")


def _last_loss(run) -> str:
    value = run.last.get("train_loss")
    return "?" if value is None else f"{value:,.4g}"


register_check(CheckKind(
    "run_status", "How the last run ended: finished, stopped, or diverged (the loss became "
                  "NaN, infinite, or above 10,000 at some epoch).",
    (ChoiceParam("status", REQUIRED, "finished, stopped or diverged", choices=RUN_STATUSES),
     FRESH),
    _run_status, lambda a: f"the last run {a['status']}", needs_run=True,
    example={"kind": "run_status", "status": "diverged"}))


# --- metric --------------------------------------------------------------------------------

def _metric(args: dict, ctx: CheckContext) -> CheckResult:
    run, why = _run(args, ctx)
    if run is None:
        return CheckResult(False, why)
    metric = args["metric"]
    values = [r.get(metric) for r in run.history]
    values = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    name = METRICS[metric]
    if not values:
        return CheckResult(False, f"the last run has no {name}"
                                  + (" (accuracy is for classifiers)" if metric in PERCENT
                                     else ""))
    if args["which"] == "best":
        value = max(values) if metric in PERCENT else min(values)
    else:
        value = values[-1]
    when = "best" if args["which"] == "best" else "final"
    return judged(value, args, f"{when} {name} is {_value_text(metric, value)}",
                  lambda v: _value_text(metric, v))


register_check(CheckKind(
    "metric", "A number of the last run's history: the final epoch's (or the best).",
    (ChoiceParam("metric", REQUIRED, ", ".join(METRICS), choices=tuple(METRICS)),
     ChoiceParam("which", "last", "last epoch or best epoch", choices=("last", "best")),
     *bound_params("accuracies as fractions: 0.9 = 90%"), FRESH),
    _metric,
    lambda a: f"{METRICS[a['metric']]} is {bound_words(a, lambda v: _value_text(a['metric'], v))}",
    needs_run=True, validate=need_a_bound,
    example={"kind": "metric", "metric": "val_acc", "at_least": 0.9}))


# --- gap -----------------------------------------------------------------------------------

def _gap(args: dict, ctx: CheckContext) -> CheckResult:
    run, why = _run(args, ctx)
    if run is None:
        return CheckResult(False, why)
    train, val = run.last.get("train_acc"), run.last.get("val_acc")
    if train is None or val is None:
        return CheckResult(False, "the last run has no accuracies (accuracy is for classifiers)")
    gap = 100 * (train - val)
    text = (f"training accuracy {_value_text('train_acc', train)} − validation accuracy "
            f"{_value_text('val_acc', val)} = {gap:.1f} points")
    return judged(gap, args, text, lambda v: f"{v:g} points", "a gap")


register_check(CheckKind(
    "gap", "The train/validation accuracy gap of the last epoch, in percentage points "
           "(training minus validation).",
    (*bound_params("percentage points"), FRESH),
    _gap, lambda a: f"the train/validation gap is {bound_words(a, lambda v: f'{v:g} points')}",
    needs_run=True, validate=need_a_bound,
    example={"kind": "gap", "below": 5}))


# --- loss_drop -----------------------------------------------------------------------------

def _loss_drop(args: dict, ctx: CheckContext) -> CheckResult:
    run, why = _run(args, ctx)
    if run is None:
        return CheckResult(False, why)
    losses = [r.get("train_loss") for r in run.history]
    if len(losses) < 2 or any(not isinstance(v, (int, float)) or not math.isfinite(v)
                              for v in (losses[0], losses[-1])) or losses[0] <= 0:
        return CheckResult(False, "the last run needs at least two epochs with finite losses")
    drop = (losses[0] - losses[-1]) / losses[0]
    text = (f"the training loss went from {losses[0]:.4g} to {losses[-1]:.4g}: "
            f"({losses[0]:.4g} − {losses[-1]:.4g}) / {losses[0]:.4g} = {100 * drop:.1f}% lower")
    return judged(drop, args, text, lambda v: f"{100 * v:g}%", "a drop")


register_check(CheckKind(
    "loss_drop", "How much the training loss fell from the first epoch to the last, as a "
                 "fraction of the first (0.5 = it halved; a crawling run stays near 0).",
    (*bound_params("a fraction of the first epoch's loss"), FRESH),
    _loss_drop, lambda a: f"the training loss fell by {bound_words(a, lambda v: f'{100 * v:g}%')}",
    needs_run=True, validate=need_a_bound,
    example={"kind": "loss_drop", "at_most": 0.1}))

