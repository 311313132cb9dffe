"""Atomic writes leave no litter: temporary files of interrupted saves are cleaned up by the
next save to the folder — only our own pattern, only when their writer is gone."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings, strategies as st

from layerlab.engine.fileio import (STALE_AFTER_S, atomic_write_text, clean_stale_temp_files)


def dead_pid() -> int:
    """The pid of a process that has ended (a short child, waited for)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.skipif(sys.platform == "win32", reason="liveness of a pid is told on POSIX")
def test_a_save_removes_temp_files_left_by_killed_writers(tmp_path):
    gone = dead_pid()
    orphans = [tmp_path / f".net.json.{gone}.{i:08x}.tmp" for i in range(130)]
    for orphan in orphans:
        orphan.write_text("half a project")
    live = tmp_path / f".net.json.{os.getppid()}.0000abcd.tmp"    # a live writer's file
    live.write_text("being written")
    foreign = [tmp_path / "notes.tmp", tmp_path / ".net.json.tmp",
               tmp_path / f".other.{gone}.nothex!.tmp", tmp_path / "net.json.1.00000000.tmp"]
    for f in foreign:
        f.write_text("not ours")
    atomic_write_text(tmp_path / "net.json", "{}")
    assert (tmp_path / "net.json").read_text() == "{}"
    assert not any(o.exists() for o in orphans)
    assert live.exists() and all(f.exists() for f in foreign)


def test_old_temp_files_are_stale_whoever_made_them(tmp_path):
    old = tmp_path / f".a.csv.{os.getppid()}.12345678.tmp"
    mine = tmp_path / f".a.csv.{os.getpid()}.12345678.tmp"   # this process: maybe writing now
    for f in (old, mine):
        f.write_text("x")
    later = time.time() + STALE_AFTER_S + 60
    assert clean_stale_temp_files(tmp_path, now=later) == [old]
    assert mine.exists()


def test_cleaning_an_unreadable_folder_never_raises(tmp_path):
    assert clean_stale_temp_files(tmp_path / "missing") == []


@settings(max_examples=60, deadline=None)
@given(names=st.lists(st.text(alphabet=".abc0123456789tmpx", min_size=1, max_size=24),
                      max_size=12, unique=True))
def test_only_our_exact_pattern_is_ever_removed(tmp_path_factory, names):
    folder = tmp_path_factory.mktemp("litter")
    made = []
    for name in names:
        if name in (".", ".."):
            continue
        (folder / name).write_text("x")
        made.append(name)
    removed = {p.name for p in clean_stale_temp_files(folder, now=time.time() + 10 * STALE_AFTER_S)}
    import re
    pattern = re.compile(r"^\.(.+)\.(\d+)\.[0-9a-f]{8}\.tmp$")
    for name in made:
        ours = pattern.match(name) and int(pattern.match(name).group(2)) != os.getpid()
        assert (name in removed) == bool(ours)
