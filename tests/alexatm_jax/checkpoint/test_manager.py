"""Training checkpoints: layout readable by `run_dir`/`load`, atomic steps, retention, restore placement."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alexatm_jax.checkpoint import run_dir
from alexatm_jax.checkpoint.manager import CheckpointConfig, TrainCheckpointer
from alexatm_jax.partitioning import Partitioner


def _state(step: int, value: float) -> tuple:
    params = {"encoder": {"w": jnp.full((4, 3), value)}, "final_logits_bias": jnp.zeros(5)}
    opt_state = ({"mu": jax.tree_util.tree_map(jnp.zeros_like, params)}, jnp.asarray(step, jnp.int32))
    return params, opt_state


def _abstract(state: tuple) -> tuple:
    replicated = Partitioner().replicated
    return jax.tree_util.tree_map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=replicated), state)


def _save(checkpointer, step, value=1.0):
    checkpointer.save(step, *_state(step, value), {"data_batches": step, "seed": 0})


def test_save_restore_roundtrip_and_layout(tmp_path):
    checkpointer = TrainCheckpointer(tmp_path, CheckpointConfig(save_every_steps=2))
    _save(checkpointer, 2, value=3.0)
    checkpointer.wait()
    params, opt_state, record = checkpointer.restore(2, *_abstract(_state(0, 0.0)))
    checkpointer.close()
    assert record["step"] == 2 and record["data_batches"] == 2
    np.testing.assert_array_equal(params["encoder"]["w"], np.full((4, 3), 3.0))
    assert int(opt_state[1]) == 2
    # The params item is the plain tree that `run_dir` / `alexatm_jax.load` read.
    assert run_dir.find_checkpoint(tmp_path) == tmp_path / "2"
    assert (tmp_path / "2" / "params").is_dir() and (tmp_path / "2" / "opt_state").is_dir()


def test_keeps_the_last_k_steps(tmp_path):
    checkpointer = TrainCheckpointer(tmp_path, CheckpointConfig(save_every_steps=1, keep=2))
    for step in (1, 2, 3):
        _save(checkpointer, step)
        checkpointer.wait()
    assert checkpointer.all_steps() == [2, 3]
    checkpointer.close()


def test_an_interrupted_save_is_ignored_and_cleaned(tmp_path):
    checkpointer = TrainCheckpointer(tmp_path, CheckpointConfig(save_every_steps=1))
    _save(checkpointer, 1)
    checkpointer.close()
    # What a kill -9 in the middle of saving step 2 leaves behind: orbax's temporary directory.
    partial = tmp_path / "2.orbax-checkpoint-tmp-1234"
    (partial / "params").mkdir(parents=True)
    (partial / "params" / "junk").write_text("half written")
    assert run_dir.find_checkpoint(tmp_path) == tmp_path / "1"
    reopened = TrainCheckpointer(tmp_path)
    assert reopened.latest_step() == 1
    _, _, record = reopened.restore(1, *_abstract(_state(0, 0.0)))
    reopened.close()
    assert record["step"] == 1


def test_mismatched_checkpoint_is_explained(tmp_path):
    checkpointer = TrainCheckpointer(tmp_path)
    _save(checkpointer, 1)
    checkpointer.wait()
    other = ({"decoder": {"w": jnp.zeros((2, 2))}}, _state(0, 0.0)[1])
    with pytest.raises(ValueError, match="does not match this run"):
        checkpointer.restore(1, *_abstract(other))
    checkpointer.close()


def test_config_validation():
    with pytest.raises(ValueError, match="save_every_steps"):
        CheckpointConfig(save_every_steps=0)
