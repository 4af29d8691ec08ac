"""The on-disk layout of model checkpoints, shared by the converter, the trainer and `load()`.

A checkpoint directory holds `params/` (an orbax item: a tree of arrays), `model_config.json` and, when known,
`metadata.json` with the vocabulary path. A training `MODEL_DIR` holds numbered step directories (written by the
trainer's orbax `CheckpointManager`, each with a `params/` item) plus `model_config.json`; loading it takes the
latest complete step. Orbax writes into a temporary directory and renames it when done, so a half-written step is
never mistaken for a complete one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from alexatm_jax import param_layout
from alexatm_jax.config import CONFIG_FILENAME, ModelConfig

PARAMS_ITEM = "params"
METADATA_FILENAME = "metadata.json"


def step_directories(model_dir: str | Path) -> list[tuple[int, Path]]:
    """Complete numbered step directories of a training `MODEL_DIR`, oldest first."""
    root = Path(model_dir)
    if not root.is_dir():
        return []
    steps = [(int(p.name), p) for p in root.iterdir()
             if p.is_dir() and p.name.isdigit() and (p / PARAMS_ITEM).is_dir()]
    return sorted(steps)


def find_checkpoint(path: str | Path) -> Path:
    """The directory holding `params/`: `path` itself, or the latest step of a training `MODEL_DIR`."""
    path = Path(path)
    if (path / PARAMS_ITEM).is_dir():
        return path
    steps = step_directories(path)
    if steps:
        return steps[-1][1]
    raise FileNotFoundError(
        f"No checkpoint at {path}: expected a directory with `{PARAMS_ITEM}/` (from "
        "`python -m alexatm_jax.convert_checkpoint`) or a training MODEL_DIR with numbered step directories."
    )


def find_config_dir(checkpoint_dir: Path) -> Path:
    """`model_config.json` sits in the checkpoint directory or, for a training step, in `MODEL_DIR`."""
    for candidate in (checkpoint_dir, checkpoint_dir.parent):
        if (candidate / CONFIG_FILENAME).exists():
            return candidate
    raise FileNotFoundError(
        f"{CONFIG_FILENAME} not found in {checkpoint_dir} or {checkpoint_dir.parent}: a checkpoint needs its model "
        "config next to it."
    )


def save_params(directory: str | Path, params: Any, config: ModelConfig, *,
                vocab_path: str | None = None, force: bool = False) -> Path:
    """Writes a self-contained checkpoint directory (params, config, metadata)."""
    directory = Path(directory).absolute()
    directory.mkdir(parents=True, exist_ok=True)
    checkpointer = ocp.StandardCheckpointer()
    checkpointer.save(directory / PARAMS_ITEM, params, force=force)
    checkpointer.wait_until_finished()
    config.save(directory)
    write_metadata(directory, vocab_path=vocab_path)
    return directory


def write_metadata(directory: str | Path, *, vocab_path: str | None) -> None:
    meta = {"vocab_path": vocab_path, "format": "alexatm-jax/1"}
    (Path(directory) / METADATA_FILENAME).write_text(json.dumps(meta, indent=2) + "\n")


def read_metadata(checkpoint_dir: Path) -> dict[str, Any]:
    for candidate in (checkpoint_dir, checkpoint_dir.parent):
        if (candidate / METADATA_FILENAME).exists():
            return json.loads((candidate / METADATA_FILENAME).read_text())
    return {}


def stored_layout_is_scanned(params_dir: Path) -> bool:
    metadata = ocp.StandardCheckpointer().metadata(params_dir)
    tree = getattr(metadata, "item_metadata", metadata)
    tree = getattr(tree, "tree", tree)
    return param_layout.is_scanned(dict(tree))


def restore_params(path: str | Path, config: ModelConfig, *, shardings: Any = None,
                   dtype: Any = None) -> Any:
    """Restores parameters for `config` (whose `scan_layers` may differ from the stored layout).

    With `shardings` (a tree of `jax.sharding.Sharding` matching the model's params), arrays are restored
    straight into that placement; otherwise onto the default device.
    """
    from alexatm_jax.models import EncoderDecoderModel  # Local import: the model is heavier than this module.

    checkpoint_dir = find_checkpoint(path)
    params_dir = checkpoint_dir / PARAMS_ITEM
    stored_scanned = stored_layout_is_scanned(params_dir)
    stored_config = config.replace(scan_layers=stored_scanned)
    abstract = jax.tree_util.tree_map(
        lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype),
        _unbox(EncoderDecoderModel(stored_config).abstract_params()),
    )
    if shardings is not None and stored_scanned == config.scan_layers:
        abstract = jax.tree_util.tree_map(
            lambda a, s: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=s), abstract, shardings
        )
    else:  # A checkpoint saved on another device layout restores onto this process's first device.
        device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
        abstract = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=device), abstract)
    params = ocp.StandardCheckpointer().restore(params_dir, abstract)
    params = param_layout.to_layout(params, config.scan_layers)
    if dtype is not None:
        params = jax.tree_util.tree_map(lambda x: x.astype(dtype), params)
    if shardings is not None and stored_scanned != config.scan_layers:
        params = jax.device_put(params, shardings)
    return params


def _unbox(tree: Any) -> Any:
    import flax.linen as nn

    return nn.meta.unbox(tree)


def to_numpy(params: Any) -> Any:
    return jax.tree_util.tree_map(np.asarray, params)
