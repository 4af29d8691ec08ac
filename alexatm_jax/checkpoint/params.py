"""Saving and restoring model parameters (an orbax item), in either layer layout, onto any placement.

`restore_params` takes the *target's* abstract tree (shapes, dtypes; the caller gets it from the model), so the
checkpoint layer never builds a model. The stored layout (scanned `stack/layers` or `layers_<i>`) may differ from
the target's: the tree is restored in the stored layout and converted (`layouts`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from alexatm_jax.checkpoint import layouts, run_dir
from alexatm_jax.model.config import ModelConfig


def save_params(directory: Path, params: Any, config: ModelConfig, *, force: bool = False,
                **metadata: Any) -> Path:
    """Writes a self-contained checkpoint directory: `params/`, the model config and metadata (e.g.
    `vocab_path=`)."""
    directory.mkdir(parents=True, exist_ok=True)
    checkpointer = ocp.StandardCheckpointer()
    checkpointer.save(directory / run_dir.PARAMS_ITEM, params, force=force)
    checkpointer.wait_until_finished()
    run_dir.write_model_config(directory, config)
    run_dir.write_metadata(directory, **metadata)
    return directory


def stored_shapes(params_dir: Path) -> Any:
    """The stored parameter tree as `jax.ShapeDtypeStruct`s (shapes and dtypes from orbax's metadata)."""
    # orbax 0.12 returns no item metadata for a relative path (docs/STACK.md).
    metadata = ocp.StandardCheckpointer().metadata(params_dir.absolute())
    tree = getattr(metadata, "item_metadata", metadata)
    tree = getattr(tree, "tree", tree)
    return jax.tree_util.tree_map(lambda leaf: jax.ShapeDtypeStruct(tuple(leaf.shape), leaf.dtype), dict(tree),
                                  is_leaf=lambda x: hasattr(x, "shape") and hasattr(x, "dtype"))


def stored_layout_is_scanned(params_dir: Path) -> bool:
    """Whether the stored parameter tree has scanned (stacked) layers."""
    return layouts.is_scanned(stored_shapes(params_dir))


def read_params(checkpoint_dir: Path) -> Any:
    """The `params/` item as stored (layout and dtypes unchanged), on this process's first device: for tools
    that read a checkpoint without a model (the exporter)."""
    params_dir = (checkpoint_dir / run_dir.PARAMS_ITEM).absolute()
    device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
    target = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=device),
                                    stored_shapes(params_dir))
    return ocp.StandardCheckpointer().restore(params_dir, target)


def restore_params(checkpoint_dir: Path, abstract_params: Any, *, shardings: Any = None,
                   dtype: Any = None) -> Any:
    """Restores the `params/` item of `checkpoint_dir` into the layout and dtypes of `abstract_params`.

    `abstract_params`: a tree of `jax.ShapeDtypeStruct` (e.g. `EncoderDecoderModel.param_shapes()`). With
    `shardings` (a matching tree of `jax.sharding.Sharding`) the arrays land in that placement; otherwise on
    this process's first device. `dtype` casts every array after restoring.
    """
    params_dir = (checkpoint_dir / run_dir.PARAMS_ITEM).absolute()
    stored_scanned = stored_layout_is_scanned(params_dir)
    wanted_scanned = layouts.is_scanned(abstract_params)
    same_layout = stored_scanned == wanted_scanned
    stored_abstract = abstract_params if same_layout else jax.eval_shape(
        lambda tree: layouts.to_layout(tree, stored_scanned), abstract_params)
    if shardings is not None and same_layout:
        target = jax.tree_util.tree_map(
            lambda a, s: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=s), stored_abstract, shardings)
    else:  # Restored on one device first, converted, then placed.
        device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
        target = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=device),
                                        stored_abstract)
    params = ocp.StandardCheckpointer().restore(params_dir, target)
    params = layouts.to_layout(params, wanted_scanned)
    if dtype is not None:
        params = jax.tree_util.tree_map(lambda x: x.astype(dtype), params)
    if shardings is not None and not same_layout:
        params = jax.device_put(params, shardings)
    return params


def to_numpy(params: Any) -> Any:
    return jax.tree_util.tree_map(np.asarray, params)
