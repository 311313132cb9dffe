"""MNIST / Fashion-MNIST IDX files, parsed by hand (big-endian header, then raw values).

IDX layout: two zero bytes, a type code, the number of dimensions, one big-endian uint32 per
dimension, then the values row-major. Files may be gzip-compressed (detected by content).
"""
from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from ..params import PathParam, TextListParam
from .errors import DatasetError
from .kinds import DataShape, DatasetKind, register
from .paths import check_regular, is_regular, resolve_path, shown_path
from .splits import RawSamples

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IMAGES_MAGIC = 0x00000803   # unsigned bytes, 3 dimensions (count, rows, cols)
LABELS_MAGIC = 0x00000801   # unsigned bytes, 1 dimension (count)
MAX_DIMS = 8
MAX_BYTES = 2**31           # refuse gzip bombs; MNIST's largest file is 47 MB
GZIP_MAGIC = b"\x1f\x8b"


def parse_idx(data: bytes, name: str) -> np.ndarray:
    """Array from IDX bytes; any malformation is a DatasetError naming ``name``."""
    if len(data) < 4:
        raise DatasetError(f"{name}: {len(data)} bytes is too short for an IDX header "
                           f"(expected at least 4)")
    if data[0] != 0 or data[1] != 0 or data[2] not in IDX_TYPES:
        # Not an IDX header at all: say so without echoing the file's first bytes.
        raise DatasetError(f"{name}: not an IDX file — it does not start with an IDX header "
                           f"(0x{IMAGES_MAGIC:08X} for images, 0x{LABELS_MAGIC:08X} for labels)")
    ndim = data[3]
    if not 1 <= ndim <= MAX_DIMS:
        raise DatasetError(f"{name}: the header declares {ndim} dimensions; expected 1 to {MAX_DIMS}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{name}: truncated header — {len(data)} bytes, but {ndim} "
                           f"dimensions need {header}")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(IDX_TYPES[data[2]])
    count = 1
    for d in dims:
        count *= d
    expected, found = count * dtype.itemsize, len(data) - header
    if found < expected:
        raise DatasetError(f"{name}: truncated — the header promises {' × '.join(map(str, dims))} "
                           f"values ({expected:,} bytes) but only {found:,} bytes follow")
    if found > expected:
        raise DatasetError(f"{name}: {found - expected:,} unexpected bytes after the "
                           f"{' × '.join(map(str, dims))} values the header declares")
    return np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(dims)


def read_bytes(path: Path) -> bytes:
    """File contents, gunzipped when the file is gzip (whatever its extension)."""
    check_regular(path)
    try:
        with open(path, "rb") as f:
            head = f.read(2)
            f.seek(0)
            if head != GZIP_MAGIC:
                return f.read()
            with gzip.GzipFile(fileobj=f) as gz:
                data = gz.read(MAX_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise DatasetError(f"{path.name}: cannot be read as gzip ({exc})") from None
    if len(data) > MAX_BYTES:
        raise DatasetError(f"{path.name}: decompresses to more than {MAX_BYTES:,} bytes; "
                           f"not an MNIST file")
    return data


def _expect(arr_data: bytes, name: str, magic: int, what: str) -> np.ndarray:
    arr = parse_idx(arr_data, name)
    found = int.from_bytes(arr_data[:4], "big")
    if found != magic:
        raise DatasetError(f"{name}: magic number 0x{found:08X}; expected 0x{magic:08X} ({what})")
    return arr


def _find(folder: Path, prefix: str, kind: str) -> Path | None:
    base = {"images": "idx3-ubyte", "labels": "idx1-ubyte"}[kind]
    for stem in (f"{prefix}-{kind}-{base}", f"{prefix}-{kind}.{base}"):  # both spellings circulate
        for name in (stem, stem + ".gz"):
            if is_regular(folder / name):
                return folder / name
    return None


def _load_pair(images_path: Path, labels_path: Path,
               num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    images = _expect(read_bytes(images_path), images_path.name, IMAGES_MAGIC,
                     "unsigned-byte images: count × rows × columns")
    labels = _expect(read_bytes(labels_path), labels_path.name, LABELS_MAGIC,
                     "unsigned-byte labels: count")
    if len(images) != len(labels):
        raise DatasetError(f"{images_path.name} holds {len(images):,} images but "
                           f"{labels_path.name} holds {len(labels):,} labels; they must match")
    if len(images) == 0 or images.shape[1] == 0 or images.shape[2] == 0:
        raise DatasetError(f"{images_path.name}: holds no image data (shape "
                           f"{' × '.join(map(str, images.shape))})")
    if labels.max() >= num_classes:
        bad = int(np.argmax(labels >= num_classes))
        raise DatasetError(f"{labels_path.name}: label {int(labels[bad])} at position {bad} is "
                           f"outside 0..{num_classes - 1} (there are {num_classes} class names)")
    return images, labels.astype(np.int64)


def load_mnist_raw(folder: Path, num_classes: int) -> tuple[RawSamples, int]:
    """Train files, plus t10k appended when present; returns samples and the image count."""
    parts = []
    for prefix in ("train", "t10k"):
        images, labels = _find(folder, prefix, "images"), _find(folder, prefix, "labels")
        if images is None and labels is None and prefix == "t10k":
            continue
        if images is None or labels is None:
            missing = f"{prefix}-{'images-idx3' if images is None else 'labels-idx1'}-ubyte"
            raise DatasetError(f"MNIST folder '{folder}': {missing} (or {missing}.gz) not found "
                               f"— the folder needs train-images-idx3-ubyte and "
                               f"train-labels-idx1-ubyte as they come from the MNIST site "
                               f"(t10k-… files are added when present)")
        parts.append((images, _load_pair(images, labels, num_classes)))
    (first_path, (x0, _)) = parts[0]
    for path, (x, _) in parts[1:]:
        if x.shape[1:] != x0.shape[1:]:
            raise DatasetError(f"{path.name}: images are {x.shape[1]}×{x.shape[2]} but "
                               f"{first_path.name} has {x0.shape[1]}×{x0.shape[2]}")
    x = np.concatenate([p[1][0] for p in parts])[:, None, :, :]
    y = np.concatenate([p[1][1] for p in parts])
    return RawSamples(x=x, y=y, scale=1.0 / 255.0), len(x)


# --- the declaration ---------------------------------------------------------------------------
def image_size(folder: Path) -> tuple[int, int]:
    """Rows and columns from the train images' header (16 bytes; gzip streamed)."""
    path = _find(folder, "train", "images")
    if path is None:
        raise DatasetError(f"MNIST folder '{folder}': train-images-idx3-ubyte (or .gz) not found")
    check_regular(path)
    try:
        with open(path, "rb") as f:
            head = f.read(2)
            f.seek(0)
            data = gzip.GzipFile(fileobj=f).read(16) if head == GZIP_MAGIC else f.read(16)
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path.name}: cannot be read ({type(exc).__name__})") from None
    if len(data) < 16 or int.from_bytes(data[:4], "big") != IMAGES_MAGIC:
        raise DatasetError(f"{path.name}: not an IDX image file (expected the header "
                           f"0x{IMAGES_MAGIC:08X} followed by count, rows and columns)")
    rows, cols = struct.unpack(">II", data[8:16])
    return rows, cols


def _class_names(values: dict) -> list[str]:
    return values["class_names"] or [str(d) for d in range(10)]


def _load(values: dict, common, base_dir):
    from .splits import build_dataset
    folder = resolve_path(values["path"], base_dir, want_dir=True)
    class_names = _class_names(values)
    raw, count = load_mnist_raw(folder, len(class_names))
    return build_dataset(raw, common, name=folder.name, task="classification",
                         class_names=class_names,
                         source=f"IDX files in '{folder.name}' ({count:,} images)")


def _peek(values: dict, base_dir) -> DataShape:
    folder = resolve_path(values["path"], base_dir, want_dir=True)
    rows, cols = image_size(folder)
    return DataShape((1, rows, cols), "classification", tuple(_class_names(values)))


def _describe(values: dict) -> str:
    return f"mnist_idx: IDX files in '{shown_path(values['path'])}'"


register(DatasetKind(
    name="mnist_idx",
    label="MNIST IDX folder…",
    summary="MNIST or Fashion-MNIST IDX files from a folder (28×28 gray, 10 classes)",
    params=(PathParam("path", "", "the folder with train-images-idx3-ubyte and "
                      "train-labels-idx1-ubyte (.gz or not)", required=True, folder=True),
            TextListParam("class_names", None, "names for the labels 0, 1, …, e.g. "
                          "T-shirt, Trouser, … for Fashion-MNIST (digits when not set)")),
    load=_load, peek=_peek, describe=_describe,
))
