"""Classification and regression metrics on numpy arrays (validation predictions are small)."""
from __future__ import annotations

import numpy as np

__all__ = ["confusion_matrix", "per_class_scores", "misclassified_cells", "regression_errors"]


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """(C, C) int64 counts: row = true class, column = predicted class."""
    flat = y_true.astype(np.int64) * num_classes + y_pred.astype(np.int64)
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes)


def per_class_scores(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                     np.ndarray]:
    """precision, recall, F1 (float64, 0 where a class was never predicted / never present)
    and support (true samples per class)."""
    tp = np.diag(confusion).astype(np.float64)
    predicted = confusion.sum(axis=0).astype(np.float64)
    support = confusion.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        denom = precision + recall
        f1 = np.where(denom > 0, 2 * precision * recall / denom, 0.0)
    return precision, recall, f1, support.astype(np.int64)


def misclassified_cells(y_true: np.ndarray, y_pred: np.ndarray,
                        per_cell: int) -> dict[tuple[int, int], np.ndarray]:
    """(true, predicted) → indices of the samples in that off-diagonal cell, first ``per_cell``
    of each, ascending — what the dashboard shows when a cell is clicked."""
    wrong = np.flatnonzero(y_true != y_pred)
    if per_cell <= 0 or wrong.size == 0:
        return {}
    cells: dict[tuple[int, int], np.ndarray] = {}
    keys = y_true[wrong].astype(np.int64), y_pred[wrong].astype(np.int64)
    # Stable sort by cell keeps each cell's indices ascending.
    order = np.lexsort((wrong, keys[1], keys[0]))
    wrong, t, p = wrong[order], keys[0][order], keys[1][order]
    bounds = np.flatnonzero(np.diff(t * (p.max() + 1) + p)) + 1
    for chunk_idx, chunk_t, chunk_p in zip(np.split(wrong, bounds), np.split(t, bounds),
                                           np.split(p, bounds)):
        cells[(int(chunk_t[0]), int(chunk_p[0]))] = chunk_idx[:per_cell].astype(np.int64)
    return cells


def regression_errors(pred: np.ndarray, target: np.ndarray,
                      target_std: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """MAE and RMSE per target column, in real units: the dataset standardizes targets, so
    errors in standardized units are scaled back by the target's std."""
    diff = pred.astype(np.float64) - target.astype(np.float64)
    scale = np.ones(diff.shape[1]) if target_std is None else np.asarray(target_std, np.float64)
    mae = np.abs(diff).mean(axis=0) * scale
    rmse = np.sqrt((diff ** 2).mean(axis=0)) * scale
    return mae, rmse
