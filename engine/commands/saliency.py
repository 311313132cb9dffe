"""``layerlab saliency PROJECT [--sample N] [--split val|train] [--node ID] [--class K]
[--method gradcam|gradient] [--weights FILE] [--out heat.png] [--json]``: where the trained
network looked for one sample — Grad-CAM on a layer's maps (default: the last Conv2d) or the
gradient of the class score with respect to the input (docs/explain.md)."""
from __future__ import annotations

import argparse
import json
import sys

from ..explain.loading import add_project_arguments

SHADES = " .:-=+*#%@"
#: Maps up to this wide are drawn in text; numbers up to NUMBERS_WIDTH.
TEXT_WIDTH = 64
NUMBERS_WIDTH = 12


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_project_arguments(parser)
    parser.add_argument("--node", metavar="ID",
                        help="Grad-CAM's layer (default: the last Conv2d)")
    parser.add_argument("--class", dest="target", type=int, metavar="K",
                        help="the class (output unit) to explain (default: the predicted one)")
    parser.add_argument("--method", choices=("gradcam", "gradient"), default="gradcam",
                        help="gradcam (default) or gradient (on the input pixels)")
    parser.add_argument("--out", metavar="PNG",
                        help="write the input and the heatmap over it as a PNG")


def shade_rows(heat) -> list[str]:
    """A heatmap (0…1) as text between bars, one character per cell, two wide so it looks
    square."""
    return ["|" + "".join(SHADES[min(int(v * len(SHADES)), len(SHADES) - 1)] * 2 for v in row)
            + "|" for row in heat]


def run(args: argparse.Namespace) -> int:
    from ..explain import ExplainError, load_trained, saliency, save_overlay
    from ..explain.numbers import finite_json, num
    try:
        trained = load_trained(args.project, args.weights)
        x, label = trained.sample(args.split, args.sample)
        if args.method == "gradient" and args.node:
            raise ExplainError("--node is for Grad-CAM; gradient saliency is on the input")
        result = saliency(trained.model, trained.graph, x, args.method, args.node, args.target)
        out = save_overlay(args.out, x, result.heatmap) if args.out else None
    except ExplainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        data = result.to_json()
        data.update({"class_name": trained.class_name(result.target),
                     "predicted_name": trained.class_name(result.predicted),
                     **trained.about(args.split, args.sample, label, x),
                     "out": str(out) if out else None})
        print(json.dumps(finite_json(data), allow_nan=False))
        return 0
    print(trained.heading(args.split, args.sample, label))
    if trained.dataset.task == "classification":
        print(f"predicted {trained.class_name(result.predicted)}; explaining class "
              f"{trained.class_name(result.target)} (its score {num(result.score)} in "
              f"{result.score_node})")
    else:
        names = trained.dataset.target_names
        name = names[result.target] if result.target < len(names) else f"output {result.target}"
        real = trained.dataset.denormalize_target(result.outputs).ravel()[result.target]
        print(f"explaining the prediction of {name}: {num(result.score)} in standardized "
              f"units ({result.score_node}), {real:,.6g} in the column's units")
    heat = result.heatmap
    where = (f"Grad-CAM on {result.node}'s {heat.shape[0]}×{heat.shape[1]} maps"
             if result.method == "gradcam" else "gradient of the score with respect to the input")
    print(f"{where} (1 = where it looked most):")
    if result.peak == 0:
        print("   all zero: nothing at this layer speaks for this class")
    elif heat.ndim == 1:
        for k in heat.argsort()[::-1]:
            names = trained.dataset.feature_names
            name = names[k] if k < len(names) else f"feature {k}"
            print(f"   {name}: {num(heat[k])}")
    elif heat.shape[1] <= TEXT_WIDTH:
        rows = ([" ".join(f"{v:4.2f}" for v in row) for row in heat]
                if heat.shape[1] <= NUMBERS_WIDTH else [])
        for k, shade in enumerate(shade_rows(heat)):
            print(f"   {shade}  {rows[k] if rows else ''}".rstrip())
    if out:
        print(f"wrote {out}")
    elif heat.ndim == 2 and heat.shape[1] > TEXT_WIDTH:
        print("   (too wide to print: use --out heat.png)")
    return 0
