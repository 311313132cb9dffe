"""The layer reference, written from the registry (docs/layers.md is this text)."""
from __future__ import annotations

import json

from .registry import GROUPS, all_specs


def layer_reference_markdown() -> str:
    out = ["# Layer reference", "",
           "Generated from the layer registry (`layerlab layers --markdown > docs/layers.md`); "
           "names and parameters follow `torch.nn`. `in_channels` / `in_features` / "
           "`num_features` are read from the incoming shape, never typed.", ""]
    specs = list(all_specs())
    for group in GROUPS:
        members = [s for s in specs if s.group == group]
        if not members:
            continue
        out += [f"## {group}", ""]
        for spec in members:
            inputs = ("no inputs" if spec.max_inputs == 0 else
                      "one input" if spec.max_inputs == 1 else
                      f"{spec.min_inputs} or more inputs")
            out += [f"### {spec.type}", "", f"*{spec.summary}* ({inputs})", "",
                    spec.explanation, ""]
            if spec.params:
                out += ["| parameter | type | default | meaning |", "|---|---|---|---|"]
                for p in spec.params:
                    default = json.dumps(p.default)
                    out.append(f"| `{p.name}` | {p.describe()} | `{default}` | {p.help} |")
                out.append("")
    return "\n".join(out).rstrip() + "\n"
