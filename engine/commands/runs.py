"""``layerlab runs PROJECT [--json] [--run ID]``: the run history of a project — every run
``layerlab train`` (or the app) recorded in its run folder, as a table: when, how it ended,
epochs, lr, batch, optimizer, L1 / L2, dropout, parameters, best validation accuracy (MAE
for regression) and time.

PROJECT is a project file, a bundled template's name (its run folder is in the current
folder) or a run folder. ``--json`` prints ``{"runs": [...], "problems": [...]}``; ``--run
ID`` (the id or its first characters) prints that run in full — settings, history rows and
markers — as a table of epochs, or with ``--json`` as one object. A record that cannot be read
is named on stderr with what is wrong; it never hides the others.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="a project file, a bundled template's name, or a run "
                                        "folder (<project>-run)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--run", metavar="ID", help="print one run in full (its id, or the "
                                                    "first characters of it)")


def run_folder_of(name: str) -> Path:
    """The run folder for a project file, a template's name or a run folder itself."""
    from ..locations import RUN_SUFFIX, open_project
    path = Path(name)
    if path.is_dir() or path.name.endswith(RUN_SUFFIX):
        return path
    return open_project(name).run_dir


def _print_table(headers, rows) -> None:
    out = sys.stdout
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    print(line.rstrip(), file=out)
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip(), file=out)


def _show_run(run, as_json: bool) -> None:
    from ..formatting import plain_number
    if as_json:
        print(json.dumps({"summary": asdict(run.summary), "settings": run.settings,
                          "history": list(run.history),
                          "events": [asdict(e) for e in run.events]}, indent=2,
                         default=str))
        return
    s = run.summary
    print(f"run {s.run_id} — {s.status}, {s.started}"
          + (f": {s.message}" if s.message else ""))
    regression = s.task == "regression"
    headers = ("epoch", "step", "train loss", "val loss",
               *(("val MAE", "val RMSE") if regression else ("train acc", "val acc")), "lr",
               "seconds")
    rows = []
    for r in run.history:
        def pct(x):
            return "—" if x is None else f"{100 * x:.2f} %"
        scores = ((plain_number(r["val_mae"]), plain_number(r["val_rmse"])) if regression
                  else (pct(r["train_acc"]), pct(r["val_acc"])))
        rows.append((str(r["epoch"]), str(r["step"]), plain_number(r["train_loss"]),
                     plain_number(r["val_loss"]), *scores, f"{r['lr']:g}",
                     f"{r['seconds']:.1f}"))
    _print_table(headers, rows)
    for e in run.events:
        print(f"marker at epoch {e.at_epoch:.2f} (step {e.step}): {e.message}")


def run(args: argparse.Namespace) -> int:
    from ..project import ProjectLoadError
    from ..training.run_history import RunHistoryError, list_runs, load_run, runs_table
    err = sys.stderr
    try:
        folder = run_folder_of(args.project)
    except ProjectLoadError as exc:
        print(f"error: {exc}", file=err)
        return 2
    if args.run:
        try:
            _show_run(load_run(folder, args.run), args.json)
        except RunHistoryError as exc:
            print(f"error: {exc}", file=err)
            return 2
        return 0
    listing = list_runs(folder)
    if args.json:
        print(json.dumps({"folder": str(folder), "runs": [asdict(r) for r in listing.runs],
                          "problems": list(listing.problems)}, indent=2))
        return 0
    for problem in listing.problems:
        print(f"note: cannot read {problem}", file=err)
    if not listing.runs:
        print(f"no runs recorded in {folder} yet — `layerlab train` records each run there")
        return 0
    headers, rows = runs_table(listing.runs)
    _print_table(headers, rows)
    return 0
