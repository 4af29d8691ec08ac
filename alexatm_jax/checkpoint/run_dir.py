"""The one owner of what a directory holding a model looks like: file names, kinds of directory, steps.

Three kinds of directory hold a model:

* A **checkpoint directory** (written by the converter and `save_params`): `params/` (an orbax item: the
  parameter tree), `model_config.json` and `metadata.json` (vocabulary, provenance).
* A **training run** (`MODEL_DIR`, written by `python -m alexatm_jax.train`): `model_config.json`,
  `metadata.json`, `config.gin` (the operative gin config), `metrics.jsonl`, `tensorboard/`,
  `train_summary.json` and numbered step directories `<step>/` written by orbax's `CheckpointManager`, each
  with the items `params/`, `opt_state/`, `state/` and `data_iterator/` (the input position: per data stream
  `s` of `n`, the files `stream-<s>-of-<n>.*` written by the process that reads it; steps saved before it
  existed lack it). Orbax writes a step under a temporary name and renames it when complete, so a numbered
  directory is a complete step, unless damaged afterwards.
* Both checkpoint and step directories hold `checkpoint_manifest.json` (`integrity`: every file's size and
  CRC-32, written once the checkpoint is committed). `find_checkpoint` skips a damaged step (with a warning that
  names it) for the newest intact one; a step moved aside by resume is renamed `<step>.damaged`.
* An **official directory** (what transformers' `save_pretrained` writes): `config.json` plus weight files.

Every reader and writer of these layouts (training, the converter, `load`, eval, infer) goes through here.
"""

from __future__ import annotations

import enum
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alexatm_jax.checkpoint import integrity
from alexatm_jax.errors import DataError
from alexatm_jax.model.config import ModelConfig

MODEL_CONFIG_FILE = "model_config.json"
METADATA_FILE = "metadata.json"
OPERATIVE_CONFIG_FILE = "config.gin"
TRAIN_SUMMARY_FILE = "train_summary.json"
METRICS_FILE = "metrics.jsonl"
TENSORBOARD_DIR = "tensorboard"
# Orbax items of a step (a converted checkpoint directory has `params` only).
PARAMS_ITEM = "params"
OPT_STATE_ITEM = "opt_state"
STATE_ITEM = "state"
DATA_ITERATOR_ITEM = "data_iterator"
# How each known item is stored (what its integrity check reads); other items need only be present.
ITEM_FORMATS = {PARAMS_ITEM: integrity.ItemFormat.TREE, OPT_STATE_ITEM: integrity.ItemFormat.TREE,
                STATE_ITEM: integrity.ItemFormat.JSON}
# Suffix of a damaged step moved aside by resume (kept for inspection; orbax no longer sees it as a step).
DAMAGED_SUFFIX = ".damaged"
# The format tag written into metadata.json.
FORMAT = "alexatm-jax/1"
# Fields of metadata.json: the SentencePiece model the checkpoint was trained with, and the tokenization
# convention it was fed with (`tasks.vocabulary`: "project" for the project's own pretraining, "official" for
# converted official checkpoints; absent in checkpoints written before it existed, read as "project").
VOCAB_PATH_FIELD = "vocab_path"
TOKENIZATION_FIELD = "tokenization"
OFFICIAL_TOKENIZATION = "official"
# A training run's TASK_FEATURE_LENGTHS ({"inputs": n, "targets": m}): learned positions past them were never
# trained, so readers (the demo) keep prompts within them.
TASK_FEATURE_LENGTHS_FIELD = "task_feature_lengths"
# What an official (transformers) directory holds: its config and one of these weight files or indexes.
OFFICIAL_CONFIG_FILE = "config.json"
OFFICIAL_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                         "pytorch_model.bin.index.json")
# Files a training run writes at its top level besides steps (their presence marks a training run).
_RUN_FILES = (OPERATIVE_CONFIG_FILE, METRICS_FILE, TRAIN_SUMMARY_FILE, TENSORBOARD_DIR)

log = logging.getLogger(__name__)


class DirKind(enum.Enum):
    """What a path holds, as far as this project is concerned."""

    MISSING = "missing"
    EMPTY = "empty directory"
    NOT_A_DIRECTORY = "file"
    CHECKPOINT = "converted checkpoint directory"
    TRAINING_RUN = "training MODEL_DIR"
    OFFICIAL = "official (transformers) checkpoint directory"
    OTHER = "directory with other files"


def kind(path: Path) -> DirKind:
    """Classifies `path` (an absolute path) by its contents."""
    if not path.exists():
        return DirKind.MISSING
    if not path.is_dir():
        return DirKind.NOT_A_DIRECTORY
    names = {p.name for p in path.iterdir()}
    if not names:
        return DirKind.EMPTY
    if (path / PARAMS_ITEM).is_dir():
        return DirKind.CHECKPOINT
    if any(n.isdigit() and (path / n).is_dir() for n in names) or names & set(_RUN_FILES):
        return DirKind.TRAINING_RUN
    if OFFICIAL_CONFIG_FILE in names and names & set(OFFICIAL_WEIGHT_FILES):
        return DirKind.OFFICIAL
    return DirKind.OTHER


def step_dirs(model_dir: Path) -> list[tuple[int, Path]]:
    """Committed numbered step directories of a training run, oldest first (intact or not: see `check`)."""
    if not model_dir.is_dir():
        return []
    return sorted((int(p.name), p) for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit())


def check(checkpoint_dir: Path, items: Sequence[str] = (PARAMS_ITEM,), *, optional: Sequence[str] = (),
          full: bool = False) -> list[integrity.Damage]:
    """What is damaged in `items` (and `optional` items, when the step has them) of a checkpoint or step
    directory ([] when intact; `integrity.check`)."""
    formats = {item: ITEM_FORMATS.get(item, integrity.ItemFormat.OTHER) for item in items}
    return integrity.check(checkpoint_dir, formats, optional=optional, full=full)


def damaged_message(checkpoint_dir: Path, damage: Sequence[integrity.Damage]) -> str:
    """One sentence naming the step (or checkpoint), the item and the file, and what to do."""
    is_step = checkpoint_dir.name.isdigit()
    what = f"Step {checkpoint_dir.name} of {checkpoint_dir.parent}" if is_step else f"The checkpoint {checkpoint_dir}"
    return (f"{what} is damaged: {integrity.describe(damage)}. Check every step with `python -m "
            f"alexatm_jax.verify_checkpoint {checkpoint_dir.parent if is_step else checkpoint_dir}`; restore the "
            "files from a copy, or write the checkpoint again.")


def step_dir(model_dir: Path, step: int) -> Path:
    """Where step `step` of a training run lives (whether or not it exists yet)."""
    return model_dir / str(step)


def data_stream_prefix(item_dir: Path, stream: int, num_streams: int) -> Path:
    """Where data stream `stream` of `num_streams` keeps its position in a step's `data_iterator/` item (a file
    prefix: the iterator's writer adds suffixes)."""
    return item_dir / f"stream-{stream:05d}-of-{num_streams:05d}"


def data_stream_counts(item_dir: Path) -> list[int]:
    """The stream counts (`num_streams`) that the positions saved in a `data_iterator/` item were written for."""
    counts = {int(m.group(1)) for p in item_dir.glob("stream-*-of-*")
              if (m := re.fullmatch(r"stream-\d+-of-(\d+)(\..*)?", p.name))}
    return sorted(counts)


def find_checkpoint(path: Path, items: Sequence[str] = (PARAMS_ITEM,)) -> Path:
    """The directory holding `params/`: `path` itself, or the newest step of a training run whose `items` are
    intact (quick check); each newer damaged step is named in a warning. Raises `DataError` when nothing intact
    is left."""
    if (path / PARAMS_ITEM).is_dir() or integrity.has_manifest(path):
        damage = check(path, items)
        if damage:
            raise DataError(damaged_message(path, damage))
        return path
    steps = step_dirs(path)
    damaged = []
    for _, directory in reversed(steps):
        damage = check(directory, items)
        if not damage:
            return directory
        log.warning("%s Using an older step.", damaged_message(directory, damage))
        damaged.append(directory.name)
    if damaged:
        raise DataError(f"Every step of {path} is damaged (steps {', '.join(reversed(damaged))}): check them with "
                        f"`python -m alexatm_jax.verify_checkpoint {path}` and restore the files from a copy.")
    found = kind(path)
    raise DataError(
        f"No checkpoint at {path} ({found.value}): expected a directory with `{PARAMS_ITEM}/` (written by "
        "`python -m alexatm_jax.convert_checkpoint`) or a training MODEL_DIR with numbered step directories."
        + (" It looks like an official checkpoint: convert it first with `python -m "
           "alexatm_jax.convert_checkpoint --input=... --output=...`." if found is DirKind.OFFICIAL else ""))


def config_dir(checkpoint_dir: Path) -> Path:
    """`model_config.json` sits in a checkpoint directory or, for a training step, in its `MODEL_DIR`."""
    for candidate in (checkpoint_dir, checkpoint_dir.parent):
        if (candidate / MODEL_CONFIG_FILE).is_file():
            return candidate
    raise DataError(f"{MODEL_CONFIG_FILE} not found in {checkpoint_dir} or {checkpoint_dir.parent}: a checkpoint "
                    "needs its model config next to it (training and the converter write it).")


def write_model_config(directory: Path, config: ModelConfig) -> Path:
    path = directory / MODEL_CONFIG_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_json(path, config.to_dict())
    return path


def read_model_config(directory: Path) -> ModelConfig:
    """The `ModelConfig` stored in `directory`; a missing, unreadable or invalid file names itself."""
    path = directory / MODEL_CONFIG_FILE
    values = _read_json(path, what="the model config")
    try:
        return ModelConfig.from_dict(values)
    except (TypeError, ValueError) as e:
        raise DataError(f"{path} is not a valid model config: {e}") from e


def write_metadata(directory: Path, **fields: Any) -> Path:
    """`metadata.json`: the format tag plus `fields` (e.g. `vocab_path`), None values included."""
    path = directory / METADATA_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_json(path, {"format": FORMAT, **fields})
    return path


def read_metadata(checkpoint_dir: Path) -> dict[str, Any]:
    """`metadata.json` of a checkpoint directory or of the training run a step belongs to ({} if none)."""
    for candidate in (checkpoint_dir, checkpoint_dir.parent):
        path = candidate / METADATA_FILE
        if path.is_file():
            return _read_json(path, what="the checkpoint metadata")
    return {}


def operative_config_path(directory: Path) -> Path:
    return directory / OPERATIVE_CONFIG_FILE


def train_summary_path(model_dir: Path) -> Path:
    return model_dir / TRAIN_SUMMARY_FILE


def metrics_path(model_dir: Path) -> Path:
    return model_dir / METRICS_FILE


def tensorboard_dir(model_dir: Path, split: str) -> Path:
    return model_dir / TENSORBOARD_DIR / split


def _write_json(path: Path, values: dict[str, Any]) -> None:
    """Writes JSON through a temporary file and a rename, so a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(values, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def _read_json(path: Path, *, what: str) -> dict[str, Any]:
    if not path.is_file():
        raise DataError(f"{path} not found: {what} is missing.")
    try:
        values = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{path} ({what}) is not valid JSON ({e}): restore it from a copy, or write the "
                        "checkpoint again.") from e
    if not isinstance(values, dict):
        raise DataError(f"{path} ({what}) must hold a JSON object, found {type(values).__name__}.")
    return values
