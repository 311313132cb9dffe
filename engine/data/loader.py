"""load_dataset: the project's "dataset" section -> a split, normalized Dataset."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .cifar import load_cifar_raw
from .dataset import Dataset
from .digits import CLASS_NAMES as DIGIT_NAMES, load_digits_raw
from .errors import DatasetError
from .idx import load_mnist_raw
from .image_folder import load_image_folder_raw
from .paths import resolve_path
from .shapes import CLASS_NAMES as SHAPE_NAMES, load_shapes_raw
from .spec import (CommonOptions, get_choice, get_float, get_image_size, get_int, get_str_list,
                   parse_common)
from .splits import RawSamples, build_dataset
from .tabular import DELIMITERS, load_csv_raw

# Insertion order is the order the GUI's picker shows.
DATASET_KINDS: dict[str, str] = {
    "digits": "Handwritten digits 0–9: 1,797 gray 8×8 images bundled with scikit-learn",
    "shapes": "Generated shapes (circle, square, triangle, three bars): any size, gray or color",
    "csv": "A table from a CSV file: predict one column from the numeric others",
    "image_folder": "Your own images, one subfolder per class (PNG, JPEG, BMP)",
    "mnist_idx": "MNIST or Fashion-MNIST IDX files from a folder (28×28 gray, 10 classes)",
    "cifar10": "CIFAR-10 python batches from a folder (32×32 color, 10 classes)",
}


def _channels(spec: dict) -> int:
    return get_choice(spec, "channels", 1, (1, 3))


def _load_digits(spec: dict, common: CommonOptions, base_dir) -> Dataset:
    # size > 8 upsamples the 8×8 digits, so that LeNet-5 (32×32) or an MNIST-shaped network
    # (28×28) trains on real 10-class handwriting offline.
    size = get_int(spec, "size", 8, minimum=8, maximum=64)
    raw = load_digits_raw()
    if size != 8:
        raw = RawSamples(x=_upsample(raw.x, size), y=raw.y)
    return build_dataset(raw, common, name="digits", task="classification",
                         class_names=DIGIT_NAMES, stored_scale=1 / 16,  # pixels 0..16 stored
                         source=f"scikit-learn digits ({len(raw.x):,} images"
                                + (f", upsampled to {size}×{size})" if size != 8 else ")"))


def _upsample(x, size: int):
    import torch
    import torch.nn.functional as F
    out = F.interpolate(torch.from_numpy(x), size=(size, size), mode="bilinear",
                        align_corners=False)
    return out.clamp_(0.0, 1.0).numpy()


def _load_shapes(spec: dict, common: CommonOptions, base_dir) -> Dataset:
    count = get_int(spec, "count", 3000, minimum=6, maximum=200_000)
    size = get_int(spec, "size", 28, minimum=8, maximum=256)
    channels = _channels(spec)
    noise = get_float(spec, "noise", 0.1, minimum=0.0, maximum=1.0)
    raw = load_shapes_raw(count, size, channels, noise, common.seed)
    color = "color" if channels == 3 else "gray"
    return build_dataset(raw, common, name="shapes", task="classification",
                         class_names=SHAPE_NAMES,
                         source=f"generated shapes ({count:,} images, {size}×{size} {color}, "
                                f"noise {noise:g}, seed {common.seed})")


def _csv_targets(spec: dict) -> list[str]:
    target = spec.get("target")
    if isinstance(target, str) and target.strip():
        return [target.strip()]
    if isinstance(target, list):
        targets = get_str_list(spec, "target")
        if len(set(targets)) == len(targets):
            return targets
    raise DatasetError(f"dataset.target is required for a CSV: the name of the column to predict "
                       f"(or a list of column names for regression); found {target!r}")


def _load_csv(spec: dict, common: CommonOptions, base_dir) -> Dataset:
    path = resolve_path(spec, base_dir, want_dir=False)
    targets = _csv_targets(spec)
    task = get_choice(spec, "task", "regression", ("regression", "classification"))
    features = get_str_list(spec, "features")
    delimiter = get_choice(spec, "delimiter", "auto", ("auto",) + DELIMITERS)
    raw, info = load_csv_raw(path, targets, task, features, delimiter)
    return build_dataset(raw, common, name=path.stem, task=task,
                         class_names=info["class_names"], feature_names=info["feature_names"],
                         target_names=info["target_names"], source=info["source"])


def _load_image_folder(spec: dict, common: CommonOptions, base_dir) -> Dataset:
    root = resolve_path(spec, base_dir, want_dir=True)
    size_hw = get_image_size(spec, 28)
    raw, class_names, skipped = load_image_folder_raw(root, size_hw, _channels(spec))
    skipped_text = f", {skipped} unreadable skipped" if skipped else ""
    return build_dataset(raw, common, name=root.name, task="classification",
                         class_names=class_names, skipped=skipped,
                         source=f"image folder '{root.name}' ({len(raw.x):,} images, "
                                f"{len(class_names)} classes{skipped_text})")


def _load_mnist(spec: dict, common: CommonOptions, base_dir) -> Dataset:
    folder = resolve_path(spec, base_dir, want_dir=True)
    class_names = get_str_list(spec, "class_names") or [str(d) for d in range(10)]
    raw, count = load_mnist_raw(folder, len(class_names))
    return build_dataset(raw, common, name=folder.name, task="classification",
                         class_names=class_names,
                         source=f"IDX files in '{folder.name}' ({count:,} images)")


def _load_cifar(spec: dict, common: CommonOptions, base_dir) -> Dataset:
    folder = resolve_path(spec, base_dir, want_dir=True)
    raw, class_names = load_cifar_raw(folder)
    return build_dataset(raw, common, name="cifar10", task="classification",
                         class_names=class_names,
                         source=f"CIFAR-10 batches in '{folder.name}' ({len(raw.x):,} images)")


_LOADERS = {
    "digits": _load_digits, "shapes": _load_shapes, "csv": _load_csv,
    "image_folder": _load_image_folder, "mnist_idx": _load_mnist, "cifar10": _load_cifar,
}


def load_dataset(spec: dict | None, base_dir: str | Path | None = None) -> Dataset:
    """Load, shuffle (by ``seed``), split and normalize the dataset a project describes.

    ``base_dir`` is the project file's folder; relative ``path`` values are resolved against it.
    Raises DatasetError, with a message for the user, for anything wrong with the spec or files.
    """
    spec = {} if spec is None else spec
    common = parse_common(spec, DATASET_KINDS)
    try:
        return _LOADERS[common.kind](spec, common, base_dir)
    except OSError as exc:   # permissions, vanished files, network drives: still the user's data
        where = f"{Path(exc.filename).name}: " if exc.filename else ""
        raise DatasetError(f"{where}cannot be read ({exc.strerror or exc})") from None
    except MemoryError:
        raise DatasetError(f"not enough memory to load the {common.kind} dataset; "
                           f"set dataset.limit or use smaller images") from None


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%" if value * 100 == round(value * 100) else f"{value * 100:g}%"


def _where(spec: dict) -> str:
    path = str(spec.get("path", "?"))
    return path.split(":", 1)[1] if path.startswith("resources:") else path


def describe(spec: dict | None) -> str:
    """One line for the GUI/CLI; never raises (an invalid spec is described as such)."""
    spec = {} if spec is None else spec
    try:
        common = parse_common(spec, DATASET_KINDS)
        kind = common.kind
        if kind == "digits":
            head = "digits: scikit-learn 8×8 handwritten digits"
        elif kind == "shapes":
            size = get_int(spec, "size", 28)
            color = "color" if spec.get("channels", 1) == 3 else "gray"
            head = (f"shapes: {get_int(spec, 'count', 3000):,} generated {size}×{size} {color} "
                    f"shapes, noise {get_float(spec, 'noise', 0.1, minimum=0, maximum=1):g}")
        elif kind == "csv":
            targets = _csv_targets(spec)
            task = spec.get("task", "regression")
            head = f"csv: {Path(_where(spec)).name} → {', '.join(targets)} ({task})"
        elif kind == "image_folder":
            h, w = get_image_size(spec, 28)
            color = "color" if spec.get("channels", 1) == 3 else "gray"
            head = f"image_folder: images in '{_where(spec)}' resized to {h}×{w} {color}"
        elif kind == "mnist_idx":
            head = f"mnist_idx: IDX files in '{_where(spec)}'"
        else:
            head = f"cifar10: CIFAR-10 batches in '{_where(spec)}'"
    except DatasetError as exc:
        kind: Any = spec.get("kind", "digits") if isinstance(spec, dict) else spec
        return f"{kind}: invalid dataset settings ({exc})"
    parts = [head, f"{_pct(common.val_fraction)} validation", f"seed {common.seed}"]
    if common.limit:
        parts.append(f"first {common.limit:,} samples")
    if common.normalize != "standardize":
        parts.append("unit scale")
    aug = [name for name, on in (("flip", common.augment.flip),
                                 (f"shift {common.augment.shift}", common.augment.shift)) if on]
    if aug:
        parts.append("augment: " + ", ".join(aug))
    return " · ".join(parts)
