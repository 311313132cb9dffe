"""The README's quick start works on a fresh machine: a venv first, python3 to make it, the
CUDA-wheel warning and the CPU route before the first install, and the same test command as
CI (issue 10)."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def quick_start() -> tuple[str, list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Quick start"):]
    section = section[:section.index("\n## ", 5)]
    commands = [line.split("#")[0].strip() for block in re.findall(r"```bash\n(.*?)```",
                                                                   section, re.S)
                for line in block.splitlines() if line.strip() and not line.startswith("#")]
    return section, commands


def test_a_venv_comes_first_and_is_made_with_python3():
    _, commands = quick_start()
    assert commands[0].startswith("python3 -m venv .venv")
    assert ". .venv/bin/activate" in commands[0]
    assert not any(c.startswith("python3 -m pip") for c in commands)   # in the venv: python


def test_the_cuda_warning_and_the_cpu_route_come_before_the_first_install():
    section, commands = quick_start()
    intro = section[:section.index("```")]
    assert "CUDA" in intro and "CPU" in intro
    installs = [c for c in commands if "pip install" in c]
    assert "--index-url https://download.pytorch.org/whl/cpu" in installs[0]
    assert installs[0].startswith("python -m pip install torch==2.13.0")
    assert all("torch==2.13.0" in c for c in installs)    # never a bare, unpinned torch


def test_ci_runs_the_readme_test_command():
    _, commands = quick_start()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert ci.replace(" -q ", " ") in commands          # CI only installs quietly
