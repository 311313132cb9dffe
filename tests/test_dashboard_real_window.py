"""One real window, driven like a person with the keyboard under Xvfb (slow; run by hand):

    LAYERLAB_TEST_DISPLAY=:54 LAYERLAB_SHOTS=/tmp/shots python -m pytest -m slow \
        tests/test_dashboard_real_window.py

``layerlab a.json`` → Ctrl+T trains (pressed while PyTorch still loads: it starts when ready)
→ the title's * says the weights are unsaved → Ctrl+S saves them beside the project →
Ctrl+O, a typed path + Return opens b.json (nothing of a.json's run on screen) → Ctrl+T
trains it → Ctrl+Q asks about the unsaved weights (Escape: cancel) → Ctrl+S, Ctrl+Q quits.
A screenshot of each step goes to $LAYERLAB_SHOTS (look at them). Needs Xvfb, xdotool and
ImageMagick's ``import``; uses $LAYERLAB_TEST_DISPLAY, else a free display Xvfb picks.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from layerlab.engine import save_project
from layerlab.engine.templates import load_template

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not all(shutil.which(t) for t in ("Xvfb", "xdotool", "import")),
                                 reason="needs Xvfb, xdotool and ImageMagick")]

TIMEOUT_S = 240.0


class Screen:
    """An X display (ours or a fresh Xvfb) and the few xdotool calls the journey needs."""

    def __init__(self, tmp: Path, shots: Path) -> None:
        self.shots = shots
        self.xvfb = None
        display = os.environ.get("LAYERLAB_TEST_DISPLAY")
        if not display:
            read, write = os.pipe()
            self.xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0",
                                          "1600x1000x24", "-nolisten", "tcp"],
                                         pass_fds=(write,), stderr=subprocess.DEVNULL)
            os.close(write)
            with os.fdopen(read) as f:
                display = ":" + f.readline().strip()
        elif subprocess.run(["xdotool", "getmouselocation"], env={**os.environ,
                            "DISPLAY": display}, capture_output=True).returncode != 0:
            self.xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1600x1000x24",
                                          "-nolisten", "tcp"], stderr=subprocess.DEVNULL)
            self.wait(lambda: subprocess.run(["xdotool", "getmouselocation"],
                                             env=self.env(display), capture_output=True
                                             ).returncode == 0, "the X server")
        self.display = display
        self.step = 0

    def env(self, display: str | None = None) -> dict:
        env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        env["DISPLAY"] = display or self.display
        return env

    def xdotool(self, *args: str) -> str:
        out = subprocess.run(["xdotool", *args], env=self.env(), capture_output=True,
                             text=True, timeout=60)
        return out.stdout.strip()

    @staticmethod
    def wait(done, what: str, timeout: float = TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout:g} s for {what}")
            time.sleep(0.2)            # polling another process: no signal to wait on

    def window(self, name: str) -> str:
        found: list[str] = []

        def look() -> bool:
            found[:] = self.xdotool("search", "--onlyvisible", "--name", name).split()
            return bool(found)
        self.wait(look, f"a window named {name!r}")
        return found[-1]

    def title(self, wid: str) -> str:
        return self.xdotool("getwindowname", wid)

    def keys(self, wid: str, *keys: str) -> None:
        self.xdotool("windowfocus", "--sync", wid)
        self.xdotool("key", "--clearmodifiers", *keys)

    def grab(self) -> bytes:
        return subprocess.run(["import", "-window", "root", "-depth", "8", "rgb:-"],
                              env=self.env(), capture_output=True, check=True,
                              timeout=60).stdout

    def shot(self, what: str) -> Path:
        """A screenshot once the screen has settled (two grabs alike: the window has
        repainted what just changed)."""
        self.step += 1
        path = self.shots / f"{self.step:02d}-{what}.png"
        last: list[bytes] = [self.grab()]

        def settled() -> bool:
            now = self.grab()
            same, last[0] = now == last[0], now
            return same
        self.wait(settled, "the screen to settle", timeout=30)
        subprocess.run(["import", "-window", "root", str(path)], env=self.env(), check=True,
                       timeout=60)
        return path

    def close(self) -> None:
        if self.xvfb is not None:
            self.xvfb.terminate()
            self.xvfb.wait(10)


def test_train_save_open_train_quit_with_the_keyboard(tmp_path):
    shots = Path(os.environ.get("LAYERLAB_SHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    digits = load_template("digits_cnn")
    digits.training = {**digits.training, "epochs": 3, "device": "cpu"}
    save_project(digits, a)
    shapes = load_template("shapes_cnn")
    shapes.training = {**shapes.training, "epochs": 2, "device": "cpu"}
    shapes.dataset = {**shapes.dataset, "count": 600}
    save_project(shapes, b)
    home = tmp_path / "home"                           # settings, autosave, log: not the user's
    screen = Screen(tmp_path, shots)
    env = {**screen.env(), "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_DATA_HOME": str(home / "data"), "XDG_STATE_HOME": str(home / "state"),
           "XDG_CACHE_HOME": str(home / "cache")}
    app = subprocess.Popen([sys.executable, "-m", "layerlab.app.launcher", str(a)], env=env,
                           cwd=tmp_path)
    try:
        wid = screen.window("a.json")
        screen.shot("opened-a")
        screen.xdotool("mousemove", "--window", wid, "700", "300", "click", "1")
        screen.keys(wid, "ctrl+t")                     # at once: starts when PyTorch is ready
        screen.wait(lambda: "a.json*" in screen.title(wid), "the run on a.json to end")
        screen.shot("trained-a")                       # * : the trained weights are unsaved
        screen.keys(wid, "ctrl+s")
        screen.wait(lambda: (tmp_path / "a-run" / "checkpoint" / "weights.safetensors")
                    .is_file() and "a.json*" not in screen.title(wid), "a.json's weights saved")
        screen.shot("saved-a")

        screen.keys(wid, "ctrl+o")
        dialog = screen.window("Open project")
        screen.shot("open-dialog")
        screen.xdotool("windowfocus", "--sync", dialog)
        screen.xdotool("type", "--delay", "15", str(b))
        screen.xdotool("key", "Return")
        screen.wait(lambda: "b.json" in screen.title(wid) and not screen.xdotool(
            "search", "--onlyvisible", "--name", "Open project"), "b.json to open")
        screen.shot("opened-b")                        # nothing of a.json's run on screen
        screen.keys(wid, "ctrl+t")
        screen.wait(lambda: "b.json*" in screen.title(wid), "the run on b.json to end")
        screen.shot("trained-b")

        screen.keys(wid, "ctrl+q")                     # the weights are unsaved: asked
        question = screen.window("Unsaved changes")
        screen.shot("quit-asks")
        screen.xdotool("windowfocus", "--sync", question)
        screen.xdotool("key", "Escape")                # Cancel: still open
        screen.wait(lambda: not screen.xdotool("search", "--onlyvisible", "--name",
                                               "Unsaved changes"), "the question to close")
        assert app.poll() is None
        screen.keys(wid, "ctrl+s")
        screen.wait(lambda: (tmp_path / "b-run" / "checkpoint" / "weights.safetensors")
                    .is_file() and "b.json*" not in screen.title(wid), "b.json's weights saved")
        screen.keys(wid, "ctrl+q")
        app.wait(TIMEOUT_S)
        assert app.returncode == 0
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(10)
        screen.close()
