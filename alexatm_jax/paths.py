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


def resolve_optional(path: str | os.PathLike | None) -> Path | None:
    """`resolve(path)`, or None for None / an empty string (an unset optional setting)."""
    if path is None or not os.fspath(path).strip():
        return None
    return resolve(path)
