"""A folder of images with one subfolder per class (cats/, dogs/, ...), read with Pillow.

Unreadable files are skipped rather than aborting — a single bad download in a folder of
thousands should not stop a training run — but never silently: they are named (the first few,
then a count) in the dataset's notes, as are files that are not images and images lying
outside the class folders. A class is never dropped: a class folder without a single readable
image is an error naming it. Only regular files are opened (a FIFO would block the reader).
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from ..params import ChoiceParam, PairParam, PathParam, pair
from .errors import DatasetError
from .kinds import DataShape, DatasetKind, register
from .paths import is_regular, resolve_path, shown_path
from .splits import RawSamples

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
FORMATS = "PNG, JPEG, BMP, GIF, WebP or TIFF"
#: Files an operating system leaves in folders; never reported.
SYSTEM_FILES = {"thumbs.db", "desktop.ini"}
NAMED = 5     # files named in a note; the rest are counted


def _resample():
    from PIL import Image
    return getattr(Image, "Resampling", Image).BILINEAR   # Image.Resampling is Pillow >= 9.1


def _read_image(path: Path, size_hw: tuple[int, int], channels: int) -> np.ndarray:
    from PIL import Image
    with Image.open(path) as img:
        img.seek(0)                                       # an animated GIF: its first frame
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            # Composite on white: that is how the image looks in a viewer.
            rgba = img.convert("RGBA")
            img = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            img.alpha_composite(rgba)
        img = img.convert("L" if channels == 1 else "RGB")
        if img.size != (size_hw[1], size_hw[0]):
            img = img.resize((size_hw[1], size_hw[0]), _resample())
        arr = np.asarray(img, dtype=np.uint8)
    return arr[None, :, :] if channels == 1 else arr.transpose(2, 0, 1)


def _quiet(name: str) -> bool:
    return name.startswith(".") or name.lower() in SYSTEM_FILES


def _listing(folder: Path) -> list[Path]:
    try:
        return sorted((p for p in folder.iterdir() if not _quiet(p.name)), key=lambda p: p.name)
    except OSError as exc:
        raise DatasetError(f"image folder '{folder.name}': cannot be listed "
                           f"({exc.strerror or type(exc).__name__})") from None


def named(paths: list[str]) -> str:
    """'a.png, b.png and 3 more'."""
    shown = ", ".join(paths[:NAMED])
    return shown + (f" and {len(paths) - NAMED:,} more" if len(paths) > NAMED else "")


def _class_folders(root: Path) -> tuple[list[Path], list[Path]]:
    entries = _listing(root)
    folders = [d for d in entries if d.is_dir()]
    loose = [f for f in entries if not f.is_dir()]
    if not folders:
        images = sum(1 for f in loose if f.suffix.lower() in EXTENSIONS)
        extra = f" (found {images} image(s) directly in it)" if images else ""
        raise DatasetError(f"image folder '{root}' has no class subfolders{extra}; expected one "
                           f"subfolder per class, e.g. {root.name}/cats/, {root.name}/dogs/")
    return folders, loose


def class_names_in(root: Path) -> list[str]:
    """The class names a folder gives (its subfolders), from a cached listing."""
    return list(_cached_classes(str(root), os.stat(root).st_mtime_ns))


@functools.lru_cache(maxsize=32)
def _cached_classes(root: str, stamp: int) -> tuple[str, ...]:
    return tuple(d.name for d in _class_folders(Path(root))[0])


def load_image_folder_raw(root: Path, size_hw: tuple[int, int],
                          channels: int) -> tuple[RawSamples, list[str], list[str], list[str]]:
    """Samples (uint8, scale 1/255), class names, the unreadable files (relative paths) and
    notes about what was left out."""
    try:
        from PIL import Image  # noqa: F401  (fail early with a clear message)
    except ImportError as exc:
        raise DatasetError(f"image folders need Pillow, which is not installed ({exc})") from None
    folders, loose = _class_folders(root)
    images: list[np.ndarray] = []
    labels: list[int] = []
    unreadable: list[str] = []
    not_images: list[str] = [f.name for f in loose]
    empty: list[str] = []
    for index, folder in enumerate(folders):
        candidates = []
        for f in _listing(folder):
            if f.suffix.lower() in EXTENSIONS and is_regular(f):
                candidates.append(f)
            else:   # other files, FIFOs, devices, nested folders: named, never opened
                not_images.append(f"{folder.name}/{f.name}" + ("/" if f.is_dir() else ""))
        loaded = 0
        for f in candidates:
            try:
                images.append(_read_image(f, size_hw, channels))
            except Exception:  # Pillow raises many types for bad files (OSError, SyntaxError, ...)
                unreadable.append(f"{folder.name}/{f.name}")
                continue
            labels.append(index)
            loaded += 1
        if not loaded:
            empty.append(folder.name + (f" ({len(candidates)} unreadable)" if candidates else ""))
    if empty:
        where = "class folder" if len(empty) == 1 else "class folders"
        detail = f"; unreadable: {named(unreadable)}" if unreadable else ""
        raise DatasetError(f"image folder '{root.name}': {where} {', '.join(empty)} "
                           f"{'has' if len(empty) == 1 else 'have'} no readable {FORMATS} "
                           f"image{detail} — add images or remove the folder (a class is "
                           f"never left out silently)")
    notes = []
    if unreadable:
        notes.append(f"{len(unreadable):,} unreadable file{'s' if len(unreadable) != 1 else ''} "
                     f"skipped: {named(unreadable)}")
    if not_images:
        notes.append(f"{len(not_images):,} file{'s' if len(not_images) != 1 else ''} that "
                     f"{'are' if len(not_images) != 1 else 'is'} not {FORMATS} image"
                     f"{'s' if len(not_images) != 1 else ''} (or not in a class folder) "
                     f"ignored: {named(not_images)}")
    class_names = [d.name for d in folders]
    if len(class_names) < 2:
        raise DatasetError(f"image folder '{root}' has only one class ('{class_names[0]}'); "
                           f"classification needs at least two class subfolders")
    x = np.stack(images)
    return (RawSamples(x=x, y=np.array(labels, dtype=np.int64), scale=1.0 / 255.0),
            class_names, unreadable, notes)


# --- the declaration ---------------------------------------------------------------------------
def _load(values: dict, common, base_dir):
    from .splits import build_dataset
    root = resolve_path(values["path"], base_dir, want_dir=True)
    size_hw = pair(values["size"])
    raw, class_names, unreadable, notes = load_image_folder_raw(root, size_hw,
                                                                values["channels"])
    skipped_text = f", {len(unreadable)} unreadable skipped" if unreadable else ""
    return build_dataset(raw, common, name=root.name, task="classification",
                         class_names=class_names, skipped=len(unreadable), notes=notes,
                         source=f"image folder '{root.name}' ({len(raw.x):,} images, "
                                f"{len(class_names)} classes{skipped_text})")


def _peek(values: dict, base_dir) -> DataShape:
    root = resolve_path(values["path"], base_dir, want_dir=True)
    h, w = pair(values["size"])
    return DataShape((values["channels"], h, w), "classification",
                     tuple(class_names_in(root)))


def _describe(values: dict) -> str:
    h, w = pair(values["size"])
    color = "color" if values["channels"] == 3 else "gray"
    return (f"image_folder: images in '{shown_path(values['path'])}' resized to {h}×{w} "
            f"{color}")


def _fit(values: dict, shape: tuple[int, ...]) -> dict | None:
    if len(shape) != 3 or shape[0] not in (1, 3) or not all(1 <= d <= 1024 for d in shape[1:]):
        return None
    h, w = shape[1], shape[2]
    return {"size": h if h == w else [h, w], "channels": shape[0]}


register(DatasetKind(
    name="image_folder",
    label="Image folder…",
    summary=f"Your own images, one subfolder per class ({FORMATS})",
    params=(PathParam("path", "", "the folder holding one subfolder of images per class "
                      "(its name is the class name)", required=True, folder=True),
            PairParam("size", 28, "every image is resized to this (an int for square, or "
                      "[height, width])", minimum=1, maximum=1024),
            ChoiceParam("channels", 1, "1 for gray, 3 for color", choices=(1, 3))),
    load=_load, peek=_peek, describe=_describe, fit=_fit,
))
