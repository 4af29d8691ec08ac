"""Training checkpoints: an orbax `CheckpointManager` over `MODEL_DIR` with three items per step.

`MODEL_DIR/<step>/params` is the plain parameter tree (what `alexatm_jax.load(MODEL_DIR)` and
`checkpoint.params.restore_params` read), `opt_state` the optimiser state and `state` a small JSON record (step,
seed, data position, run settings); the layout is `checkpoint.run_dir`'s. The checkpointer stores trees, not a
train-state class: the trainer turns them into its state. Orbax writes each step into a temporary directory and
renames it when complete, so a crash or `kill -9` mid-save leaves the previous step intact; leftovers are cleaned
on restart.
Restoring takes target shardings, so a checkpoint saved on one mesh restores onto any other.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import orbax.checkpoint as ocp

from alexatm_jax.checkpoint.run_dir import OPT_STATE_ITEM, PARAMS_ITEM, STATE_ITEM
from alexatm_jax.errors import ConfigError

ITEMS = (PARAMS_ITEM, OPT_STATE_ITEM, STATE_ITEM)

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
        self.manager = ocp.CheckpointManager(self.directory, options=options, item_names=ITEMS)

    def latest_step(self) -> int | None:
        """The latest complete step, or None for a fresh `model_dir`."""
        self.manager.reload()
        return self.manager.latest_step()

    def all_steps(self) -> list[int]:
        self.manager.reload()
        return list(self.manager.all_steps())

    def should_save(self, step: int) -> bool:
        return step % self.config.save_every_steps == 0

    def save(self, step: int, params: Any, opt_state: Any, record: dict[str, Any]) -> bool:
        """Starts saving the trees at `step` (returns once arrays are copied to host when asynchronous)."""
        if step in self.manager.all_steps():
            return False
        args = ocp.args.Composite(**{
            PARAMS_ITEM: ocp.args.StandardSave(params),
            OPT_STATE_ITEM: ocp.args.StandardSave(opt_state),
            STATE_ITEM: ocp.args.JsonSave({**record, "step": int(step)}),
        })
        return bool(self.manager.save(step, args=args, force=True))

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
        return restored[PARAMS_ITEM], restored[OPT_STATE_ITEM], dict(restored[STATE_ITEM])

    def wait(self) -> None:
        """Blocks until any background save has been committed."""
        self.manager.wait_until_finished()

    def close(self) -> None:
        self.manager.wait_until_finished()
        self.manager.close()
