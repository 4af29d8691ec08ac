"""Saving and restoring model parameters (an orbax item), in either layer layout, onto any placement.

`restore_params` takes the *target's* abstract tree (shapes, dtypes; the caller gets it from the model), so the
checkpoint layer never builds a model. The stored layout (scanned `stack/layers` or `layers_<i>`) may differ from
the target's: the tree is restored in the stored layout and converted (`layouts`). `save_params` ends with the
integrity manifest (`integrity`); a file that cannot be read is reported as a `DataError` naming the checkpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from alexatm_jax.checkpoint import integrity, layouts, run_dir
from alexatm_jax.errors import DataError
from alexatm_jax.model.config import ModelConfig


def save_params(directory: Path, params: Any, config: ModelConfig, *, force: bool = False,
                **metadata: Any) -> Path:
    """Writes a self-contained checkpoint directory: `params/`, the model config and metadata (e.g.
    `vocab_path=`), then the manifest of every file in it (the last file written: a checkpoint interrupted
    while being overwritten is reported as damaged, never mistaken for the old one)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / integrity.MANIFEST_FILE).unlink(missing_ok=True)
    checkpointer = ocp.StandardCheckpointer()
    checkpointer.save(directory / run_dir.PARAMS_ITEM, params, force=force)
    checkpointer.wait_until_finished()
    run_dir.write_model_config(directory, config)
    run_dir.write_metadata(directory, **metadata)
    integrity.write_manifest(directory)
    return directory


def stored_shapes(params_dir: Path) -> Any:
    """The stored tree of an orbax tree item as `jax.ShapeDtypeStruct`s (shapes and dtypes from its metadata)."""
    # orbax 0.12 returns no item metadata for a relative path (docs/STACK.md).
    metadata = ocp.StandardCheckpointer().metadata(params_dir.absolute())
    tree = getattr(metadata, "item_metadata", metadata)
    tree = getattr(tree, "tree", tree)
    if tree is None:
        raise DataError(f"{params_dir} has no readable orbax metadata ({integrity.TREE_METADATA_FILE} missing or "
                        f"damaged): check it with `python -m alexatm_jax.verify_checkpoint {params_dir.parent}`.")
    tree = dict(tree) if isinstance(tree, Mapping) else tree  # params: a dict; optimiser states: tuples
    return jax.tree_util.tree_map(lambda leaf: jax.ShapeDtypeStruct(tuple(leaf.shape), leaf.dtype), tree,
                                  is_leaf=lambda x: hasattr(x, "shape") and hasattr(x, "dtype"))


def stored_layout_is_scanned(params_dir: Path) -> bool:
    """Whether the stored parameter tree has scanned (stacked) layers."""
    return layouts.is_scanned(stored_shapes(params_dir))


def read_params(checkpoint_dir: Path) -> Any:
    """The `params/` item as stored (layout and dtypes unchanged), on this process's first device: for tools
    that read a checkpoint without a model (the exporter)."""
    return read_tree(checkpoint_dir / run_dir.PARAMS_ITEM)


def read_tree(item_dir: Path) -> Any:
    """An orbax tree item as stored, on this process's first device (also: reading every array back checks it)."""
    item_dir = item_dir.absolute()
    device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
    target = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=device),
                                    stored_shapes(item_dir))
    return _restore(item_dir, target)


def _restore(item_dir: Path, target: Any) -> Any:
    """orbax's restore; a file TensorStore cannot read becomes a `DataError` naming the item, not a page of
    TensorStore internals."""
    try:
        return ocp.StandardCheckpointer().restore(item_dir, target)
    except (ValueError, KeyError, TypeError):
        raise  # the tree does not match the target: the caller explains
    except Exception as e:  # TensorStore raises plain Exception for unreadable or truncated array files
        raise DataError(f"Could not read {item_dir} ({read_error(e)}): its files are damaged. Check the checkpoint "
                        f"with `python -m alexatm_jax.verify_checkpoint {item_dir.parent}`.") from e


def read_error(error: BaseException) -> str:
    """The first line of a read error, without the TensorStore spec that follows it (a page of JSON)."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return first.split(" See full TensorStore details")[0]


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
    params = _restore(params_dir, target)
    params = layouts.to_layout(params, wanted_scanned)
    if dtype is not None:
        params = jax.tree_util.tree_map(lambda x: x.astype(dtype), params)
    if shardings is not None and not same_layout:
        params = jax.device_put(params, shardings)
    return params


def to_numpy(params: Any) -> Any:
    return jax.tree_util.tree_map(np.asarray, params)
