"""The dataset reference, written from the kinds' declarations (docs/datasets.md is this text)."""
from __future__ import annotations

import json

from .kinds import COMMON_PARAMS, all_kinds


def _table(params) -> list[str]:
    out = ["| setting | type | default | meaning |", "|---|---|---|---|"]
    for p in params:
        out.append(f"| `{p.name}` | {p.describe()} | `{json.dumps(p.default)}` | "
                   f"{p.help} |")
    return out + [""]


def dataset_reference_markdown() -> str:
    out = ["# Dataset reference", "",
           "Generated from the dataset kinds' declarations (`layerlab datasets --markdown > "
           "docs/datasets.md`). A project's `\"dataset\"` section is `{\"kind\": NAME, "
           "setting: value, …}`; settings left out take their default, and an unknown or "
           "invalid setting is an error naming it. The `augment.*` settings sit in a nested "
           "object: `\"augment\": {\"flip\": true, \"shift\": 2}`. Nothing is downloaded: "
           "every kind reads local files or data shipped with a dependency.", "",
           "A project without a dataset section trains on a default that fits its Input: "
           "gray images from 8 to 128 pixels get the digits at that size, square gray or "
           "color images up to 256 get generated shapes at that size; anything else gets "
           "the 8×8 digits, and the mismatch is reported with its fixes.", ""]
    for kind in all_kinds():
        out += [f"## `{kind.name}` — {kind.label}", "", kind.summary + ".", ""]
        if kind.params:
            out += _table(kind.params)
    out += ["## Settings of every kind", ""] + _table(COMMON_PARAMS)
    return "\n".join(out).rstrip() + "\n"
