"""The input position as an orbax item of each training step: files that each process's data iterator writes.

Resuming at step n by re-reading and dropping n batches re-runs their preprocessing (hours at step 400k of a
pod run); T5X saves its tf.data iterators with the train state and MaxText its Grain iterators through orbax.
The checkpoint layer knows no TensorFlow (GPU machines have none), so the item takes any object with
`save(directory)` / `restore(directory)` (the training input pipeline's iterator): orbax creates the item
directory on the primary process and waits for every process before the step is committed, and each process
writes and reads its own files there (names from `run_dir`). The save runs synchronously inside
`CheckpointManager.save` (orbax blocks on handlers that are not asynchronous), so the saved position is the
iterator's position at the call, even when the arrays are written in the background.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import orbax.checkpoint as ocp


@runtime_checkable
class CheckpointableIterator(Protocol):
    """An iterator whose position can be written to and read back from a directory (per process)."""

    def __next__(self) -> Any: ...

    def save(self, directory: Path) -> None: ...

    def restore(self, directory: Path) -> None: ...


class DataIteratorHandler(ocp.CheckpointHandler):
    """Orbax handler of a `CheckpointableIterator`: the iterator writes and reads its own files."""

    def save(self, directory: Any, args: DataIteratorSave) -> None:  # orbax passes `args=`
        args.iterator.save(Path(directory))

    def restore(self, directory: Any, args: DataIteratorRestore) -> CheckpointableIterator:
        args.iterator.restore(Path(directory))
        return args.iterator


@ocp.args.register_with_handler(DataIteratorHandler, for_save=True)
@dataclasses.dataclass
class DataIteratorSave(ocp.args.CheckpointArgs):
    iterator: CheckpointableIterator


@ocp.args.register_with_handler(DataIteratorHandler, for_restore=True)
@dataclasses.dataclass
class DataIteratorRestore(ocp.args.CheckpointArgs):
    iterator: CheckpointableIterator

