"""CSV tables: numeric feature columns and one target column (or several for regression).

Read with the stdlib csv module (no pandas dependency). Every problem is reported with the file
name, the column and the line, because a CSV from a spreadsheet is the most error-prone input:
all bad rows at once (the first few listed, then a count), never only the first, and
``skip_bad_rows`` trains on the good ones, saying how many were left out. Messages describe a
bad value ("is not a number", "uses a decimal comma") without quoting it: the file may not be
a table at all, and its lines are nobody's business in an error message.
"""
from __future__ import annotations

import csv
import functools
import io
import math
import os
import re
from pathlib import Path

import numpy as np

from ..params import BoolParam, ChoiceParam, ColumnParam, PathParam
from .errors import DatasetError
from .kinds import DataShape, DatasetKind, register
from .paths import check_regular, resolve_path, shown_path
from .splits import RawSamples

MISSING = {"", "na", "n/a", "nan", "null", "none", "?", "-"}
DELIMITERS = (",", ";", "\t")
MAX_ABS = float(np.finfo(np.float32).max)   # values must survive the float32 tensors
MAX_CLASSES = 1000
MAX_BYTES = 1 << 30          # a CSV is read into memory whole
LISTED = 8                   # bad rows named in a message; the rest are counted
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


def _read_text(path: Path, limit: int | None = None) -> str:
    check_regular(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1 if limit is None else limit)
    except OSError as exc:
        raise DatasetError(f"{path.name}: cannot be read ({exc.strerror or exc})") from None
    if limit is None and len(data) > MAX_BYTES:
        raise DatasetError(f"{path.name}: larger than {MAX_BYTES >> 20:,} MB; LayerLab reads a "
                           f"CSV into memory — use a sample of it")
    try:
        return data.decode("utf-8-sig")   # -sig: tolerate Excel's BOM
    except UnicodeDecodeError as exc:
        if limit is not None and exc.start >= len(data) - 3:   # a character cut at the limit
            return data[:exc.start].decode("utf-8-sig")
        raise DatasetError(f"{path.name}: not UTF-8 text (byte 0x{exc.object[exc.start]:02X} at "
                           f"position {exc.start}); save the CSV as UTF-8") from None


def _pick_delimiter(text: str, delimiter: str) -> str:
    if delimiter != "auto":
        return delimiter
    first = text.lstrip("\r\n").split("\n", 1)[0]
    counts = [(first.count(d), -i, d) for i, d in enumerate(DELIMITERS)]
    best = max(counts)
    return best[2] if best[0] > 0 else ","


def _plausible(header: list[str]) -> bool:
    """Does the header look like a table's column names (so naming them helps)? A file that is
    not a CSV reads as one long "column name": that is not repeated back."""
    return len(header) >= 2 and all(len(n) <= 40 and n.isprintable() for n in header)


def column_text(header: list[str], name: str) -> str:
    """A column in a message: its name when the header is plausible, else its number."""
    return f"'{name}'" if _plausible(header) else f"{header.index(name) + 1}"


def columns_text(header: list[str]) -> str:
    if _plausible(header):
        shown = ", ".join(header[:LISTED]) + (", …" if len(header) > LISTED else "")
        return f"the columns are: {shown}"
    if len(header) == 1:
        return ("the first line has a single column — no comma, semicolon or tab separates "
                "column names, so this may not be a CSV table")
    return f"the header has {len(header)} columns, which do not look like column names"


def _parse(path: Path, text: str, delimiter: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
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
            what = f"'{name}'" if _plausible(header) else f"{i + 1} and {header.index(name) + 1}"
            raise DatasetError(f"{path.name}: two columns are named alike ({what}); names "
                               f"must be unique")
    return header, rows


def read_rows(path: Path, delimiter: str = "auto") -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header names and (line number, fields) for each non-blank data row."""
    header, rows = _parse(path, _read_text(path), delimiter)
    if not rows:
        raise DatasetError(f"{path.name}: has a header but no data rows")
    return header, rows


def read_header(path: Path, delimiter: str = "auto") -> list[str]:
    """The header row only (the first 64 KB are read): what a picker of columns needs."""
    text = _read_text(path, limit=1 << 16)
    first = text.lstrip("\r\n").split("\n", 1)[0]
    return _parse(path, first + "\n", delimiter)[0]


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and abs(value) <= MAX_ABS else None


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _not_a_number(text: str) -> str:
    """Why a cell is not usable as a number, in words, without quoting it."""
    if _looks_numeric(text):
        return "is not a finite number within ±3.4e38"
    if _DECIMAL_COMMA.match(text):
        return "uses a decimal comma (write 12.5, not 12,5)"
    return "is not a number"


def _check_rows(header: list[str], rows, numeric: list[str],
                labels: list[str]) -> tuple[list[int], list[str]]:
    """Indices of the rows that are bad, and what is wrong with each (one sentence per row)."""
    need = [(header.index(c), c, True) for c in numeric] + \
           [(header.index(c), c, False) for c in labels]
    bad, reasons = [], []
    for i, (line, row) in enumerate(rows):
        reason = None
        if len(row) != len(header):
            reason = f"line {line} has {len(row)} fields; the header has {len(header)}"
        else:
            for j, name, is_number in need:
                text = row[j].strip()
                if text.lower() in MISSING:
                    reason = f"line {line}: no value in column {column_text(header, name)}"
                elif is_number and _number(text) is None:
                    reason = (f"line {line}: column {column_text(header, name)} "
                              f"{_not_a_number(text)}")
                if reason:
                    break
        if reason:
            bad.append(i)
            reasons.append(reason)
    return bad, reasons


def _bad_rows_error(path: Path, total: int, reasons: list[str]) -> DatasetError:
    n = len(reasons)
    listed = "; ".join(reasons[:LISTED]) + (f"; and {n - LISTED:,} more" if n > LISTED else "")
    rows = f"{n:,} of its {total:,} rows {'is' if n == 1 else 'are'}"
    return DatasetError(f"{path.name}: {rows} not usable — {listed}. Fix them in the file, or "
                        f"skip the bad rows (dataset.skip_bad_rows)",
                        fix={"skip_bad_rows": True},
                        fix_label=f"Skip the {n:,} bad row{'s' if n != 1 else ''}")


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


def _columns(path: Path, header: list[str], targets: list[str],
             features: list[str] | None) -> list[str]:
    for name in targets + (features or []):
        if name not in header:
            raise DatasetError(f"{path.name}: no column named '{name}'; {columns_text(header)}")
    if features is None:
        features = [c for c in header if c not in targets]
    overlap = [c for c in features if c in targets]
    if overlap:
        raise DatasetError(f"{path.name}: column '{overlap[0]}' is both a feature and the target")
    if not features:
        raise DatasetError(f"{path.name}: no feature columns left besides the target "
                           f"'{', '.join(targets)}'; a model needs at least one input column")
    return features


def load_csv_raw(path: Path, targets: list[str], task: str, features: list[str] | None,
                 delimiter: str, skip_bad_rows: bool = False) -> tuple[RawSamples, dict]:
    """Returns the samples and naming info: feature_names, target_names, class_names, source,
    notes."""
    header, rows = read_rows(path, delimiter)
    features = _columns(path, header, targets, features)
    if task == "classification" and len(targets) != 1:
        raise DatasetError(f"{path.name}: classification takes one target column; "
                           f"found {len(targets)}: {', '.join(targets)}")
    numeric = features + (targets if task == "regression" else [])
    labels_col = targets if task == "classification" else []
    bad, reasons = _check_rows(header, rows, numeric, labels_col)
    notes = []
    if bad:
        if not skip_bad_rows or len(bad) == len(rows):
            if skip_bad_rows:
                raise DatasetError(f"{path.name}: none of its {len(rows):,} rows is usable — "
                                   + "; ".join(reasons[:LISTED]))
            raise _bad_rows_error(path, len(rows), reasons)
        lines = ", ".join(str(rows[i][0]) for i in bad[:LISTED])
        notes.append(f"{len(bad):,} bad row{'s' if len(bad) != 1 else ''} of {path.name} "
                     f"skipped (line{'s' if len(bad) != 1 else ''} {lines}"
                     f"{', …' if len(bad) > LISTED else ''})")
        dropped = set(bad)
        rows = [r for i, r in enumerate(rows) if i not in dropped]

    def column(name: str) -> list[str]:
        j = header.index(name)
        return [row[j].strip() for _, row in rows]

    x = np.array([[float(v) for v in column(c)] for c in features],
                 dtype=np.float64).T.reshape(len(rows), len(features))
    info = {"feature_names": list(features), "target_names": [], "class_names": [],
            "notes": notes}
    if task == "classification":
        y, class_names = _class_indices(column(targets[0]))
        if len(class_names) < 2:
            raise DatasetError(f"{path.name}: target column '{targets[0]}' has only one value; "
                               f"classification needs at least two classes")
        if len(class_names) > MAX_CLASSES:
            raise DatasetError(f"{path.name}: target column '{targets[0]}' has "
                               f"{len(class_names):,} distinct values; more than {MAX_CLASSES} "
                               f"classes — did you mean task \"regression\"?")
        info["class_names"] = class_names
        what = f"{len(class_names)} classes of {targets[0]}"
    else:
        y = np.array([[float(v) for v in column(t)] for t in targets],
                     dtype=np.float64).T.reshape(len(rows), len(targets))
        info["target_names"] = list(targets)
        what = ", ".join(targets)
    info["source"] = (f"{path.name} ({len(rows):,} rows, {len(features)} "
                      f"feature{'s' if len(features) != 1 else ''} → {what})")
    return RawSamples(x=x, y=y), info


# --- the declaration ---------------------------------------------------------------------------
def _targets(values: dict) -> list[str]:
    target = values["target"]
    return [target] if isinstance(target, str) else list(target)


def _load(values: dict, common, base_dir):
    from .splits import build_dataset
    path = resolve_path(values["path"], base_dir, want_dir=False)
    raw, info = load_csv_raw(path, _targets(values), values["task"], values["features"],
                             values["delimiter"], values["skip_bad_rows"])
    return build_dataset(raw, common, name=path.stem, task=values["task"],
                         class_names=info["class_names"], feature_names=info["feature_names"],
                         target_names=info["target_names"], source=info["source"],
                         notes=info["notes"])


@functools.lru_cache(maxsize=32)
def _peek_cached(*key) -> DataShape | DatasetError:
    """The peek, or the error it raised: a bad file is read once per change, not per edit."""
    try:
        return _peek_file(*key)
    except DatasetError as exc:
        return exc


def _peek_file(path: str, stamp: tuple, targets: tuple, task: str, features: tuple | None,
               delimiter: str, skip: bool) -> DataShape:
    file = Path(path)
    if task == "regression":   # the header says it all
        header = read_header(file, delimiter)
        used = _columns(file, header, list(targets), list(features) if features else None)
        return DataShape((len(used),), task, target_names=targets)
    raw, info = load_csv_raw(file, list(targets), task, list(features) if features else None,
                             delimiter, skip)
    return DataShape((raw.x.shape[1],), task, class_names=tuple(info["class_names"]),
                     samples=len(raw.x))


def _peek(values: dict, base_dir) -> DataShape:
    path = resolve_path(values["path"], base_dir, want_dir=False)
    st = os.stat(path)
    features = tuple(values["features"]) if values["features"] else None
    found = _peek_cached(str(path), (st.st_mtime_ns, st.st_size), tuple(_targets(values)),
                         values["task"], features, values["delimiter"], values["skip_bad_rows"])
    if isinstance(found, DatasetError):
        raise DatasetError(str(found), fix=found.fix, fix_label=found.fix_label)
    return found


def _describe(values: dict) -> str:
    return (f"csv: {Path(shown_path(values['path'])).name} → {', '.join(_targets(values))} "
            f"({values['task']})")


register(DatasetKind(
    name="csv",
    label="CSV table…",
    summary="A table from a CSV file: predict one column from the numeric others",
    params=(PathParam("path", "", "the CSV file: a header row of column names, then one row "
                      "per sample", required=True),
            ColumnParam("target", None, "the column to predict (a list of columns for "
                        "regression)", allow_list=True),
            ChoiceParam("task", "regression", "predict a number (regression) or a class "
                        "(classification: one class per distinct value)",
                        choices=("regression", "classification")),
            ColumnParam("features", None, "the input columns (numbers); all other columns when "
                        "not set", multiple=True),
            ChoiceParam("delimiter", "auto", "what separates the fields; auto looks at the "
                        "first line", choices=("auto",) + DELIMITERS,
                        labels=("auto", "comma", "semicolon", "tab")),
            BoolParam("skip_bad_rows", False, "train on the good rows when some rows have "
                      "missing or non-numeric values (they are counted and named)")),
    load=_load, peek=_peek, describe=_describe,
    advanced=("delimiter",),
))
