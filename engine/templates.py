"""The bundled project templates in resources/templates/ (written by its generate.py), and
what a gallery says about each: parameters, MACs, the dataset it trains on and the work of
an epoch (for engine.epoch_estimate), simplest first."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .graph import Project
from .project import load_project
from .resources import resources_dir

if TYPE_CHECKING:
    from .epoch_estimate import Work

__all__ = ["Template", "TemplateFacts", "list_templates", "template_path", "load_template",
           "template_facts", "simplest_first"]


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


@dataclass(frozen=True)
class TemplateFacts:
    """What a gallery shows of a template, without torch or loading its data."""
    template: Template
    project: Project
    params: int
    macs: int                   # per sample, forward
    nodes: int
    dataset: str                # "digits: scikit-learn 8×8 handwritten digits"
    work: Work | None           # one epoch's work (engine.epoch_estimate); None: cannot train


def template_facts(template: Template) -> TemplateFacts:
    from .data import DatasetError
    from .data.fit import dataset_spec
    from .data.kinds import resolve_spec
    from .data.loader import describe
    from .epoch_estimate import epoch_work
    from .inference import analyze
    project = load_project(template.path)
    analysis = analyze(project.graph)
    spec = dataset_spec(project, analysis)
    try:
        kind, values = resolve_spec(spec)
        dataset = kind.describe(values)
    except DatasetError:          # described as invalid, with the reason
        dataset = describe(spec)
    return TemplateFacts(template, project, analysis.total_params, analysis.total_macs,
                         len(project.graph.nodes), dataset,
                         epoch_work(project, template.path.parent, analysis))


def simplest_first(templates: list[Template] | None = None) -> list[TemplateFacts]:
    """Every template's facts, fewest parameters first (then fewest MACs): the order a
    beginner meets them in."""
    facts = [template_facts(t) for t in (list_templates() if templates is None else templates)]
    return sorted(facts, key=lambda f: (f.params, f.macs, f.template.key))
