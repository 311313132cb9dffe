"""CSV tables: numeric feature columns and one target column (or several for regression).

Read with the stdlib csv module (no pandas dependency). Every problem is reported with the file
name, the column and the line, because a CSV from a spreadsheet is the most error-prone input.
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from .errors import DatasetError
from .splits import RawSamples

MISSING = {"", "na", "n/a", "nan", "null", "none", "?", "-"}
DELIMITERS = (",", ";", "\t")
MAX_ABS = float(np.finfo(np.float32).max)   # values must survive the float32 tensors
MAX_CLASSES = 1000


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")   # -sig: tolerate Excel's BOM
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path.name}: not UTF-8 text (byte 0x{exc.object[exc.start]:02X} at "
                           f"position {exc.start}); save the CSV as UTF-8") from None
    except OSError as exc:
        raise DatasetError(f"{path.name}: cannot be read ({exc.strerror or exc})") from None


def _pick_delimiter(text: str, delimiter: str) -> str:
    if delimiter != "auto":
        return delimiter
    first = text.lstrip("\r\n").split("\n", 1)[0]
    counts = [(first.count(d), -i, d) for i, d in enumerate(DELIMITERS)]
    best = max(counts)
    return best[2] if best[0] > 0 else ","


def read_rows(path: Path, delimiter: str = "auto") -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header names and (line number, fields) for each non-blank data row."""
    text = _read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_pick_delimiter(text, delimiter))
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if all(not f.strip() for f in row):   # blank lines and Excel's trailing ",,,"
                continue
            if header is None:
                header = [f.strip() for f in row]
            else:
                rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise DatasetError(f"{path.name}: not valid CSV near line {reader.line_num} ({exc})") from None
    if header is None:
        raise DatasetError(f"{path.name}: the file is empty; expected a header row of column "
                           f"names followed by data rows")
    for i, name in enumerate(header):
        if not name:
            raise DatasetError(f"{path.name}: column {i + 1} of the header has no name; "
                               f"every column needs a name")
        if name in header[:i]:
            raise DatasetError(f"{path.name}: two columns are named '{name}'; names must be unique")
    if not rows:
        raise DatasetError(f"{path.name}: has a header but no data rows")
    return header, rows


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and abs(value) <= MAX_ABS else None


def _column_values(path: Path, header: list[str], rows, column: str,
                   numeric: bool, role: str) -> list:
    j = header.index(column)
    out = []
    for line, row in rows:
        text = row[j].strip()
        if text.lower() in MISSING:
            raise DatasetError(f"{path.name}: missing value in column '{column}' at line {line}; "
                               f"fill it in or delete the row")
        if not numeric:
            out.append(text)
            continue
        value = _number(text)
        if value is None:
            hint = (" (numbers must be finite and within ±3.4e38)" if _looks_numeric(text) else
                    f"; {role} columns must hold numbers")
            raise DatasetError(f"{path.name}: column '{column}' is not numeric — line {line} has "
                               f"{text[:40]!r}{hint}")
        out.append(value)
    return out


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _class_indices(labels: list[str]) -> tuple[np.ndarray, list[str]]:
    """Class names sorted numerically when every label is a number, else alphabetically."""
    numbers = [_number(s) for s in labels]
    if all(v is not None for v in numbers):
        names = [str(int(v)) if float(v).is_integer() else str(v) for v in numbers]
        order = sorted(set(zip(numbers, names)))
        class_names = [n for _, n in order]
    else:
        names = labels
        class_names = sorted(set(labels))
    index = {n: i for i, n in enumerate(class_names)}
    return np.array([index[n] for n in names], dtype=np.int64), class_names


def load_csv_raw(path: Path, targets: list[str], task: str, features: list[str] | None,
                 delimiter: str) -> tuple[RawSamples, dict]:
    """Returns the samples and naming info: feature_names, target_names, class_names, source."""
    header, rows = read_rows(path, delimiter)
    for line, row in rows:
        if len(row) != len(header):
            raise DatasetError(f"{path.name}: line {line} has {len(row)} fields; the header has "
                               f"{len(header)} ({', '.join(header[:8])}{', ...' if len(header) > 8 else ''})")
    for name in targets + (features or []):
        if name not in header:
            raise DatasetError(f"{path.name}: no column named '{name}'; the columns are: "
                               f"{', '.join(header)}")
    if features is None:
        features = [c for c in header if c not in targets]
    overlap = [c for c in features if c in targets]
    if overlap:
        raise DatasetError(f"{path.name}: column '{overlap[0]}' is both a feature and the target")
    if not features:
        raise DatasetError(f"{path.name}: no feature columns left besides the target "
                           f"'{', '.join(targets)}'; a model needs at least one input column")

    columns = [_column_values(path, header, rows, c, True, "feature") for c in features]
    x = np.array(columns, dtype=np.float64).T.reshape(len(rows), len(features))
    info = {"feature_names": list(features), "target_names": [], "class_names": []}
    if task == "classification":
        if len(targets) != 1:
            raise DatasetError(f"{path.name}: classification takes one target column; "
                               f"found {len(targets)}: {', '.join(targets)}")
        labels = _column_values(path, header, rows, targets[0], False, "target")
        y, class_names = _class_indices(labels)
        if len(class_names) < 2:
            raise DatasetError(f"{path.name}: target column '{targets[0]}' has only one value "
                               f"({class_names[0]!r}); classification needs at least two classes")
        if len(class_names) > MAX_CLASSES:
            raise DatasetError(f"{path.name}: target column '{targets[0]}' has "
                               f"{len(class_names):,} distinct values; more than {MAX_CLASSES} "
                               f"classes — did you mean task \"regression\"?")
        info["class_names"] = class_names
        what = f"{len(class_names)} classes of {targets[0]}"
    else:
        ys = [_column_values(path, header, rows, t, True, "regression target") for t in targets]
        y = np.array(ys, dtype=np.float64).T.reshape(len(rows), len(targets))
        info["target_names"] = list(targets)
        what = ", ".join(targets)
    info["source"] = (f"{path.name} ({len(rows):,} rows, {len(features)} "
                      f"feature{'s' if len(features) != 1 else ''} → {what})")
    return RawSamples(x=x, y=y), info
