"""Workshop packs: one file a teacher hands out — projects, lessons, data, a fixed seed and
locked parameters (the format is docs/workshop.md).

A pack is a zip file (``.llpack``) holding::

    manifest.json          what is inside: title, seed, projects, lessons, locks, start
    projects/<key>.json    LayerLab projects (their dataset sections are the dataset settings)
    lessons/<name>.json    lessons (docs/lessons.md); they may start from a pack project
    data/…                 small data files the projects use (CSV tables, image folders)

:func:`open_pack` reads one from a file nobody vouched for: it refuses absolute paths, ``..``,
links, duplicate or unlisted members, encrypted entries, and anything bigger than the limits
below — measured while reading, not taken from the zip's headers — and names the member and
what is wrong. Nothing is written to disk until :meth:`Pack.extract`, which writes only the
members it checked, inside the folder it is given.

Locks are enforced headless too: :meth:`Pack.check_locks` compares an edited project with the
pack's, and ``layerlab pack verify`` / ``layerlab lesson check --pack`` refuse a project whose
locked values were changed.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ... import registry
from ...edits import SECTIONS
from ...graph import Project
from ...project import LoadProblem
from ..fields import LocatedError
from ..graph_checks import same_value
from ..lesson import Lesson

PACK_FORMAT = "layerlab-pack"
PACK_VERSION = 1
PACK_SUFFIX = ".llpack"
MANIFEST = "manifest.json"
SEED_REASON = "the workshop's fixed seed: everyone gets the same curve"


@dataclass(frozen=True)
class Limits:
    pack_bytes: int = 256 * 1024 * 1024        # the .llpack file on disk
    members: int = 2000
    text_bytes: int = 4 * 1024 * 1024          # manifest, each project, each lesson
    data_bytes: int = 64 * 1024 * 1024         # each data file
    total_bytes: int = 256 * 1024 * 1024       # everything, uncompressed
    ratio: int = 200                           # uncompressed / compressed, for big members
    name_chars: int = 200


LIMITS = Limits()
DATA_EXTENSIONS = {".csv", ".tsv", ".txt", ".png", ".jpg", ".jpeg", ".bmp"}
#: What names a pack's project or lesson (a file-name-safe key).
KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
#: The manifest's fields.
MANIFEST_FIELDS = ("format", "version", "title", "description", "author", "seed", "projects", "lessons",
        "locks", "data", "start")


class PackError(LocatedError):
    """A pack that cannot be opened or written; ``problems`` locate each cause (the member,
    the manifest field)."""

    def __init__(self, source: str, problems: list[LoadProblem], action: str = "opened") -> None:
        super().__init__(source, problems, f"cannot be {action} as a workshop pack")


@dataclass(frozen=True)
class Lock:
    """A parameter students cannot change: ``target`` is a node id or a section ("training",
    "dataset"), ``param`` a parameter name or "*" (all of them), ``project`` a pack project's
    key or None for every project."""
    target: str
    param: str
    reason: str
    project: str | None = None

    def covers(self, target: str, param: str | None, project: str | None) -> bool:
        return (self.target == target
                and (self.param == "*" or param is None or param == self.param)
                and (self.project is None or project is None or self.project == project))

    def to_json(self) -> dict:
        out = {"target": self.target, "param": self.param, "reason": self.reason}
        if self.project:
            out["project"] = self.project
        return out

    def __str__(self) -> str:
        where = f"{self.project}:" if self.project else ""
        return f"{where}{self.target}.{self.param}"


@dataclass(frozen=True)
class LockViolation:
    lock: Lock
    message: str          # "conv1.kernel_size is 3 but the pack fixes it at 5 — <reason>"


@dataclass(eq=False)
class Pack:
    source: str
    title: str
    description: str
    author: str
    seed: int
    projects: dict[str, Project]                 # key → project (the seed applied)
    project_titles: dict[str, str]
    lessons: list[Lesson]
    locks: tuple[Lock, ...]
    start_lesson: str | None
    members: dict[str, bytes] = field(repr=False, default_factory=dict)  # checked, by name

    # --- locks --------------------------------------------------------------------------
    def is_locked(self, target: str, param: str | None = None,
                  project: str | None = None) -> str | None:
        """The teacher's reason when ``target``'s ``param`` (a node id or "training" /
        "dataset"; None: any of its parameters) is locked in ``project`` (a key; None: in any
        project) — else None."""
        if target == "training" and param in ("seed", None):
            return SEED_REASON
        for lock in self.locks:
            if lock.covers(target, param, project):
                return lock.reason
        return None

    def locks_for(self, project: str | None) -> list[Lock]:
        return [lock for lock in self.locks if lock.project in (None, project)]

    def project_key(self, project: Project) -> str | None:
        """The key of the pack project ``project`` is a copy of (matched by name), or the only
        project's key."""
        if len(self.projects) == 1:
            return next(iter(self.projects))
        named = [k for k, p in self.projects.items() if p.name == project.name]
        return named[0] if len(named) == 1 else None

    def check_locks(self, project: Project, key: str | None = None) -> list[LockViolation]:
        """Every locked value ``project`` changed compared with the pack's project ``key``
        (default: matched by name). [] when all locked values are as the teacher set them."""
        key = key or self.project_key(project)
        if key not in self.projects:
            raise KeyError(f"which pack project is this? Name one of: {', '.join(self.projects)}")
        baseline = self.projects[key]
        seed_lock = Lock("training", "seed", SEED_REASON)
        out = []
        for lock in [seed_lock, *self.locks_for(key)]:
            message = _violation(lock, baseline, project)
            if message:
                out.append(LockViolation(lock, f"{message} — locked: {lock.reason}"))
        return out

    # --- files --------------------------------------------------------------------------
    def extract(self, dest: str | os.PathLike) -> Path:
        """Write the pack's checked members into ``dest`` (created; it must be empty), with
        projects under projects/, lessons under lessons/ and data under data/. Returns dest."""
        dest = Path(dest)
        if dest.exists() and any(dest.iterdir()):
            raise PackError(str(dest), [LoadProblem("", "the folder to extract into is not "
                                                        "empty")])
        root = dest.resolve()
        for name, data in sorted(self.members.items()):
            target = (root / PurePosixPath(name)).resolve()
            if root not in target.parents:   # _check_name already refused this; never trust
                raise PackError(self.source, [LoadProblem(name, "would land outside the "
                                                                "folder")])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return dest

    def project_file(self, key: str) -> str:
        return f"projects/{key}.json"


# --- comparing against the teacher's values ------------------------------------------------

def _violation(lock: Lock, baseline: Project, project: Project) -> str | None:
    if lock.target in SECTIONS:
        old, new = _section(baseline, lock.target), _section(project, lock.target)
        keys = set(old) | set(new) if lock.param == "*" else {lock.param}
        changed = sorted(k for k in keys if old.get(k) != new.get(k))
        if not changed:
            return None
        k = changed[0]
        return (f"{lock.target}.{k} is {_value(new.get(k))} but the pack sets "
                f"{_value(old.get(k))}")
    node_id = lock.target
    if node_id not in baseline.graph.nodes:
        return None   # the lock is about another project of the pack
    if node_id not in project.graph.nodes:
        return f"{node_id} was removed"
    before, after = baseline.graph.nodes[node_id], project.graph.nodes[node_id]
    if before.type != after.type:
        return f"{node_id} is now {after.type}, not {before.type}"
    old, new = _resolved(before), _resolved(after)
    spec = registry.find(after.type)
    keys = set(old) | set(new) if lock.param == "*" else {lock.param}
    changed = sorted(k for k in keys if not (spec and same_value(spec, k, old.get(k),
                                                                  new.get(k))
                                             or old.get(k) == new.get(k)))
    if not changed:
        return None
    k = changed[0]
    return f"{node_id}.{k} is {_value(new.get(k))} but the pack sets {_value(old.get(k))}"


def _section(project: Project, name: str) -> dict:
    values = dict(getattr(project, name) or {})
    if name == "training":
        from ...training.config import check_training, parse_training
        if not check_training(values):
            return parse_training(values).to_dict()
    return values


def _resolved(node) -> dict:
    spec = registry.find(node.type)
    try:
        return spec.resolve(node.params) if spec else dict(node.params)
    except Exception:  # noqa: BLE001 — an invalid value: compare what was written
        return dict(node.params)


def _value(value: Any) -> str:
    return json.dumps(value) if value is not None else "unset"
