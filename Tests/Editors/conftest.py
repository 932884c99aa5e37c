"""Shared set-up for the editor tests: which kbq binary they drive."""
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def kbq_binary() -> str:
    """KBQ_BINARY if set, else the debug build `swift build` makes."""
    path = os.environ.get("KBQ_BINARY") or str(ROOT / ".build" / "debug" / "kbq")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"no kbq binary at {path}: run `swift build` first, or set KBQ_BINARY")
    return path
