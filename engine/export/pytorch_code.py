"""Project → a readable, standalone PyTorch file (only torch needed to run it).

Every layer comes from ``LayerSpec.torch_call`` — the same class and arguments the builder
uses — so the exported class computes exactly what LayerLab's GraphModule computes. The
layers are attributes named after the nodes; ``forward`` is written out in topological order,
keeping a tensor in a named variable only where a later node reads it again (``x`` carries
the straight chains), with each node's output shape as a comment.
"""
from __future__ import annotations

import inspect
import keyword
import os
import textwrap
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import registry
from ..graph import Project
from ..inference import Analysis, analyze
from ..registry import format_shape
from ..summary import summary_rows
from ..torch_modules import CUSTOM
from .errors import ExportError
from .names import attribute_names, class_name, free_name
from .weights import Weights, resolve_weights, to_module_keys

__all__ = ["generate_pytorch_code", "export_pytorch", "checked_analysis"]

#: Required constructor arguments written positionally (nn.Conv2d(1, 6, kernel_size=5)).
_POSITIONAL = ("in_channels", "out_channels", "in_features", "out_features", "num_features")
_VARIABLE_RESERVED = frozenset({"self", "x", "torch", "nn"})


def checked_analysis(project: Project) -> Analysis:
    analysis = analyze(project.graph)
    if not analysis.ok:
        raise ExportError("the graph has problems, fix them before exporting: "
                          + "; ".join(analysis.messages()))
    return analysis


def generate_pytorch_code(project: Project, weights_file: str | None = None) -> str:
    """The source of a Python module defining the model class. With ``weights_file`` (a file
    name beside the module), its ``__main__`` loads those weights when the file exists."""
    analysis = checked_analysis(project)
    graph = project.graph
    cls = class_name(project.name)
    attrs = attribute_names(graph)
    calls = {}
    for node_id in analysis.order:
        info = analysis.nodes[node_id]
        if info.type != "Input":
            calls[node_id] = registry.get(info.type).torch_call(info.resolved, info.input_shapes)
    custom = sorted({name for name, _ in calls.values() if name in CUSTOM})

    out: list[str] = [_module_docstring(project, analysis, cls, attrs)]
    if weights_file:
        out.append("from pathlib import Path")
        out.append("")
    out += ["import torch", "from torch import nn", ""]
    shape = analysis.nodes[analysis.input_node].output_shape
    out.append(f"INPUT_SHAPE = {_literal(tuple(shape))}  # one sample, without the batch "
               f"dimension")
    if weights_file:
        out.append(f"WEIGHTS_FILE = {weights_file!r}  # beside this file; keys as in "
                   f"{cls}().state_dict()")
    for name in custom:
        out += ["", "", inspect.getsource(CUSTOM[name]).rstrip()]
    out += ["", "", f"class {cls}(nn.Module):",
            f'    """{_oneline(project.name) or cls}: see the table at the top of this file."""',
            "", "    def __init__(self) -> None:", "        super().__init__()"]
    for node_id, (name, kwargs) in calls.items():
        prefix = "" if name in CUSTOM else "nn."
        out.append(f"        self.{attrs[node_id]} = {prefix}{name}({_arguments(name, kwargs)})")
    out += [""] + _forward(project, analysis, attrs)
    out += ["", ""] + _converter(graph, attrs)
    out += ["", ""] + _main(cls, weights_file)
    return "\n".join(out) + "\n"


def export_pytorch(project: Project, path: str | os.PathLike,
                   weights: Weights | None = None) -> list[Path]:
    """Write the model as Python code to ``path``. With ``weights`` (a safetensors / .pt file
    or a state dict with GraphModule keys), also write them beside it as ``<stem>.pt`` with the
    exported class's keys, which the file's ``__main__`` loads. Returns the files written."""
    path = Path(path)
    state = resolve_weights(weights)
    weights_path = path.with_suffix(".pt") if state is not None else None
    if weights_path is not None and weights_path == path:
        raise ExportError(f"{path} would be overwritten by the weights: give the code a .py name")
    code = generate_pytorch_code(project, weights_path.name if weights_path else None)
    written = []
    if state is not None:
        from ..builder import build_model
        from ..memory import export_problem
        from .weights import apply_weights
        if problem := export_problem(checked_analysis(project)):  # before building it
            raise ExportError(problem)
        state = apply_weights(build_model(project.graph), state)  # refuse what does not fit
        torch.save(to_module_keys(project.graph, state), weights_path)
        written.append(weights_path)
    path.write_text(code, encoding="utf-8")
    return [path] + written


# --- pieces of the file ---------------------------------------------------------------------

def _module_docstring(project: Project, analysis: Analysis, cls: str,
                      attrs: dict[str, str]) -> str:
    rows = [("Node", "Type", "Output shape", "Param #")]
    for row in summary_rows(project.graph, analysis):
        rows.append((row["id"], row["type"], format_shape(tuple(row["output_shape"])),
                     f"{row['params']:,}"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    rule = "─" * (sum(widths) + 6)
    table = [rule]
    for i, r in enumerate(rows):
        table.append("  ".join([r[0].ljust(widths[0]), r[1].ljust(widths[1]),
                                r[2].ljust(widths[2]), r[3].rjust(widths[3])]).rstrip())
        if i == 0:
            table.append(rule)
    table += [rule, f"Total parameters: {analysis.total_params:,}"]
    lines = [f'"""{_oneline(project.name) or cls} — a PyTorch model exported from LayerLab.', ""]
    if project.description.strip():
        lines += [_safe(project.description.strip()), ""]
    lines += ["It needs only PyTorch. `python <this file>` builds the model, prints its parameter",
              "count and runs a random batch through it.", ""]
    lines += table + [""]
    renamed = {n: a for n, a in attrs.items() if n != a}
    if renamed:
        text = ("Layers whose node name is taken by Python or nn.Module get a trailing _: "
                + ", ".join(f"{n} → self.{a}" for n, a in renamed.items()) + ".")
        lines += textwrap.wrap(_safe(text), 88) + [""]
    lines += ["Weights trained in LayerLab (a safetensors file with keys",
              "'layers.<node>.<tensor>') load with:",
              "",
              "    from safetensors.torch import load_file",
              f"    model = {cls}()",
              "    state = load_file('weights.safetensors')",
              "    model.load_state_dict(from_layerlab_state_dict(state))",
              '"""']
    return "\n".join(lines)


def _forward(project: Project, analysis: Analysis, attrs: dict[str, str]) -> list[str]:
    graph = project.graph
    input_id, output_id = analysis.input_node, analysis.output_node
    statements = [n for n in analysis.order if n != input_id]
    follows = {}  # node → the statement right after the one that computes it
    for before, after in zip([input_id] + statements, statements):
        follows[before] = after
    taken = set(graph.nodes)
    reserved = _VARIABLE_RESERVED | set(keyword.kwlist) | set(keyword.softkwlist)
    variables: dict[str, str] = {}
    for node_id in analysis.order:
        targets = [e.target for e in graph.outgoing(node_id)]
        chained = targets == [follows.get(node_id)] and node_id != output_id
        last = node_id == output_id and (not statements or statements[-1] == node_id)
        if chained or last:
            variables[node_id] = "x"
        else:
            name = free_name(node_id, taken - {node_id}, reserved)
            taken.add(name)
            variables[node_id] = name
    body = []
    for node_id in statements:
        sources = [variables[e.source] for e in graph.incoming(node_id)]
        code = f"{variables[node_id]} = self.{attrs[node_id]}({', '.join(sources)})"
        body.append((code, format_shape(analysis.nodes[node_id].output_shape)))
    width = max((len(c) for c, _ in body), default=0)
    lines = [f"    def forward(self, {variables[input_id]}: torch.Tensor) -> torch.Tensor:"]
    lines += [f"        {c.ljust(width)}  # {s}" for c, s in body]
    lines.append(f"        return {variables[output_id]}")
    return lines


def _converter(graph, attrs: dict[str, str]) -> list[str]:
    renamed = {n: a for n, a in attrs.items() if n != a}
    return [
        "def from_layerlab_state_dict(state_dict: dict) -> dict:",
        '    """A LayerLab state dict (keys \'layers.<node>.<tensor>\', as training saves them) '
        'with',
        '    this module\'s keys (\'<node>.<tensor>\')."""',
        *_dict_lines("    renamed = ", renamed),
        "    out = {}",
        "    for key, value in state_dict.items():",
        "        node, _, rest = key.removeprefix('layers.').partition('.')",
        "        out[f'{renamed.get(node, node)}.{rest}'] = value",
        "    return out",
    ]


def _dict_lines(prefix: str, mapping: dict[str, str]) -> list[str]:
    if len(prefix) + len(repr(mapping)) <= 96:
        return [f"{prefix}{mapping!r}"]
    return [prefix + "{"] + [f"        {k!r}: {v!r}," for k, v in mapping.items()] + ["    }"]


def _main(cls: str, weights_file: str | None) -> list[str]:
    lines = ['if __name__ == "__main__":', f"    model = {cls}()"]
    if weights_file:
        lines += ["    weights = Path(__file__).with_name(WEIGHTS_FILE)",
                  "    if weights.is_file():",
                  "        model.load_state_dict(torch.load(weights, map_location='cpu', "
                  "weights_only=True))",
                  "        print(f'loaded weights from {weights.name}')"]
    lines += ["    model.eval()",
              "    n_params = sum(p.numel() for p in model.parameters())",
              f"    print(f'{cls}: {{n_params:,}} parameters')",
              "    with torch.no_grad():",
              "        y = model(torch.randn(1, *INPUT_SHAPE))",
              "    print(f'input {(1, *INPUT_SHAPE)} -> output {tuple(y.shape)}')"]
    return lines


# --- literals -------------------------------------------------------------------------------

def _arguments(class_name_: str, kwargs: dict[str, Any]) -> str:
    cls = CUSTOM.get(class_name_) or getattr(nn, class_name_)
    try:
        signature = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        signature = None
    params = signature.parameters if signature else {}
    positional, named = [], []
    for key, value in kwargs.items():
        default = params[key].default if key in params else inspect.Parameter.empty
        if key in _POSITIONAL and not named:
            positional.append(_literal(value))
        elif default is inspect.Parameter.empty or not _same(value, default):
            named.append(f"{key}={_literal(value)}")
    return ", ".join(positional + named)


def _same(a: Any, b: Any) -> bool:
    norm = lambda v: tuple(v) if isinstance(v, list) else v  # noqa: E731
    return type(norm(a)) is type(norm(b)) and norm(a) == norm(b)


def _literal(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        items = ", ".join(_literal(v) for v in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    return repr(value)


def _oneline(text: str) -> str:
    return _safe(" ".join(text.split()))


def _safe(text: str) -> str:
    """Text that cannot end the docstring it is put in."""
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
