"""Training checkpoints: an orbax `CheckpointManager` over `MODEL_DIR` with three items per step.

`MODEL_DIR/<step>/params` is the plain parameter tree (what `alexatm_jax.load(MODEL_DIR)` and
`checkpoint.params.restore_params` read), `opt_state` the optimiser state and `state` a small JSON record (step,
seed, data position, run settings); the layout is `checkpoint.run_dir`'s. The checkpointer stores trees, not a
train-state class: the trainer turns them into its state. Orbax writes each step into a temporary directory and
renames it when complete, so a crash or `kill -9` mid-save leaves the previous step intact; leftovers are cleaned
on restart. Once a step is committed its integrity manifest is written in the background (`integrity`); resume
takes the newest intact step (`latest_intact_step`), naming and moving aside newer damaged ones.
Restoring takes target shardings, so a checkpoint saved on one mesh restores onto any other. A fourth item,
`data_iterator`, holds the input position when the training data can save it (`checkpoint.data_iterator`).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import jax
import orbax.checkpoint as ocp

from alexatm_jax.checkpoint import integrity, run_dir
from alexatm_jax.checkpoint.data_iterator import CheckpointableIterator, DataIteratorRestore, DataIteratorSave
from alexatm_jax.checkpoint.params import read_error
from alexatm_jax.checkpoint.run_dir import DATA_ITERATOR_ITEM, OPT_STATE_ITEM, PARAMS_ITEM, STATE_ITEM
from alexatm_jax.errors import ConfigError, DataError

ITEMS = (PARAMS_ITEM, OPT_STATE_ITEM, STATE_ITEM)  # every step has these; `DATA_ITERATOR_ITEM` is optional

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class CheckpointConfig:
    """When to save and how many to keep (gin: `checkpoint_manager.CheckpointConfig`).

    `save_every_steps` also applies at the end of the run and on SIGTERM (always saved); `keep` is the number
    of most recent steps kept (None keeps all); `async_save` writes in a background thread.
    """

    save_every_steps: int = 1000
    keep: int | None = 3
    async_save: bool = True

    def __post_init__(self) -> None:
        if self.save_every_steps < 1:
            raise ConfigError(f"save_every_steps must be >= 1, got {self.save_every_steps}.")
        if self.keep is not None and self.keep < 1:
            raise ConfigError(f"keep must be >= 1 or None, got {self.keep}.")


class TrainCheckpointer:
    """Saves and restores parameters, optimiser state and a JSON record in numbered step directories."""

    def __init__(self, model_dir: str | Path, config: CheckpointConfig = CheckpointConfig()):
        self.directory = Path(model_dir).absolute()
        self.config = config
        options = ocp.CheckpointManagerOptions(
            max_to_keep=config.keep,
            save_interval_steps=1,  # the training loop decides when (every N steps, at the end, on SIGTERM)
            enable_async_checkpointing=config.async_save,
            cleanup_tmp_directories=True,
            create=True,
        )
        self.manager = ocp.CheckpointManager(self.directory, options=options,
                                             item_names=(*ITEMS, DATA_ITERATOR_ITEM))
        self._manifests = integrity.ManifestWriter(enabled=jax.process_index() == 0)
        self._uncommitted: list[int] = []  # steps saved by this process whose manifest is not yet started

    def latest_step(self) -> int | None:
        """The latest complete step, or None for a fresh `model_dir`."""
        self.manager.reload()
        return self.manager.latest_step()

    def latest_intact_step(self) -> int | None:
        """The newest step whose items pass the quick integrity check, or None for a fresh `model_dir`.

        Each newer damaged step is named in a warning and moved aside to `<step>.damaged` (kept for inspection),
        so that training writes that step number again; raises `DataError` when every step is damaged.
        """
        damaged = []
        for step in sorted(self.all_steps(), reverse=True):
            directory = run_dir.step_dir(self.directory, step)
            damage = run_dir.check(directory, ITEMS, optional=(DATA_ITERATOR_ITEM,))
            if not damage:
                self._move_aside(damaged)
                return step
            log.warning("%s Resuming from an older step; the damaged one is kept as %s%s.",
                        run_dir.damaged_message(directory, damage), directory.name, run_dir.DAMAGED_SUFFIX)
            damaged.append(directory)
        if damaged:
            raise DataError(f"Every step in {self.directory} is damaged ({', '.join(d.name for d in damaged)}): "
                            "restore them from a copy, or move them away to train from scratch.")
        return None

    def _move_aside(self, directories: list[Path]) -> None:
        if not directories:
            return
        if jax.process_index() == 0:
            for directory in directories:
                target = directory.with_name(directory.name + run_dir.DAMAGED_SUFFIX)
                n = 1
                while target.exists():
                    n += 1
                    target = directory.with_name(f"{directory.name}{run_dir.DAMAGED_SUFFIX}-{n}")
                directory.rename(target)
        if jax.process_count() > 1:
            from jax.experimental import multihost_utils

            multihost_utils.sync_global_devices("alexatm_jax: damaged steps moved aside")
        self.manager.reload()

    def all_steps(self) -> list[int]:
        self.manager.reload()
        return list(self.manager.all_steps())

    def should_save(self, step: int) -> bool:
        return step % self.config.save_every_steps == 0

    def save(self, step: int, params: Any, opt_state: Any, record: dict[str, Any],
             data_iterator: CheckpointableIterator | None = None) -> bool:
        """Starts saving the trees at `step` (returns once arrays are copied to host when asynchronous); the
        position of `data_iterator`, when given, is written before this returns."""
        if step in self.manager.all_steps():
            return False
        items = {
            PARAMS_ITEM: ocp.args.StandardSave(params),
            OPT_STATE_ITEM: ocp.args.StandardSave(opt_state),
            STATE_ITEM: ocp.args.JsonSave({**record, "step": int(step)}),
        }
        if data_iterator is not None:
            items[DATA_ITERATOR_ITEM] = DataIteratorSave(data_iterator)
        args = ocp.args.Composite(**items)
        saved = bool(self.manager.save(step, args=args, force=True))
        self._write_manifests(keep=step)  # orbax committed every earlier save before starting this one
        if saved:
            self._uncommitted.append(step)
        return saved

    def restore(self, step: int, abstract_params: Any, abstract_opt_state: Any
                ) -> tuple[Any, Any, dict[str, Any]]:
        """Restores `step` into the placement of the abstract trees (ShapeDtypeStructs with shardings); returns
        (params, opt_state, record)."""
        args = ocp.args.Composite(**{
            PARAMS_ITEM: ocp.args.StandardRestore(abstract_params),
            OPT_STATE_ITEM: ocp.args.StandardRestore(abstract_opt_state),
            STATE_ITEM: ocp.args.JsonRestore(),
        })
        try:
            restored = self.manager.restore(step, args=args)
        except (ValueError, KeyError) as e:
            raise ValueError(
                f"Checkpoint step {step} in {self.directory} does not match this run's model or optimiser "
                f"({type(e).__name__}: {e}). Use a new MODEL_DIR, or the gin files the checkpoint was trained "
                f"with (see {self.directory / 'config.gin'})."
            ) from e
        except Exception as e:  # TensorStore: a file that cannot be read
            raise DataError(f"Checkpoint step {step} in {self.directory} could not be read ({read_error(e)}). Check it "
                            f"with `python -m alexatm_jax.verify_checkpoint {self.directory}`; move a damaged step "
                            "away (e.g. rename it to <step>.damaged) to resume from the one before.") from e
        return restored[PARAMS_ITEM], restored[OPT_STATE_ITEM], dict(restored[STATE_ITEM])

    def has_data_iterator(self, step: int) -> bool:
        """Whether `step` saved the input position (steps written before it existed did not)."""
        return (run_dir.step_dir(self.directory, step) / DATA_ITERATOR_ITEM).is_dir()

    def restore_data_iterator(self, step: int, data_iterator: CheckpointableIterator) -> None:
        """Moves `data_iterator` (freshly built, not yet read) to the position saved at `step`."""
        self.manager.restore(step, args=ocp.args.Composite(**{DATA_ITERATOR_ITEM: DataIteratorRestore(data_iterator)}))

    def wait(self) -> None:
        """Blocks until any background save has been committed."""
        self.manager.wait_until_finished()
        self._write_manifests()

    def _write_manifests(self, keep: int | None = None) -> None:
        """Starts the manifests of this process's committed saves (all but `keep`, still being written)."""
        for step in self._uncommitted:
            if step != keep:
                self._manifests.submit(run_dir.step_dir(self.directory, step))
        self._uncommitted = [s for s in self._uncommitted if s == keep]

    def close(self) -> None:
        self.wait()
        self._manifests.join()
        self.manager.close()
