"""Training checkpoints: an orbax `CheckpointManager` over `MODEL_DIR` with three items per step.

`MODEL_DIR/<step>/params` is the plain parameter tree (what `alexatm_jax.load(MODEL_DIR)` and
`checkpoints.restore_params` read), `opt_state` the optimiser state and `state` a small JSON record (step,
seed, data position, run settings). Orbax writes each step into a temporary directory and renames it when
complete, so a crash or `kill -9` mid-save leaves the previous step intact; leftovers are cleaned on restart.
Restoring takes target shardings, so a checkpoint saved on one mesh restores onto any other.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from alexatm_jax.checkpoints import PARAMS_ITEM
from alexatm_jax.trainer import TrainState

OPT_STATE_ITEM = "opt_state"
STATE_ITEM = "state"
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
            raise ValueError(f"save_every_steps must be >= 1, got {self.save_every_steps}.")
        if self.keep is not None and self.keep < 1:
            raise ValueError(f"keep must be >= 1 or None, got {self.keep}.")


class TrainCheckpointer:
    """Saves and restores `TrainState` plus a JSON record in numbered step directories of `model_dir`."""

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

    def save(self, step: int, state: TrainState, record: dict[str, Any]) -> bool:
        """Starts saving `state` at `step` (returns once arrays are copied to host when asynchronous)."""
        if step in self.manager.all_steps():
            return False
        args = ocp.args.Composite(**{
            PARAMS_ITEM: ocp.args.StandardSave(state.params),
            OPT_STATE_ITEM: ocp.args.StandardSave(state.opt_state),
            STATE_ITEM: ocp.args.JsonSave({**record, "step": int(step)}),
        })
        return bool(self.manager.save(step, args=args, force=True))

    def restore(self, step: int, abstract_state: TrainState) -> tuple[TrainState, dict[str, Any]]:
        """Restores `step` into the placement of `abstract_state` (ShapeDtypeStructs with shardings)."""
        args = ocp.args.Composite(**{
            PARAMS_ITEM: ocp.args.StandardRestore(abstract_state.params),
            OPT_STATE_ITEM: ocp.args.StandardRestore(abstract_state.opt_state),
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
        record = dict(restored[STATE_ITEM])
        value = np.asarray(record["step"], np.int32)
        step_array = jax.make_array_from_callback((), abstract_state.step.sharding, lambda _: value)
        state = TrainState(step=step_array, params=restored[PARAMS_ITEM], opt_state=restored[OPT_STATE_ITEM])
        return state, record

    def wait(self) -> None:
        """Blocks until any background save has been committed."""
        self.manager.wait_until_finished()

    def close(self) -> None:
        self.manager.wait_until_finished()
        self.manager.close()
