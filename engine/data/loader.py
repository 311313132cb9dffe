"""load_dataset: the project's "dataset" section -> a split, normalized Dataset; describe: the
same section in one line. Both read the kinds' declarations (engine/data/kinds.py)."""
from __future__ import annotations

from pathlib import Path

from .dataset import Dataset
from .errors import DatasetError
from .kinds import AUGMENT, DEFAULT_KIND, all_kinds, resolve_spec
from .spec import common_options


#: name → summary, in picker order, read from the declarations (for pickers' tooltips).
DATASET_KINDS: dict[str, str] = {kind.name: kind.summary for kind in all_kinds()}


def load_dataset(spec: dict | None, base_dir: str | Path | None = None) -> Dataset:
    """Load, shuffle (by ``seed``), split and normalize the dataset a project describes.

    ``base_dir`` is the project file's folder; relative ``path`` values are resolved against it.
    Raises DatasetError, with a message for the user, for anything wrong with the spec or files.
    A project without a dataset section trains on ``fit.dataset_spec(project)``'s default.
    """
    kind, values = resolve_spec(spec)
    common = common_options(kind.name, values)
    try:
        return kind.load(values, common, Path(base_dir) if base_dir is not None else None)
    except OSError as exc:   # permissions, vanished files, network drives: still the user's data
        where = f"{Path(exc.filename).name}: " if exc.filename else ""
        raise DatasetError(f"{where}cannot be read ({exc.strerror or type(exc).__name__})") from None
    except MemoryError:
        raise DatasetError(f"not enough memory to load the {kind.name} dataset; "
                           f"set dataset.limit or use smaller images") from None


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%" if value * 100 == round(value * 100) else f"{value * 100:g}%"


def describe(spec: dict | None) -> str:
    """One line for the GUI/CLI; never raises (an invalid spec is described as such)."""
    try:
        kind, values = resolve_spec(spec)
        head = kind.describe(values)
    except DatasetError as exc:
        name = spec.get("kind", DEFAULT_KIND) if isinstance(spec, dict) else spec
        return f"{name}: invalid dataset settings ({exc})"
    parts = [head, f"{_pct(values['val_fraction'])} validation", f"seed {values['seed']}"]
    if values["train_samples"]:
        parts.append(f"only {values['train_samples']:,} training samples")
    if values["limit"]:
        parts.append(f"first {values['limit']:,} samples")
    if values["normalize"] != "standardize":
        parts.append("unit scale")
    aug = [name for name, on in (("flip", values[AUGMENT + "flip"]),
                                 (f"shift {values[AUGMENT + 'shift']}",
                                  values[AUGMENT + "shift"])) if on]
    if aug:
        parts.append("augment: " + ", ".join(aug))
    return " · ".join(parts)
