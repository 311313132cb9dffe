"""Does the graph fit its dataset? Answered without loading the data, with one-click fixes.

``dataset_spec(project)`` is what a project trains on: its dataset section, or — when it has
none — a default that fits its Input (gray images: the digits at the Input's size; color
images: generated shapes at that size). The trainer, the command line and the app all use it.

``dataset_problems(project, base_dir)`` compares the graph with what that dataset gives
(``peek``: one sample's shape and the number of classes or targets, read from the
declarations, a CSV header or a folder listing — cached, cheap enough to run on every edit)
and returns :class:`~layerlab.engine.inference.Problem` s whose ``fixes`` are
:class:`~layerlab.engine.edits.Fix` es: set the Input's shape, make the dataset give the
Input's shape, set the last Linear's ``out_features``, add Flatten + Linear at the end.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..edits import AddNode, Connect, Fix, SetParams, SetSection
from ..graph import Project
from ..inference import Analysis, Problem, analyze
from ..registry import format_shape
from .errors import DatasetError
from ..params import ParamError
from .kinds import DataShape, DatasetKind, find, flatten, get, resolve_spec, spec_from_values

__all__ = ["dataset_spec", "default_spec", "fitted_spec", "peek", "dataset_problems",
           "new_input_params"]

#: Layers whose output has the width of their input: walking back through them finds the
#: layer that sets the model's output width.
_SAME_WIDTH = {"ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "GELU", "Sigmoid", "Tanh",
               "Softmax", "Dropout", "BatchNorm1d", "Identity"}


def _input_shape(project: Project, analysis: Analysis | None = None) -> tuple[int, ...] | None:
    analysis = analysis or analyze(project.graph)
    if analysis.input_node is None:
        return None
    return analysis.nodes[analysis.input_node].output_shape


def default_spec(input_shape: tuple[int, ...] | None) -> dict:
    """The dataset a project without a dataset section trains on: one that gives
    ``input_shape`` when a built-in kind can (digits for gray images from 8 to 128 pixels,
    generated shapes for square gray or color images up to 256), else the digits."""
    plain = {"kind": "digits"}
    if not input_shape:
        return plain
    for name in ("digits", "shapes"):
        kind = find(name)
        values = kind.defaults()
        changes = kind.fit(values, tuple(input_shape))
        if changes is not None:
            return spec_from_values(kind, {**values, **changes})
    return plain


def dataset_spec(project: Project, analysis: Analysis | None = None) -> dict:
    """What ``project`` trains on: its dataset section, or the default fitting its Input."""
    if project.dataset:
        return dict(project.dataset)
    return default_spec(_input_shape(project, analysis))


def fitted_spec(project: Project, kind_name: str, keep: dict | None = None) -> dict:
    """A spec of kind ``kind_name`` with the valid settings of ``keep``, made to give the
    project's Input shape when the kind can (picking "digits" for a 1×28×28 Input gives the
    digits at 28×28). Raises DatasetError for an unknown kind."""
    kind = get(kind_name)
    values = kind.defaults()
    for key, value in flatten(keep or {}).items():
        param = kind.param(key)
        if param is not None:
            try:
                values[key] = param.check(value)
            except ParamError:
                pass
    shape = _input_shape(project)
    changes = kind.fit(values, tuple(shape)) if shape else None
    return spec_from_values(kind, {**values, **(changes or {})})


def peek(spec: dict | None, base_dir: str | Path | None = None) -> DataShape:
    """One sample's shape and the targets the dataset ``spec`` gives, without loading it.
    Raises DatasetError (the loader's own messages) when the spec or its files are wrong."""
    kind, values = resolve_spec(spec)
    try:
        return kind.peek(values, Path(base_dir) if base_dir is not None else None)
    except OSError as exc:
        raise DatasetError(f"dataset.path: cannot be read "
                           f"({exc.strerror or type(exc).__name__})") from None


def new_input_params(project: Project, base_dir: str | Path | None = None) -> dict:
    """Parameters for an Input node added to ``project``: the shape its dataset gives. Empty
    (the Input's declared default) when the project has no dataset section — the default
    dataset then follows the Input — or when the dataset cannot be read yet."""
    if not project.dataset:
        return {}
    try:
        return {"shape": list(peek(project.dataset, base_dir).input_shape)}
    except DatasetError:
        return {}


# --- problems -----------------------------------------------------------------------------------
def _targets_text(data: DataShape) -> str:
    if data.task == "classification":
        names = list(data.class_names)
        shown = ", ".join(names[:6]) + (", …" if len(names) > 6 else "")
        return f"{len(names)} class{'es' if len(names) != 1 else ''} ({shown})"
    n = len(data.target_names)
    return f"{n} target{'s' if n != 1 else ''} ({', '.join(data.target_names)})"


def _kind_text(kind: DatasetKind, spec_given: bool) -> str:
    return f"the {kind.name} dataset" + ("" if spec_given else " (the default)")


def _input_fixes(project: Project, input_id: str, kind: DatasetKind, values: dict,
                 data: DataShape, wanted: tuple[int, ...]) -> tuple[Fix, ...]:
    fixes = [Fix(f"Set the Input shape to {format_shape(data.input_shape)}",
                 (SetParams(input_id, {"shape": list(data.input_shape)}),))]
    changes = kind.fit(values, wanted)
    if changes is not None and project.dataset:
        spec = spec_from_values(kind, {**values, **changes})
        fixes.append(Fix(f"Make the {kind.name} dataset give {format_shape(wanted)}",
                         (SetSection("dataset", spec, replace=True),)))
    elif changes is None and kind.name in ("digits", "shapes"):
        # A built-in that cannot give this shape: another built-in may (gray → color).
        other = default_spec(wanted)
        if other.get("kind") != kind.name and find(other["kind"]).fit(
                find(other["kind"]).defaults(), wanted) is not None:
            fixes.append(Fix(f"Use the {other['kind']} dataset at {format_shape(wanted)}",
                             (SetSection("dataset", other, replace=True),)))
    return tuple(fixes)


def _width_setter(project: Project, analysis: Analysis, node_id: str) -> str:
    graph = project.graph
    seen = set()
    while graph.nodes[node_id].type in _SAME_WIDTH and node_id not in seen:
        seen.add(node_id)
        incoming = [e for e in graph.edges if e.target == node_id]
        if len(incoming) != 1:
            break
        node_id = incoming[0].source
    return node_id


def _tail_fix(project: Project, after: str, width: int, flatten: bool) -> Fix:
    graph = project.graph
    edits: list[Any] = []
    x, y = graph.nodes[after].position
    last = after
    if flatten:
        flat = graph.unique_id("flatten")
        edits += [AddNode(flat, "Flatten", {}, (x + 220.0, y)), Connect(last, flat)]
        last, x = flat, x + 220.0
    taken = set(graph.nodes) | {e.id for e in edits if isinstance(e, AddNode)}
    fc = next(f"fc{i}" if i else "fc" for i in range(10_000)
              if (f"fc{i}" if i else "fc") not in taken)
    edits += [AddNode(fc, "Linear", {"out_features": width}, (x + 220.0, y)), Connect(last, fc)]
    what = "Flatten and a Linear layer" if flatten else "a Linear layer"
    return Fix(f"Add {what} with {width} outputs at the end", tuple(edits))


def _output_problems(project: Project, analysis: Analysis, data: DataShape) -> list[Problem]:
    out_id = analysis.output_node
    if out_id is None or analysis.nodes[out_id].status != "ok":
        return []
    shape = analysis.nodes[out_id].output_shape
    want = data.num_outputs
    if want <= 0:
        return []
    what = _targets_text(data)
    if len(shape) != 1:   # still ends in feature maps: unfinished, not wrong
        return [Problem(out_id, f"{out_id}: the network ends in {format_shape(shape)} feature "
                                f"maps; the dataset has {what} — finish it with Flatten and "
                                f"a Linear layer with {want} outputs",
                        (_tail_fix(project, out_id, want, flatten=True),), severity="todo")]
    width = shape[0]
    loss = (project.training or {}).get("loss", "auto")
    if width == want or (loss == "bce_with_logits" and want == 2 and width == 1):
        return []
    setter = _width_setter(project, analysis, out_id)
    if project.graph.nodes[setter].type == "Linear":
        fix = Fix(f"Set {setter}.out_features to {want}",
                  (SetParams(setter, {"out_features": want}),))
        remedy = f"set out_features to {want}"
    else:
        fix = _tail_fix(project, out_id, want, flatten=False)
        remedy = f"end the model with a Linear layer with {want} outputs"
    return [Problem(setter, f"{setter} gives {width} output{'s' if width != 1 else ''} but "
                            f"the dataset has {what} — {remedy}", (fix,))]


def dataset_problems(project: Project, base_dir: str | Path | None = None,
                     analysis: Analysis | None = None) -> list[Problem]:
    """Where the graph does not fit what its dataset gives, each with one-click fixes. Never
    raises; an unreadable dataset is one problem (on no node) carrying the loader's message."""
    analysis = analysis or analyze(project.graph)
    if analysis.input_node is None and not project.dataset:
        return []           # nothing to fit yet (and the kinds need not load: numpy)
    spec = dataset_spec(project, analysis)
    try:
        kind, values = resolve_spec(spec)
        data = peek(spec, base_dir)
    except DatasetError as exc:
        fixes = ()
        if exc.fix:
            fixes = (Fix(exc.fix_label or "Apply the suggested settings",
                         (SetSection("dataset", {**spec, **exc.fix}, replace=True),)),)
        return [Problem(None, f"dataset: {exc}", fixes)]
    except Exception as exc:  # noqa: BLE001 — a bug here must not take an editor down
        return [Problem(None, f"dataset: cannot be checked ({type(exc).__name__}: {exc})")]
    problems: list[Problem] = []
    input_id = analysis.input_node
    given = analysis.nodes[input_id].output_shape if input_id else None
    if given is not None and tuple(given) != tuple(data.input_shape):
        from .dataset import describe_samples      # (numpy: only when there is a misfit)
        problems.append(Problem(
            input_id,
            f"{input_id}: {_kind_text(kind, bool(project.dataset))} gives "
            f"{describe_samples(data.input_shape)} but the Input expects "
            f"{format_shape(given)}",
            _input_fixes(project, input_id, kind, values, data, tuple(given))))
    problems += _output_problems(project, analysis, data)
    return problems
