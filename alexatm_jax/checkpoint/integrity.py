"""Checkpoint integrity: a manifest of every file's size and CRC-32, and checks that name the damaged file.

Why: orbax commits a step atomically (written under a temporary name, renamed when complete), so a crash or
`kill -9` in the middle of a save never leaves half a step. It cannot see damage *after* the commit: a file
truncated by a full disk or an interrupted copy, a deleted file, flipped bits. TensorStore then fails deep inside
a read with a page of errors that name no step, or, for flipped bits in raw float data (stored without a
checksum), does not fail at all and returns wrong numbers.

The manifest (`checkpoint_manifest.json` in the checkpoint directory or step directory) lists every file of the
checkpoint with its size and CRC-32. It is written after orbax has committed the checkpoint (the directory has its
final name), by the process that saved it, through a temporary file renamed into place: a manifest is whole or
absent, never a description of a half-written step. Asynchronous saves commit in the background, so the training
checkpointer hands each committed step to a `ManifestWriter` thread (`zlib.crc32` releases the GIL and runs at
about 1.5 GB/s, off the training thread). A kill -9 between the commit and the manifest leaves a step without
one; such a step (and one written before manifests existed) is checked by its structure only, never called
damaged for lacking a manifest.

Two depths of check (`check`):
- quick, on every `load` and resume (stat calls and one small JSON read per item): each item is present, the
  orbax tree metadata (`_METADATA`) or JSON record parses, and each file of the manifest exists with its size;
- full (`python -m alexatm_jax.verify_checkpoint`): the quick check, then every file's CRC-32 (reads every byte).
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import logging
import threading
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

MANIFEST_FILE = "checkpoint_manifest.json"
MANIFEST_FORMAT = "alexatm-jax-manifest/1"
TREE_METADATA_FILE = "_METADATA"  # what orbax's StandardSave writes beside a tree's arrays
JSON_RECORD_FILE = "metadata"  # what orbax's JsonSave writes
_CHUNK = 16 * 2**20

log = logging.getLogger(__name__)


class ItemFormat(enum.Enum):
    """How an orbax item is stored, which decides what its structural check reads."""

    TREE = "tree"  # StandardSave: `_METADATA` (JSON) plus array files
    JSON = "json"  # JsonSave: one JSON file `metadata`
    OTHER = "other"  # anything else: the directory must exist


@dataclasses.dataclass(frozen=True)
class Damage:
    """One problem with one file, `path` relative to the checkpoint directory (e.g. `params/_METADATA`)."""

    path: str
    problem: str

    @property
    def item(self) -> str:
        return self.path.split("/", 1)[0]

    def __str__(self) -> str:
        return f"{self.path} {self.problem}"


def write_manifest(directory: Path) -> Path | None:
    """Lists every file under `directory` (size, CRC-32) in its manifest; None if files vanished meanwhile (a
    step deleted by the retention policy while being hashed)."""
    files: dict[str, dict[str, int]] = {}
    try:
        for path in sorted(p for p in directory.rglob("*") if p.is_file() and not _is_ours(p, directory)):
            files[path.relative_to(directory).as_posix()] = {"size": path.stat().st_size, "crc32": _crc32(path)}
    except FileNotFoundError:
        return None
    target = directory / MANIFEST_FILE
    tmp = target.with_name(target.name + ".tmp")
    try:
        tmp.write_text(json.dumps({"format": MANIFEST_FORMAT, "files": files}, indent=1, sort_keys=True) + "\n")
        tmp.replace(target)
    except FileNotFoundError:
        return None
    return target


def has_manifest(directory: Path) -> bool:
    return (directory / MANIFEST_FILE).is_file()


def check(directory: Path, items: Mapping[str, ItemFormat], *, optional: Iterable[str] = (),
          full: bool = False) -> list[Damage]:
    """Problems with `items` (name -> format) of the checkpoint in `directory`; [] when intact.

    `optional` items (e.g. one that older steps lack) are checked when present on disk or in the manifest. The
    manifest, when present, is checked for the files of these items (all its files when `full`).
    """
    damage = [d for name, fmt in items.items() for d in _check_structure(directory, name, fmt)]
    items = {**items, **dict.fromkeys(optional, ItemFormat.OTHER)}
    manifest, problem = _read_manifest(directory)
    if problem:
        return [*damage, problem]
    if manifest is None:
        return damage
    named = {d.path for d in damage}
    for relative, expected in manifest.items():
        if relative in named or not (full or relative.split("/", 1)[0] in items):
            continue
        path = directory / relative
        if not path.is_file():
            damage.append(Damage(relative, "is missing (deleted after the checkpoint was written)"))
        elif (size := path.stat().st_size) != expected["size"]:
            damage.append(Damage(relative, f"has {size:,} bytes, expected {expected['size']:,} (truncated or "
                                           "overwritten)"))
        elif full and _crc32(path) != expected["crc32"]:
            damage.append(Damage(relative, "has other contents than were written (CRC-32 differs)"))
    return damage


def fingerprint(directory: Path) -> str:
    """A short hash of the names, sizes and modification times of the checkpoint's files (the manifest aside):
    it changes when the checkpoint is written again, at the cost of stat calls only."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file() and not _is_ours(p, directory)):
        stat = path.stat()
        digest.update(f"{path.relative_to(directory).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def describe(damage: Iterable[Damage], limit: int = 3) -> str:
    """`damage` in one line (the first `limit` problems)."""
    damage = list(damage)
    text = "; ".join(map(str, damage[:limit]))
    return text + (f" (and {len(damage) - limit} more)" if len(damage) > limit else "")


class ManifestWriter:
    """Writes manifests in background threads (one per committed checkpoint); `join` waits for all of them."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self._threads: list[threading.Thread] = []

    def submit(self, directory: Path) -> None:
        if not self.enabled:
            return
        thread = threading.Thread(target=self._write, args=(directory,), name=f"manifest-{directory.name}")
        thread.start()
        self._threads.append(thread)

    def join(self) -> None:
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    @staticmethod
    def _write(directory: Path) -> None:
        try:
            write_manifest(directory)
        except OSError as e:  # The checkpoint itself is committed; only the extra check is lost.
            log.warning("Could not write the integrity manifest of %s (%s): it will be checked by structure only.",
                        directory, e)


def _check_structure(directory: Path, item: str, fmt: ItemFormat) -> list[Damage]:
    item_dir = directory / item
    if not item_dir.is_dir():
        return [Damage(f"{item}/", "is missing (the whole item directory)")]
    record = {ItemFormat.TREE: TREE_METADATA_FILE, ItemFormat.JSON: JSON_RECORD_FILE}.get(fmt)
    if record is None:
        return []
    path = item_dir / record
    if not path.is_file():
        return [Damage(f"{item}/{record}", "is missing")]
    try:
        values = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return [Damage(f"{item}/{record}", "is not valid JSON (truncated or overwritten)")]
    if fmt is ItemFormat.TREE and not (isinstance(values, dict) and isinstance(values.get("tree_metadata"), dict)):
        return [Damage(f"{item}/{record}", "is not orbax tree metadata")]
    return []


def _read_manifest(directory: Path) -> tuple[dict[str, Any] | None, Damage | None]:
    path = directory / MANIFEST_FILE
    if not path.is_file():
        return None, None
    try:
        values = json.loads(path.read_bytes())
        files = values["files"]
        if values.get("format") != MANIFEST_FORMAT or not all(
                isinstance(v.get("size"), int) and isinstance(v.get("crc32"), int) for v in files.values()):
            raise ValueError
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, AttributeError, ValueError):
        return None, Damage(MANIFEST_FILE, "is not a valid manifest (truncated or overwritten)")
    return files, None


def _crc32(path: Path) -> int:
    value = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            value = zlib.crc32(chunk, value)
    return value


def _is_ours(path: Path, directory: Path) -> bool:
    return path.parent == directory and path.name.startswith(MANIFEST_FILE)
