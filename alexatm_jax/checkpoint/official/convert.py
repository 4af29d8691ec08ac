"""Conversion between the official AlexaTM release (PyTorch / transformers format) and our checkpoints.

`import_official` reads an official directory into an orbax checkpoint directory that `alexatm_jax.load` reads;
`export_official` writes one of ours (or a training run's latest step) as an official directory that
`AlexaTMSeq2SeqForConditionalGeneration.from_pretrained` reads. Both stream: import fills one preallocated array
tree shard by shard, tensor by tensor; export writes one safetensors shard at a time. Peak host memory is one copy
of the model plus one shard. Paths arrive absolute (the entry point resolves them).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from alexatm_jax.checkpoint import run_dir
from alexatm_jax.checkpoint.official import files as official_files
from alexatm_jax.checkpoint.official import mapping as fmt
from alexatm_jax.checkpoint.params import read_params, save_params, stored_layout_is_scanned
from alexatm_jax.errors import ConfigError, DataError
from alexatm_jax.model.config import DTYPES, ModelConfig

# The official tokenizer's file name (`AlexaTMTokenizerFast.vocab_files_names`, docs/STACK.md): export writes the
# vocabulary under it, so `from_pretrained(export_dir)` and our import find it; import also knows `spiece.model`.
OFFICIAL_VOCAB_NAME = "20b_tokenizer.model"
VOCAB_NAMES = (OFFICIAL_VOCAB_NAME, "spiece.model")
DEFAULT_MAX_SHARD_SIZE = "10GB"
log = logging.getLogger(__name__)


def numpy_dtype(name: str) -> np.dtype:
    if name not in DTYPES:
        raise ConfigError(f"dtype={name!r} is unknown: use one of {tuple(DTYPES)}.")
    return np.dtype(DTYPES[name])


# ----------------------------------------------------------------------------------------------- import
def import_official(input_dir: str | Path, output_dir: str | Path, *, scan_layers: bool = True,
                    dtype: str = "float32", vocab_path: str | Path | None = None,
                    overwrite: bool = False) -> Path:
    """Converts an official checkpoint directory into ours; returns the output directory."""
    input_dir, output_dir = Path(input_dir), Path(output_dir)
    _check_import_output(output_dir, overwrite)
    vocab = _find_vocab(input_dir, vocab_path)  # every check before the (long) read
    config = fmt.config_from_official(official_files.read_config(input_dir), scan_layers=scan_layers,
                                      dtype=dtype, param_dtype=dtype)
    params = read_official_params(input_dir, config)
    copied = _copy_vocab(vocab, output_dir) if vocab else None
    metadata = {run_dir.VOCAB_PATH_FIELD: copied, run_dir.TOKENIZATION_FIELD: run_dir.OFFICIAL_TOKENIZATION}
    save_params(output_dir, params, config, force=overwrite, **metadata)
    log.info("Wrote %s (%s parameters, %s, scan_layers=%s).", output_dir,
                 f"{sum(e.size for e in _leaves(params)):,}", dtype, scan_layers)
    return output_dir


def read_official_params(input_dir: str | Path, config: ModelConfig) -> dict[str, Any]:
    """Our (numpy) parameter tree for `config`, in its `scan_layers` layout and `param_dtype`.

    Every tensor's name and shape is checked against the mapping before any data is read.
    """
    table = fmt.parameter_table(config)
    files, weight_map = official_files.weight_files(input_dir)
    found = official_files.inventory(files, weight_map)
    sources = _choose_sources(table, found)
    scanned = config.scan_layers
    params = _allocate(fmt.stacked_shapes(table, scanned), numpy_dtype(config.param_dtype))
    by_file: dict[Path, list[tuple[str, fmt.Entry]]] = {f: [] for f in files}
    for entry, name in sources:
        by_file[found[name].file].append((name, entry))
    for path in files:
        if not by_file[path]:
            continue
        log.info("Reading %s (%d tensors).", path.name, len(by_file[path]))
        with official_files.open_weights(path) as reader:
            for name, entry in by_file[path]:
                array = reader.get(name)
                target = _get(params, entry.path(scanned))
                if scanned and entry.stack is not None:
                    target[entry.layer] = entry.to_ours(array)
                else:
                    target[...] = entry.to_ours(array)
                del array
    return params


def _choose_sources(table: list[fmt.Entry], found: dict[str, official_files.TensorInfo]
                    ) -> list[tuple[fmt.Entry, str]]:
    """For each entry, the first of its official names present; raises on missing/unexpected/mis-shaped."""
    expected = {name: entry for entry in table for name in entry.names}
    unexpected = sorted(set(found) - set(expected) - {fmt.POSITION_IDS})
    if unexpected:
        raise DataError(
            f"Unexpected tensor(s) {_short(unexpected)} (in {found[unexpected[0]].file.name}): not part "
            "of an AlexaTM model with this config.json. Check that config.json (layer counts, "
            "share_embeddings, tie_word_embeddings) matches the weights."
        )
    for name, info in found.items():
        if name in expected and info.shape != expected[name].official_shape:
            raise DataError(
                f"Tensor {name} (in {info.file.name}) has shape {info.shape}; expected "
                f"{expected[name].official_shape} from config.json. Check d_model, vocab_size, ffn dims and "
                "max_position_embeddings."
            )
    sources, missing = [], []
    for entry in table:
        present = [name for name in entry.names if name in found]
        if present:
            sources.append((entry, present[0]))
        else:
            missing.append(" / ".join(entry.names))
    if missing:
        raise DataError(f"Missing tensor(s) {_short(missing)}: the weights are incomplete or config.json "
                         "does not match them (layer counts, share_embeddings, tie_word_embeddings).")
    return sources


# ----------------------------------------------------------------------------------------------- export
def export_official(checkpoint: str | Path, output_dir: str | Path, *, dtype: str | None = None,
                    max_shard_size: str | int = DEFAULT_MAX_SHARD_SIZE, overwrite: bool = False) -> Path:
    """Writes our checkpoint (a converted directory or a training MODEL_DIR's latest step) in the official
    format: config.json and safetensors shard(s), with an index when sharded; returns the output directory."""
    checkpoint_dir = run_dir.find_checkpoint(Path(checkpoint))
    config = run_dir.read_model_config(run_dir.config_dir(checkpoint_dir))
    output_dir = Path(output_dir)
    _check_export_output(checkpoint_dir, output_dir, overwrite)
    scanned = stored_layout_is_scanned(checkpoint_dir / run_dir.PARAMS_ITEM)
    stored = config.replace(scan_layers=scanned)
    params = read_params(checkpoint_dir)
    out_dtype = numpy_dtype(dtype or config.param_dtype)
    output_dir.mkdir(parents=True, exist_ok=True)
    # Only reached with --overwrite: old shards must not outlive the new index.
    for stale in [*output_dir.glob("model*.safetensors"), output_dir / official_files.SAFETENSORS_INDEX]:
        stale.unlink(missing_ok=True)
    write_official_params(output_dir, params, stored, out_dtype, official_files.parse_size(max_shard_size))
    official = fmt.config_to_official(config)
    official["torch_dtype"] = out_dtype.name
    official_files.write_config(output_dir, official)
    vocab = run_dir.read_metadata(checkpoint_dir).get("vocab_path")
    if vocab and Path(vocab).is_file():
        _copy_vocab(Path(vocab), output_dir, name=OFFICIAL_VOCAB_NAME)
    elif vocab:
        log.warning("The checkpoint's vocabulary %s does not exist: not copied.", vocab)
    log.info("Wrote %s.", output_dir)
    return output_dir


def write_official_params(output_dir: Path, params: Any, config: ModelConfig, dtype: np.dtype,
                          max_shard_bytes: int) -> list[Path]:
    """Writes `params` (in the `config.scan_layers` layout) as safetensors shard(s) under canonical names."""
    table = fmt.parameter_table(config)
    by_name = {entry.name: entry for entry in table}
    sizes = [(fmt.POSITION_IDS, 8 * config.max_position_embeddings)]
    sizes += [(e.name, int(np.prod(e.official_shape)) * dtype.itemsize) for e in table]
    shards = official_files.plan_shards(sizes, max_shard_bytes)
    weight_map, paths = {}, []
    for i, names in enumerate(shards):
        path = output_dir / official_files.shard_name(i, len(shards))
        tensors = {}
        for name in names:
            if name == fmt.POSITION_IDS:
                tensors[name] = fmt.position_ids(config)
                continue
            entry = by_name[name]
            value = np.asarray(_get(params, entry.path(config.scan_layers)))
            if config.scan_layers and entry.stack is not None:
                value = value[entry.layer]
            tensors[name] = entry.to_official(value).astype(dtype, copy=False)
        official_files.save_shard(path, tensors)
        del tensors
        weight_map.update(dict.fromkeys(names, path.name))
        paths.append(path)
    if len(shards) > 1:
        official_files.write_index(output_dir, weight_map, sum(n for _, n in sizes))
    return paths


# ----------------------------------------------------------------------------------------------- helpers
def _check_import_output(output_dir: Path, overwrite: bool) -> None:
    """Import writes only into a missing or empty directory, or with `overwrite` into one holding other files;
    never into a training run or one of its steps (it would replace the run's config and hide its steps)."""
    found = run_dir.kind(output_dir)
    in_a_run = output_dir.name.isdigit() and run_dir.kind(output_dir.parent) is run_dir.DirKind.TRAINING_RUN
    if found is run_dir.DirKind.TRAINING_RUN or in_a_run:
        raise ConfigError(f"--output={output_dir} is {'a step of ' if in_a_run else ''}a training MODEL_DIR: a "
                          "converted checkpoint there would replace the run's model_config.json and metadata.json "
                          "and hide its steps from `load`. Choose another --output (--overwrite does not apply to "
                          "training runs).")
    _check_overwrite(output_dir, found, overwrite, "a converted checkpoint")


def _check_export_output(checkpoint_dir: Path, output_dir: Path, overwrite: bool) -> None:
    """Export writes only into a missing or empty directory, or with `overwrite` into an official directory or
    one holding other files; never into a checkpoint or training run (ours would then hold mixed formats)."""
    found = run_dir.kind(output_dir)
    if found in (run_dir.DirKind.CHECKPOINT, run_dir.DirKind.TRAINING_RUN) or output_dir in (
            checkpoint_dir, *checkpoint_dir.parents):
        raise ConfigError(f"--output={output_dir} is a {found.value}: the official files would be mixed into it. "
                          "Choose another --output (--overwrite does not apply to our checkpoints).")
    _check_overwrite(output_dir, found, overwrite, "an official checkpoint")


def _check_overwrite(output_dir: Path, found: run_dir.DirKind, overwrite: bool, what: str) -> None:
    if found is run_dir.DirKind.NOT_A_DIRECTORY:
        raise FileExistsError(f"--output={output_dir} is a file: pass a directory.")
    if found not in (run_dir.DirKind.MISSING, run_dir.DirKind.EMPTY) and not overwrite:
        raise FileExistsError(f"--output={output_dir} already exists and holds files (a {found.value}): choose "
                              f"another --output, or pass --overwrite to write {what} into it.")


def _find_vocab(input_dir: Path, vocab_path: str | Path | None) -> Path | None:
    if vocab_path:
        path = Path(vocab_path)
        if not path.is_file():
            raise FileNotFoundError(f"--vocab={vocab_path} does not exist: pass a SentencePiece .model file.")
        return path
    return next((input_dir / n for n in VOCAB_NAMES if (input_dir / n).is_file()), None)


def _copy_vocab(vocab: Path, output_dir: Path, name: str | None = None) -> str:
    output_dir.mkdir(parents=True, exist_ok=True)
    target = output_dir / (name or vocab.name)
    if vocab.absolute() != target:
        shutil.copyfile(vocab, target)
    return str(target)


def _allocate(shapes: dict[tuple[str, ...], tuple[int, ...]], dtype: np.dtype) -> dict[str, Any]:
    # np.empty reserves address space only; pages are committed as tensors are written.
    tree: dict[str, Any] = {}
    for path, shape in shapes.items():
        node = tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = np.empty(shape, dtype)
    return tree


def _get(tree: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        tree = tree[key]
    return tree


def _leaves(tree: Any):
    if isinstance(tree, dict):
        for value in tree.values():
            yield from _leaves(value)
    else:
        yield tree


def _short(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
