"""The data the lessons ship with: the generated driving-test table is what its script writes,
and every lesson file is package data (it lands in the wheel)."""
from __future__ import annotations

import csv
import fnmatch
import importlib.util
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "resources" / "data"


def test_driving_test_csv_is_what_its_generator_writes():
    spec = importlib.util.spec_from_file_location("generate_driving_test",
                                                  DATA / "generate_driving_test.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (DATA / "driving_test.csv").read_text(encoding="utf-8") == module.text()
    rows = list(csv.DictReader((DATA / "driving_test.csv").open(encoding="utf-8")))
    assert len(rows) == 400 and {r["passed"] for r in rows} == {"0", "1"}
    assert "driving_test.csv" in (DATA / "README.md").read_text(encoding="utf-8")


def test_every_lesson_file_is_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = config["package-data"]["layerlab.resources"]
    lessons = sorted((ROOT / "resources" / "lessons").iterdir())
    assert lessons
    for path in lessons + [DATA / "driving_test.csv"]:
        rel = path.relative_to(ROOT / "resources").as_posix()
        assert any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(rel, p.replace("**/", ""))
                   for p in patterns), f"{rel} would not ship in the wheel"
