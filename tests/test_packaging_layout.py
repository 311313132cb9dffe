"""The folders install under the layerlab namespace, and pyproject lists every sub-package."""
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAPPING = {"engine": "layerlab.engine", "app": "layerlab.app", "resources": "layerlab.resources"}


def test_every_subpackage_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == {v: k for k, v in MAPPING.items()}
    listed = set(config["packages"])
    found = set()
    for folder, name in MAPPING.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((name,) + rel))
    assert found - listed == set(), "add these to [tool.setuptools] packages"
    assert listed - found == set(), "listed but missing on disk"


def test_generic_folder_names_do_not_leak_into_site_packages(tmp_path):
    """Outside the checkout, `import engine` / `import app` must fail: only layerlab.* exists."""
    import subprocess
    import sys
    for name in ("engine", "app", "resources"):
        result = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=tmp_path,
                                capture_output=True, text=True)
        assert result.returncode != 0 and "No module named" in result.stderr, name
    ok = subprocess.run([sys.executable, "-c", "import layerlab.engine, layerlab.resources"],
                        cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
