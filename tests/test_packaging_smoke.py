"""The real packaging check: build the one-folder app and run it (packaging/smoke.sh).

Slow (3–5 minutes on 2 cores, mostly PyInstaller) — skipped by the default `-m 'not bench
and not slow'`; run it with `python -m pytest -m slow tests/test_packaging_smoke.py`.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.mark.timeout(1800)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="smoke.sh is the Linux build")
def test_smoke_script_builds_and_runs_the_frozen_app():
    pytest.importorskip("PyInstaller")
    if shutil.which("bash") is None:
        pytest.skip("needs bash")
    env = {**os.environ, "PYTHON": sys.executable}
    result = subprocess.run(["bash", str(ROOT / "packaging" / "smoke.sh")], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=1800)
    print(result.stdout[-6000:])
    print(result.stderr[-3000:], file=sys.stderr)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "SMOKE OK" in result.stdout
    for step in ("build", "self-test", "summary-lenet5", "train-digits", "train-python-m",
                 "export-pytorch", "export-onnx-absent"):
        assert any(line.startswith(step) and " ok " in line
                   for line in result.stdout.splitlines()), step
    assert (ROOT / "dist" / "layerlab" / "layerlab").is_file()
