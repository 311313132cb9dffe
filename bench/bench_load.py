"""How long does opening a large project take, and does it grow linearly?

    python bench/bench_load.py [--sizes 2500 5000 10000 20000] [--repeats 3]

Writes chain projects (Input → Linear → ReLU → … → Linear) of each size to a temporary folder
and times, per size: reading the file (``load_project``: parse, validate, build the Graph),
copying the graph (``Graph.copy``, done by every edit), shape inference (``analyze``) and
building the torch module (``build_model``). The reference in the same run is ``json.loads``
of the same file: a ratio that stays flat as the size grows means loading is linear. Target
(issue 13): a 20k-node project loads in ≤ 1 s.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from bench_inference import timed   # the median of repeated wall-clock timings


def chain_project(nodes: int) -> dict:
    """An Input, then Linear/ReLU pairs, ending in a Linear: ``nodes`` nodes in all."""
    ids = ["input"] + [f"n{i}" for i in range(1, nodes)]
    data_nodes = [{"id": "input", "type": "Input", "params": {"shape": [8]},
                   "position": [0, 0]}]
    for i, node_id in enumerate(ids[1:], start=1):
        kind = "Linear" if i % 2 == 1 or i == nodes - 1 else "ReLU"
        params = {"out_features": 8} if kind == "Linear" else {}
        data_nodes.append({"id": node_id, "type": kind, "params": params,
                           "position": [i * 10.0, 0]})
    edges = [{"source": a, "target": b} for a, b in zip(ids, ids[1:])]
    return {"format": "layerlab", "version": 1, "name": f"chain{nodes}", "nodes": data_nodes,
            "edges": edges, "dataset": {}, "training": {}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2500, 5000, 10000, 20000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-build", action="store_true", help="skip build_model (torch)")
    args = parser.parse_args(argv)

    from layerlab.engine.inference import analyze
    from layerlab.engine.project import load_project
    build_model = None
    if not args.no_build:
        from layerlab.engine.builder import build_model

    print(f"{'nodes':>7}{'json ms':>10}{'load ms':>10}{'load/json':>11}{'copy ms':>10}"
          f"{'analyze ms':>12}{'build ms':>10}")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            path = Path(tmp) / f"chain{n}.json"
            path.write_text(json.dumps(chain_project(n)))
            reference = timed(lambda: json.loads(path.read_text()), args.repeats)
            load = timed(lambda: load_project(path), args.repeats)
            project = load_project(path)
            copy = timed(project.graph.copy, args.repeats)
            analysis = analyze(project.graph)
            assert analysis.ok, analysis.messages()[:3]
            ana = timed(lambda: analyze(project.graph), args.repeats)
            build = (timed(lambda: build_model(project.graph, analysis), 1)
                     if build_model else float("nan"))
            if n >= 20000:
                worst = max(worst, load)
            print(f"{n:>7}{reference * 1e3:>10.1f}{load * 1e3:>10.1f}{load / reference:>11.1f}"
                  f"{copy * 1e3:>10.1f}{ana * 1e3:>12.1f}{build * 1e3:>10.1f}", flush=True)
    if worst:
        print(f"20k-node load: {worst:.2f} s (target ≤ 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
