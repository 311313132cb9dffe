"""Writes driving_test.csv: a made-up table of learner drivers and whether they passed.

Run from the repository root: ``python resources/data/generate_driving_test.py``. The table
is deterministic (numpy's PCG64 with a fixed seed, using only ``random()``, whose stream numpy
keeps stable across versions); tests/test_lessons_data.py checks that the committed file is
exactly what this script writes. The rule behind the labels is in resources/data/README.md.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

SEED = 20240612
ROWS = 400
HEADER = "age,lessons,practice_hours,passed"


def rows(seed: int = SEED, n: int = ROWS) -> list[str]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        age = 17 + int(rng.random() * 54)               # 17 to 70
        lessons = int(rng.random() * 41)                # 0 to 40 lessons with an instructor
        hours = round(float(rng.random()) * 60, 1)      # 0 to 60 hours of practice driving
        score = -5.0 + 0.16 * lessons + 0.07 * hours - 0.025 * (age - 17)
        chance = 1.0 / (1.0 + math.exp(-1.6 * score))
        passed = int(rng.random() < chance)
        out.append(f"{age},{lessons},{hours:g},{passed}")
    return out


def text() -> str:
    return "\n".join([HEADER, *rows()]) + "\n"


if __name__ == "__main__":
    path = Path(__file__).with_name("driving_test.csv")
    path.write_text(text(), encoding="utf-8")
    print(f"wrote {path} ({ROWS} rows)")
