"""The bundled project templates in resources/templates/."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .graph import Project
from .project import load_project
from .resources import resources_dir

__all__ = ["Template", "list_templates", "template_path", "load_template"]


@dataclass(frozen=True)
class Template:
    key: str          # file stem, e.g. "lenet5"
    name: str
    description: str
    path: Path


def templates_dir() -> Path:
    return resources_dir() / "templates"


def list_templates() -> list[Template]:
    out = []
    for path in sorted(templates_dir().glob("*.json")):
        project = load_project(path)
        out.append(Template(path.stem, project.name, project.description, path))
    return out


def template_path(key: str) -> Path:
    path = templates_dir() / f"{key}.json"
    if not path.is_file():
        known = ", ".join(p.stem for p in sorted(templates_dir().glob("*.json")))
        raise KeyError(f"no template '{key}' (bundled: {known})")
    return path


def load_template(key: str) -> Project:
    return load_project(template_path(key))
