"""CIFAR-10 "python version" batches, unpickled with an allow-list.

The batches are pickles, and a plain ``pickle.load`` runs whatever callable the file names.
The unpickler below resolves only the numpy names an ndarray needs; anything else (os.system,
builtins.eval, ...) is refused before it can be called.
"""
from __future__ import annotations

import functools
import pickle
import re
from pathlib import Path

import numpy as np

from ..params import PathParam
from .errors import DatasetError
from .kinds import DataShape, DatasetKind, register
from .paths import check_regular, is_regular, resolve_path, shown_path
from .splits import RawSamples

CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer",
               "dog", "frog", "horse", "ship", "truck"]
PIXELS = 3 * 32 * 32


def _reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct as fn   # numpy >= 2
    except ImportError:
        from numpy.core.multiarray import _reconstruct as fn    # numpy 1.x
    return fn


# The real files were written by Python 2 with numpy 1 (numpy.core...); numpy 2 pickles say
# numpy._core. Both names map to the same function, imported without the numpy.core shim.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
}


#: Pickle opcodes that make byte arrays or out-of-band buffers (protocol 5): no CIFAR batch
#: (written by Python 2) holds one. Fuzzed bytes using them once left CPython's unpickler a
#: SystemError ("deallocated bytearray object has exported buffers") pending for whatever
#: Python code ran next; a file using them is refused before it is unpickled.
_BUFFER_OPS = frozenset({"BYTEARRAY8", "NEXT_BUFFER", "READONLY_BUFFER"})


def _refuse_buffers(file, name: str) -> None:
    """Read the opcodes of ``file`` (then rewind it); DatasetError if one makes a buffer."""
    import pickletools
    for op, _arg, _pos in pickletools.genops(file):
        if op.name in _BUFFER_OPS:
            raise DatasetError(f"{name}: refused — the pickle holds byte arrays or buffers "
                               f"({op.name}), which a CIFAR batch never does")
    file.seek(0)


class SafeUnpickler(pickle.Unpickler):
    def __init__(self, file, name: str):
        super().__init__(file, encoding="bytes")   # Python 2 str keys/values load as bytes
        self._name = name

    def find_class(self, module: str, name: str):
        factory = _ALLOWED.get((module, name))
        if factory is None:
            raise DatasetError(f"{self._name}: refused — the pickle asks for '{module}.{name}', "
                               f"which a CIFAR batch never needs (only numpy arrays are allowed)")
        return factory()


def load_pickle(path: Path):
    check_regular(path)
    try:
        with open(path, "rb") as f:
            _refuse_buffers(f, path.name)
            return SafeUnpickler(f, path.name).load()
    except DatasetError:
        raise
    except Exception as exc:  # arbitrary bytes can make unpickling raise nearly anything
        # The exception's type only: its text can quote bytes of the file.
        raise DatasetError(f"{path.name}: not a readable CIFAR pickle "
                           f"({type(exc).__name__})") from None


def _get(batch, key: str):
    if not isinstance(batch, dict):
        return None
    return batch.get(key.encode(), batch.get(key))


def _load_batch(path: Path, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    batch = load_pickle(path)
    if not isinstance(batch, dict):
        raise DatasetError(f"{path.name}: expected a dict with 'data' and 'labels'; found "
                           f"{type(batch).__name__}")
    data, labels = _get(batch, "data"), _get(batch, "labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != PIXELS:
        found = (f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray)
                 else type(data).__name__)
        raise DatasetError(f"{path.name}: 'data' must be a uint8 array of shape (N, {PIXELS}); "
                           f"found {found}")
    try:
        y = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError, OverflowError):
        raise DatasetError(f"{path.name}: 'labels' must be a list of whole numbers; found "
                           f"{type(labels).__name__}") from None
    if len(y) != len(data):
        raise DatasetError(f"{path.name}: holds {len(data):,} images but {len(y):,} labels")
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise DatasetError(f"{path.name}: labels must be 0..{num_classes - 1}; found "
                           f"{int(y.min())}..{int(y.max())}")
    return data.reshape(-1, 3, 32, 32), y


def _label_names(folder: Path) -> list[str]:
    meta = folder / "batches.meta"
    if not meta.exists():
        return list(CLASS_NAMES)
    names = _get(load_pickle(meta), "label_names")
    if not isinstance(names, list) or not names or \
            not all(isinstance(n, (bytes, str)) for n in names):
        raise DatasetError(f"{meta.name}: 'label_names' must be a list of names")
    return [n.decode("utf-8", "replace") if isinstance(n, bytes) else n for n in names]


def load_cifar_raw(folder: Path) -> tuple[RawSamples, list[str]]:
    # Accept the folder the archive unpacks into, or its parent.
    if (folder / "cifar-10-batches-py").is_dir():
        folder = folder / "cifar-10-batches-py"
    batches = sorted((p for p in folder.iterdir() if re.fullmatch(r"data_batch_\d+", p.name)),
                     key=lambda p: int(p.name.rsplit("_", 1)[1]))
    if not batches:
        raise DatasetError(f"CIFAR-10 folder '{folder}': no data_batch_1 … data_batch_5 files found")
    if (folder / "test_batch").exists():
        batches.append(folder / "test_batch")
    class_names = _label_names(folder)
    parts = [_load_batch(p, len(class_names)) for p in batches]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    return RawSamples(x=x, y=y, scale=1.0 / 255.0), class_names


# --- the declaration ---------------------------------------------------------------------------
def _folder(values: dict, base_dir) -> Path:
    folder = resolve_path(values["path"], base_dir, want_dir=True)
    return folder / "cifar-10-batches-py" if (folder / "cifar-10-batches-py").is_dir() else folder


def _load(values: dict, common, base_dir):
    from .splits import build_dataset
    folder = _folder(values, base_dir)
    raw, class_names = load_cifar_raw(folder)
    return build_dataset(raw, common, name="cifar10", task="classification",
                         class_names=class_names,
                         source=f"CIFAR-10 batches in '{folder.name}' ({len(raw.x):,} images)")


@functools.lru_cache(maxsize=16)
def _cached_names(folder: str, stamp: tuple) -> tuple[str, ...]:
    return tuple(_label_names(Path(folder)))


def _peek(values: dict, base_dir) -> DataShape:
    folder = _folder(values, base_dir)
    if not is_regular(folder / "data_batch_1"):
        raise DatasetError(f"CIFAR-10 folder '{folder}': no data_batch_1 … data_batch_5 files "
                           f"found")
    meta = folder / "batches.meta"
    stamp = (meta.stat().st_mtime_ns, meta.stat().st_size) if meta.exists() else None
    return DataShape((3, 32, 32), "classification", _cached_names(str(folder), stamp))


def _describe(values: dict) -> str:
    return f"cifar10: CIFAR-10 batches in '{shown_path(values['path'])}'"


register(DatasetKind(
    name="cifar10",
    label="CIFAR-10 folder…",
    summary="CIFAR-10 python batches from a folder (32×32 color, 10 classes)",
    params=(PathParam("path", "", "the folder cifar-10-batches-py (or the one holding it), "
                      "with data_batch_1 … data_batch_5", required=True, folder=True),),
    load=_load, peek=_peek, describe=_describe,
))
