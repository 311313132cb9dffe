"""A folder of images with one subfolder per class (cats/, dogs/, ...), read with Pillow.

Unreadable files are skipped and counted rather than aborting: a single bad download in a
folder of thousands should not stop a training run.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import DatasetError
from .splits import RawSamples

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp"}


def _resample():
    from PIL import Image
    return getattr(Image, "Resampling", Image).BILINEAR   # Image.Resampling is Pillow >= 9.1


def _read_image(path: Path, size_hw: tuple[int, int], channels: int) -> np.ndarray:
    from PIL import Image
    with Image.open(path) as img:
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


def _class_folders(root: Path) -> list[Path]:
    folders = sorted((d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")),
                     key=lambda d: d.name)
    if not folders:
        loose = sum(1 for f in root.iterdir() if f.suffix.lower() in EXTENSIONS)
        extra = f" (found {loose} image(s) directly in it)" if loose else ""
        raise DatasetError(f"image folder '{root}' has no class subfolders{extra}; expected one "
                           f"subfolder per class, e.g. {root.name}/cats/, {root.name}/dogs/")
    return folders


def load_image_folder_raw(root: Path, size_hw: tuple[int, int],
                          channels: int) -> tuple[RawSamples, list[str], int]:
    """Samples (uint8, scale 1/255), class names, and how many files were skipped as unreadable."""
    try:
        from PIL import Image  # noqa: F401  (fail early with a clear message)
    except ImportError as exc:
        raise DatasetError(f"image folders need Pillow, which is not installed ({exc})") from None
    images: list[np.ndarray] = []
    labels: list[int] = []
    class_names: list[str] = []
    skipped = candidates = 0
    for folder in _class_folders(root):
        files = sorted((f for f in folder.iterdir()
                        if f.is_file() and f.suffix.lower() in EXTENSIONS), key=lambda f: f.name)
        candidates += len(files)
        loaded = []
        for f in files:
            try:
                loaded.append(_read_image(f, size_hw, channels))
            except Exception:  # Pillow raises many types for bad files (OSError, SyntaxError, ...)
                skipped += 1
        if loaded:  # a class whose every file is unreadable would have no samples: leave it out
            labels.extend([len(class_names)] * len(loaded))
            class_names.append(folder.name)
            images.extend(loaded)
    if candidates == 0:
        raise DatasetError(f"image folder '{root}' has no PNG/JPEG/BMP images in its class "
                           f"subfolders")
    if not images:
        raise DatasetError(f"image folder '{root}': none of the {candidates} image files could "
                           f"be read")
    if len(class_names) < 2:
        raise DatasetError(f"image folder '{root}' has readable images for only one class "
                           f"('{class_names[0]}'); classification needs at least two class "
                           f"subfolders")
    x = np.stack(images)
    return RawSamples(x=x, y=np.array(labels, dtype=np.int64), scale=1.0 / 255.0), class_names, skipped
