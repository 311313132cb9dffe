"""A torchinfo-like table of a graph: per node shape, parameters and MACs, with totals."""
from __future__ import annotations

from typing import Any

from .graph import Graph
from .inference import Analysis, analyze
from .memory import BYTES_PER_VALUE, human_bytes, training_estimate
from .registry import format_shape

__all__ = ["summary_rows", "summary_text", "summary_json", "human_bytes", "BYTES_PER_VALUE"]


def summary_rows(graph: Graph, analysis: Analysis | None = None) -> list[dict[str, Any]]:
    analysis = analysis or analyze(graph)
    rows = []
    for node_id in analysis.order:
        info = analysis.nodes[node_id]
        rows.append({"id": node_id, "type": info.type,
                     "output_shape": list(info.output_shape) if info.output_shape else None,
                     "params": info.params, "macs": info.macs, "status": info.status,
                     "error": info.error})
    return rows


def summary_json(graph: Graph, analysis: Analysis | None = None) -> dict[str, Any]:
    analysis = analysis or analyze(graph)
    return {
        "nodes": [{k: r[k] for k in ("id", "type", "output_shape", "params", "macs")}
                  for r in summary_rows(graph, analysis)],
        "total_params": analysis.total_params,
        "total_macs": analysis.total_macs,
        "output_shape": list(analysis.output_shape) if analysis.output_shape else None,
        "activation_bytes_per_sample": analysis.activation_elements() * BYTES_PER_VALUE,
        "errors": [{"node": p.node, "message": p.message} for p in analysis.problems],
    }


def summary_text(graph: Graph, name: str = "", batch_size: int = 1,
                 analysis: Analysis | None = None) -> str:
    analysis = analysis or analyze(graph)
    rows = summary_rows(graph, analysis)
    header = ("Node", "Type", "Output shape", "Param #", "MACs")
    table = [header] + [(r["id"], r["type"],
                         format_shape(tuple(r["output_shape"])) if r["output_shape"] else
                         ("error" if r["status"] == "error" else "?"),
                         f"{r['params']:,}", f"{r['macs']:,}") for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    rule = "─" * (sum(widths) + 2 * (len(widths) - 1))

    def line(row) -> str:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].ljust(widths[2]),
                 row[3].rjust(widths[3]), row[4].rjust(widths[4])]
        return "  ".join(cells)

    out = []
    if name:
        out.append(name)
    out += [rule, line(header), rule] + [line(r) for r in table[1:]] + [rule]
    act = analysis.activation_elements() * BYTES_PER_VALUE * batch_size
    out.append(f"Total parameters: {analysis.total_params:,}")
    out.append(f"Total MACs (per sample): {analysis.total_macs:,}")
    out.append(f"Activation memory (batch of {batch_size}, float32): {human_bytes(act)}")
    if analysis.ok:
        need = training_estimate(analysis, batch_size)
        out.append(f"Memory to train (batch of {batch_size}, adam): about "
                   f"{human_bytes(need.total)} — {need.describe()}")
    else:                     # problems, then layers not connected yet
        reasons = analysis.messages()
        out.append(rule)
        out.append(f"{len(reasons)} problem(s):")
        out += [f"  - {m}" for m in reasons]
    return "\n".join(out)
