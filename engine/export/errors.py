"""Errors of the exporters and the ONNX importer, and the check for the optional extra."""
from __future__ import annotations

import importlib
from collections import Counter
from types import ModuleType

__all__ = ["ExportError", "MissingDependencyError", "OnnxImportError", "require", "EXTRA_HINT"]

#: How to get the optional export dependencies (onnx, onnxscript, onnxruntime).
EXTRA_HINT = 'pip install "layerlab[export]"'


class ExportError(ValueError):
    """An export or import that cannot be done; the message says why in plain words."""


class MissingDependencyError(ImportError):
    """An optional package of the ``layerlab[export]`` extra is not installed."""

    def __init__(self, package: str, purpose: str) -> None:
        super().__init__(f"{purpose} needs the '{package}' package, which is not installed. "
                         f"Install the export extra: {EXTRA_HINT}", name=package)
        self.package = package


class OnnxImportError(ExportError):
    """An ONNX file that cannot become a LayerLab graph.

    ``unsupported`` counts the operators that have no LayerLab layer (all of them, not just the
    first); it is empty when the problem is elsewhere (then ``node`` names the ONNX node at
    fault, when there is one)."""

    def __init__(self, message: str, unsupported: Counter | None = None,
                 node: str | None = None) -> None:
        super().__init__(message)
        self.unsupported = Counter(unsupported or {})
        self.node = node

    @classmethod
    def for_operators(cls, source: str, unsupported: Counter,
                      where: dict[str, list[str]] | None = None) -> "OnnxImportError":
        """All the operators without a layer, with their counts and (``where``) the names of
        the first few nodes that use each."""
        where = where or {}

        def names(op: str) -> str:
            found = where.get(op, [])
            if not found:
                return ""
            more = f", … {len(found) - 3} more" if len(found) > 3 else ""
            return f" ({', '.join(found[:3])}{more})"
        listed = ", ".join(f"{op} ×{n}{names(op)}" for op, n in sorted(unsupported.items()))
        total = sum(unsupported.values())
        return cls(f"{source} cannot be imported: {total} node(s) use operators that have no "
                   f"LayerLab layer: {listed}", unsupported)


def require(module: str, purpose: str) -> ModuleType:
    """Import an optional module or raise MissingDependencyError naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(module.split(".")[0], purpose) from None
