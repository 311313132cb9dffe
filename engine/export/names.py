"""Python names for the exported code: the class name from the project name, and one module
attribute per node (its id, suffixed with ``_`` where it would clash with Python or with
``nn.Module``). The code generator and the weight-key conversion both use these."""
from __future__ import annotations

import keyword
import re
import unicodedata
from functools import lru_cache

from ..graph import Graph

__all__ = ["class_name", "attribute_names", "reserved_attributes", "free_name"]

#: Names the generated module defines at top level (the class must not take one of them).
MODULE_NAMES = frozenset({"torch", "nn", "Add", "Concat", "Identity", "Multiply", "Narrow",
                          "ChannelLayerNorm", "INPUT_SHAPE", "WEIGHTS_FILE",
                          "from_layerlab_state_dict", "main", "Path"})


def class_name(project_name: str) -> str:
    """'LeNet-5' → 'LeNet5', 'Digits CNN (8×8)' → 'DigitsCNN8x8', '' → 'Model'."""
    text = unicodedata.normalize("NFKD", project_name.replace("×", "x"))
    words = re.findall(r"[A-Za-z0-9]+", text.encode("ascii", "ignore").decode())
    name = "".join(w[0].upper() + w[1:] for w in words) or "Model"
    if name[0].isdigit():
        name = "Model" + name
    if keyword.iskeyword(name) or name in MODULE_NAMES:
        name += "Model"
    return name


@lru_cache(maxsize=1)
def reserved_attributes() -> frozenset[str]:
    """Names a layer attribute must not take: Python keywords and everything an nn.Module
    already has (forward, training, parameters, _modules, …)."""
    from torch import nn
    return frozenset(set(dir(nn.Module())) | set(keyword.kwlist) | set(keyword.softkwlist))


def free_name(wanted: str, taken: set[str], reserved: frozenset[str] | set[str]) -> str:
    """``wanted``, or ``wanted_``, ``wanted__``… — the first that is neither taken nor
    reserved."""
    name = wanted
    while name in taken or name in reserved:
        name += "_"
    return name


def attribute_names(graph: Graph) -> dict[str, str]:
    """Node id → attribute of the exported module, for every node but the Input."""
    reserved = reserved_attributes()
    ids = [n.id for n in graph.nodes.values() if n.type != "Input"]
    taken = {i for i in ids if i not in reserved}  # ids that keep their name
    names = {}
    for node_id in ids:
        if node_id in reserved:
            names[node_id] = free_name(node_id, taken, reserved)
            taken.add(names[node_id])
        else:
            names[node_id] = node_id
    return names
