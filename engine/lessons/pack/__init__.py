"""Workshop packs: one file a teacher hands out — projects, lessons, data, a fixed seed and
locked parameters (the format is docs/workshop.md).

    pack = open_pack("day1.llpack")        # checks everything; PackError names what is wrong
    pack.projects, pack.lessons, pack.seed, pack.start_lesson
    pack.is_locked("conv1", "kernel_size") # the teacher's reason, or None
    pack.check_locks(edited_project)       # what a student changed that was locked
    pack.extract(folder)                   # the files, for the app to open
    build_pack("day1.llpack", title=…, seed=…, projects=[(key, project, base_dir)], …)

``model`` holds the plain data, ``reader`` reads a zip nobody vouched for, ``writer`` makes one.
"""
from .model import (LIMITS, PACK_FORMAT, PACK_SUFFIX, PACK_VERSION, SEED_REASON, Limits, Lock,
                    LockViolation, Pack, PackError)
from .reader import is_pack, open_pack, read_pack_bytes
from .writer import build_pack

__all__ = ["LIMITS", "PACK_FORMAT", "PACK_SUFFIX", "PACK_VERSION", "SEED_REASON", "Limits",
           "Lock", "LockViolation", "Pack", "PackError", "is_pack", "open_pack",
           "read_pack_bytes", "build_pack"]
