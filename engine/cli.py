"""``layerlab`` sub-commands that need no GUI. Each command lives in its own module with
``add_arguments(parser)`` and ``run(args) -> int``; this file only dispatches."""
from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["COMMANDS", "main"]

#: name → (module, one-line help). Modules are imported only when their command runs, so
#: ``layerlab summary`` does not pay for importing torch.
COMMANDS: dict[str, tuple[str, str]] = {
    "summary": ("layerlab.engine.commands.summary", "print shapes, parameters and MACs"),
    "templates": ("layerlab.engine.commands.templates", "list the bundled templates"),
    "export": ("layerlab.engine.commands.export", "export a project as PyTorch code or ONNX"),
    "import": ("layerlab.engine.commands.import_onnx",
               "import an ONNX model or a PyTorch module as a project"),
    "train": ("layerlab.engine.commands.train", "train a project or template headless"),
    "runs": ("layerlab.engine.commands.runs", "list a project's recorded training runs"),
    "lr-find": ("layerlab.engine.commands.lr_find", "the learning-rate range test: loss vs lr "
                                                    "and a suggested rate"),
    "layers": ("layerlab.engine.commands.layers", "list the layer types and their parameters"),
    "datasets": ("layerlab.engine.commands.datasets", "list the dataset kinds and their settings"),
    "explain": ("layerlab.engine.commands.explain", "explain one output value with its numbers"),
    "saliency": ("layerlab.engine.commands.saliency", "where a trained network looked (Grad-CAM)"),
    "lessons": ("layerlab.engine.commands.lessons", "list the lessons (and what they may check)"),
    "lesson": ("layerlab.engine.commands.lesson", "follow a lesson headless: show, start, solve, "
                                                  "check, quiz"),
    "pack": ("layerlab.engine.commands.pack", "make, check, extract and verify workshop packs"),
}


def build_parser() -> argparse.ArgumentParser:
    from importlib.metadata import PackageNotFoundError, version
    try:
        ver = version("layerlab")
    except PackageNotFoundError:
        ver = "unknown"
    parser = argparse.ArgumentParser(
        prog="layerlab",
        description="Build, train and look inside neural networks. Without a command, "
                    "`layerlab [FILE]` opens the app.")
    parser.add_argument("--version", action="version", version=f"layerlab {ver}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(command)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_module", None):
        parser.print_help()
        return 2
    try:
        return int(importlib.import_module(args._module).run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `layerlab summary x | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
