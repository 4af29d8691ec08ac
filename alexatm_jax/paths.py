"""User paths, resolved once at the edge (entry points and `load`): `~` expanded, relative paths taken from the
current working directory, the result absolute. Code below the edge receives absolute paths only.

Absolute paths matter beyond convenience: orbax 0.12 returns no item metadata for a relative checkpoint path
(docs/STACK.md), and a process that changes directory must still find its files.
"""

from __future__ import annotations

import os
from pathlib import Path


def resolve(path: str | os.PathLike) -> Path:
    """`path` with `~` expanded, made absolute against the current working directory (not resolving links)."""
    if path is None or not os.fspath(path).strip():
        raise ValueError(f"Expected a path, got {path!r}.")
    return Path(os.path.abspath(os.path.expanduser(os.fspath(path))))


def writable_directory(path: Path) -> bool:
    """Whether directory `path` exists writable, or can be created: its nearest existing ancestor is a writable
    directory (checked before a command writes anything, so a bad output path fails first, not last)."""
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    return existing is not None and existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)


def resolve_optional(path: str | os.PathLike | None) -> Path | None:
    """`resolve(path)`, or None for None / an empty string (an unset optional setting)."""
    if path is None or not os.fspath(path).strip():
        return None
    return resolve(path)
