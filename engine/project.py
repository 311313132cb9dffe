"""Project files: versioned JSON (see docs/project-format.md). Loading validates everything,
reports every problem with its location, and never executes code. Saving is atomic."""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import registry
from .fileio import atomic_write_text
from .formatting import clip, json_kind, json_short
from .graph import Edge, Graph, Node, Project, id_problem

__all__ = ["FORMAT", "VERSION", "LoadProblem", "ProjectLoadError", "load_project",
           "loads_project", "project_from_dict", "project_to_dict", "dumps_project",
           "save_project", "MAX_FILE_BYTES"]

FORMAT = "layerlab"
VERSION = 1
MAX_FILE_BYTES = 64 * 1024 * 1024
_TOP_KEYS = {"format", "version", "name", "description", "nodes", "edges", "dataset",
             "training"}


@dataclass(frozen=True)
class LoadProblem:
    location: str   # "nodes[2] (conv1).params.kernel_size", "edges[0].source", "line 3 col 5"
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class ProjectLoadError(ValueError):
    def __init__(self, source: str, problems: list[LoadProblem]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source} cannot be opened:\n{lines}")


def load_project(path: str | os.PathLike) -> Project:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ProjectLoadError(str(path), [LoadProblem(
                "", f"the file is {size:,} bytes; project files are at most {MAX_FILE_BYTES:,}")])
        raw = path.read_bytes()
    except OSError as exc:
        raise ProjectLoadError(str(path), [LoadProblem("", exc.strerror or str(exc))]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProjectLoadError(str(path), [LoadProblem(
            f"byte {exc.start}", "the file is not UTF-8 text — is it a LayerLab project?")]) \
            from None
    return loads_project(text, source=str(path))


def loads_project(text: str, source: str = "<text>") -> Project:
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ProjectLoadError(source, [LoadProblem(
            f"line {exc.lineno}, column {exc.colno}", f"not valid JSON: {exc.msg}")]) from None
    except (ValueError, RecursionError) as exc:
        raise ProjectLoadError(source, [LoadProblem("", f"not valid JSON: {exc}")]) from None
    return project_from_dict(data, source)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a project file")


def project_from_dict(data: Any, source: str = "<data>") -> Project:
    problems: list[LoadProblem] = []
    add = lambda where, msg: problems.append(LoadProblem(where, msg))  # noqa: E731

    if not isinstance(data, dict):
        raise ProjectLoadError(source, [LoadProblem("", "the file must hold a JSON object "
                                                        f"(found {json_kind(data)})")])
    if data.get("format") != FORMAT:
        add("format", f'must be "{FORMAT}" (found {json_short(data.get("format"))}) — '
                      f"is this a LayerLab project file?")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        add("version", f"must be a whole number ≥ 1 (found {json_short(version)})")
    elif version > VERSION:
        raise ProjectLoadError(source, [LoadProblem("version", (
            f"the file was written by a newer LayerLab (format version {version}); this "
            f"version reads up to {VERSION} — update LayerLab to open it"))])
    for key in sorted(set(data) - _TOP_KEYS):
        add(key, f"unknown field (known fields: {', '.join(sorted(_TOP_KEYS))})")
    name = data.get("name", "Untitled")
    if not isinstance(name, str):
        add("name", f"must be text (found {json_kind(name)})")
        name = "Untitled"
    description = data.get("description", "")
    if not isinstance(description, str):
        add("description", f"must be text (found {json_kind(description)})")
        description = ""
    sections = {}
    for key in ("dataset", "training"):
        value = data.get(key, {})
        if not isinstance(value, dict):
            add(key, f"must be an object (found {json_kind(value)})")
            value = {}
        sections[key] = value

    graph = Graph()
    declared: set[str] = set()  # ids of nodes seen, valid or not: edges to them are not dangling
    nodes = data.get("nodes", [])
    if not isinstance(nodes, list):
        add("nodes", f"must be a list (found {json_kind(nodes)})")
        nodes = []
    for i, raw in enumerate(nodes):
        node = _node_from_dict(raw, f"nodes[{i}]", graph, declared, add)
        if node is not None:
            graph.add_node(node)

    edges = data.get("edges", [])
    if not isinstance(edges, list):
        add("edges", f"must be a list (found {json_kind(edges)})")
        edges = []
    for i, raw in enumerate(edges):
        edge = _edge_from_dict(raw, f"edges[{i}]", graph, declared, add)
        if edge is not None:
            graph.add_edge(edge)

    if problems:
        raise ProjectLoadError(source, problems)
    return Project(graph, name, description, sections["dataset"], sections["training"])


def _node_from_dict(raw: Any, where: str, graph: Graph, declared: set[str],
                    add) -> Node | None:
    if not isinstance(raw, dict):
        add(where, f"must be an object with id, type and params (found {json_kind(raw)})")
        return None
    node_id = raw.get("id")
    if id_problem(node_id):
        add(f"{where}.id", id_problem(node_id))
        return None
    where = f"{where} ({node_id})"
    if node_id in declared:
        add(f"{where}.id", f"duplicate id: another node is already called '{node_id}'")
        return None
    declared.add(node_id)
    for key in sorted(set(raw) - {"id", "type", "params", "position"}):
        add(f"{where}.{key}", "unknown field (known: id, type, params, position)")
    type_name = raw.get("type")
    spec = registry.find(type_name) if isinstance(type_name, str) else None
    if spec is None:
        known = ", ".join(s.type for s in registry.all_specs())
        add(f"{where}.type", f"unknown layer type {json_short(type_name)} (known types: {known})")
        return None
    params = raw.get("params", {})
    if not isinstance(params, dict):
        add(f"{where}.params", f"must be an object (found {json_kind(params)})")
        return None
    ok = True
    for message in spec.check_params(params):
        add(f"{where}.params", message)
        ok = False
    position = raw.get("position", [0, 0])
    if (not isinstance(position, list) or len(position) != 2
            or not all(_finite_number(v) for v in position)):
        add(f"{where}.position", f"must be [x, y] numbers (found {json_short(position)})")
        ok = False
    if not ok:
        return None
    clean = {k: spec.param(k).check(v) for k, v in params.items()}
    return Node(node_id, spec.type, clean, (float(position[0]), float(position[1])))


def _edge_from_dict(raw: Any, where: str, graph: Graph, declared: set[str],
                    add) -> Edge | None:
    if not isinstance(raw, dict):
        add(where, f"must be an object with source and target (found {json_kind(raw)})")
        return None
    for key in sorted(set(raw) - {"source", "target", "target_port"}):
        add(f"{where}.{key}", "unknown field (known: source, target, target_port)")
    ends = {}
    for key in ("source", "target"):
        value = raw.get(key)
        if not isinstance(value, str):
            add(f"{where}.{key}", f"must be a node id (found {json_short(value)})")
        elif value not in declared:
            add(f"{where}.{key}", f"refers to '{clip(value)}', which is not a node in this "
                                  f"file (a dangling edge)")
        elif value in graph.nodes:  # else: a node with its own reported problems
            ends[key] = value
    port = raw.get("target_port", 0)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port < 10_000:
        add(f"{where}.target_port", f"must be a whole number from 0 (found {json_short(port)})")
        return None
    if len(ends) < 2:
        return None
    source, target = ends["source"], ends["target"]
    if source == target:
        add(where, f"'{source}' cannot feed itself")
        return None
    if graph.edges.has(source, target):
        add(where, f"duplicate edge: '{source}' already feeds '{target}'")
        return None
    return Edge(source, target, port)


def project_to_dict(project: Project) -> dict[str, Any]:
    data: dict[str, Any] = {"format": FORMAT, "version": VERSION, "name": project.name}
    if project.description:
        data["description"] = project.description
    data["nodes"] = [{"id": n.id, "type": n.type, "params": dict(n.params),
                      "position": [round(n.position[0], 2), round(n.position[1], 2)]}
                     for n in project.graph.nodes.values()]
    data["edges"] = []
    for e in project.graph.edges:
        edge: dict[str, Any] = {"source": e.source, "target": e.target}
        if e.target_port:
            edge["target_port"] = e.target_port
        data["edges"].append(edge)
    data["dataset"] = project.dataset
    data["training"] = project.training
    return data


def dumps_project(project: Project) -> str:
    return json.dumps(project_to_dict(project), indent=2, ensure_ascii=False) + "\n"


def save_project(project: Project, path: str | os.PathLike) -> None:
    """Atomic: a crash leaves either the old file or the new one, never half of one."""
    atomic_write_text(path, dumps_project(project))


def _finite_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
