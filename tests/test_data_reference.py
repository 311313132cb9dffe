"""docs/datasets.md is written from the declarations, and `layerlab datasets` lists them."""
from __future__ import annotations

from pathlib import Path

from layerlab.engine.cli import main
from layerlab.engine.data import DATASET_KINDS, all_kinds
from layerlab.engine.data.reference import dataset_reference_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_docs_datasets_md_is_generated_from_the_declarations():
    """Regenerate with `layerlab datasets --markdown > docs/datasets.md`."""
    text = dataset_reference_markdown()
    assert (ROOT / "docs" / "datasets.md").read_text(encoding="utf-8") == text
    for kind in all_kinds():
        assert f"## `{kind.name}`" in text
        for param in kind.params:
            assert f"| `{param.name}` |" in text and param.help


def test_every_setting_is_declared_with_help_and_a_valid_default():
    for kind in all_kinds():
        assert kind.label and kind.summary and DATASET_KINDS[kind.name] == kind.summary
        for param in kind.all_params:
            assert param.help, (kind.name, param.name)
            try:
                param.check(param.default)
            except ValueError:   # only a required setting (a file) may lack a usable default
                assert param.name in ("path", "target"), (kind.name, param.name)


def test_cli_lists_the_kinds(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert all(kind.name in out for kind in all_kinds()) and "skip_bad_rows" in out
    assert main(["datasets", "--markdown"]) == 0
    assert capsys.readouterr().out == dataset_reference_markdown()


def test_describe_has_no_per_kind_branches():
    """loader.describe reads the declarations; it names no kind (issue 13)."""
    source = (ROOT / "engine" / "data" / "loader.py").read_text(encoding="utf-8")
    body = source[source.index("def describe("):]
    assert not any(f'"{kind.name}"' in body for kind in all_kinds())
