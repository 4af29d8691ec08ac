"""SeqIO data for the training entry point: global batches, cut into shards that processes build independently.

Imports seqio, TensorFlow and `tasks` (entry-point layer only; the trainer core never imports this module).

The global batch of step n is the concatenation, along rows, of batch n of `num_shards` streams; stream s is
the task's data under `seqio.ShardInfo(s, num_shards)`. A process builds only the streams covering the rows its
devices hold, so input work is split over hosts, and the global batch depends on `num_shards` alone, not on
how many processes share it: 1 process x 8 devices and 2 processes x 4 devices see the same batches when
`num_shards` is the same (by default it is the process count, as in T5X).

Resuming: each stream's tf.data iterator saves its position with every checkpoint (`DataIterator`, T5X's way:
a `tf.train.Checkpoint` of the iterator through clu), and a resumed run restores it, so resuming at step n
costs what starting does. A checkpoint saved for the same `num_shards` restores on any process count that
divides it (each process reads the positions of its own streams). Without a saved position (a checkpoint
written before this existed) the streams are rebuilt and skip n batches: seqio streams are deterministic for a
fixed seed (docs/STACK.md), so the batches are the same, but skipping re-runs their preprocessing.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jax
import numpy as np

from alexatm_jax.checkpoint import run_dir
from alexatm_jax.errors import ConfigError, DataError

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class DatasetConfig:
    """One seqio dataset of the run (gin: `train/input_pipeline.DatasetConfig`, `validation/...`).

    `batch_size` is global (all processes together). `module` is imported first to register tasks
    (`tasks.all` registers every project task). `max_batches` caps evaluation datasets.
    """

    mixture_or_task_name: str
    task_feature_lengths: Mapping[str, int]
    split: str = "train"
    batch_size: int = 32
    shuffle: bool = True
    seed: int | None = 0
    pack: bool = True
    use_cached: bool = False
    num_epochs: int | None = None
    num_shards: int | None = None
    max_batches: int | None = None
    module: str | None = "tasks.all"


def import_task_module(module: str | None) -> None:
    if not module:
        return
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name and module.startswith(e.name):
            raise ModuleNotFoundError(
                f"Cannot import {module!r} to register tasks: run from the repository root or install the "
                "package with its data extras (`pip install -e .[data]`), or set "
                "--gin.train/input_pipeline.DatasetConfig.module to the module that registers your task."
            ) from e
        raise


def get_task(config: DatasetConfig) -> Any:
    """The seqio Task or Mixture, with an error that lists the registered names on a miss."""
    import_task_module(config.module)
    from tasks.registry import get_mixture_or_task

    return get_mixture_or_task(config.mixture_or_task_name)


def vocabulary_path(config: DatasetConfig) -> str | None:
    """The SentencePiece file of the task's target vocabulary (stored as checkpoint metadata), if any."""
    vocab = get_task(config).output_features["targets"].vocabulary
    return getattr(vocab, "sentencepiece_model_file", None)


def vocabulary_tokenization(config: DatasetConfig) -> str | None:
    """The tokenization convention of the task's vocabulary (`tasks.vocabulary`; stored as checkpoint metadata)."""
    return getattr(get_task(config).output_features["targets"].vocabulary, "tokenization", None)


def vocabulary_size(config: DatasetConfig) -> int:
    return int(get_task(config).output_features["targets"].vocabulary.vocab_size)


_SKIP_FIX = "--gin.train_script.train.restore_data_iterator=False"


class DataIterator:
    """This process's rows of consecutive global batches (numpy), whose position saves to a checkpoint directory.

    One tf.data iterator per stream, wrapped by clu's `TfDatasetIterator` (its `save`/`restore` write and read a
    `tf.train.Checkpoint` of the iterator); each stream keeps its position under `run_dir.data_stream_prefix`,
    so a different process count that reads the same streams restores them. Restore before the first `next`:
    tf.data starts its prefetch and shuffle work at the first element, so nothing is read twice.
    """

    def __init__(self, streams: Mapping[int, Any], num_streams: int):
        from clu.data import dataset_iterator

        self.num_streams = num_streams
        self._streams = {s: dataset_iterator.TfDatasetIterator(ds, checkpoint=True) for s, ds in streams.items()}

    def __iter__(self) -> DataIterator:
        return self

    def __next__(self) -> dict[str, np.ndarray]:
        parts = [next(stream) for stream in self._streams.values()]
        if len(parts) == 1:
            return parts[0]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    def save(self, directory: Path) -> None:
        for s, stream in self._streams.items():
            stream.save(run_dir.data_stream_prefix(directory, s, self.num_streams))

    def restore(self, directory: Path) -> None:
        """Moves every stream to the position saved in `directory` (a step's `data_iterator` item)."""
        import tensorflow as tf

        saved = run_dir.data_stream_counts(directory)
        if saved and self.num_streams not in saved:
            raise ConfigError(
                f"The data position in {directory} was saved for num_shards={saved[0]} data streams, but this "
                f"run reads num_shards={self.num_streams}: set --gin.train/input_pipeline.DatasetConfig.num_shards="
                f"{saved[0]} (it must be a multiple of the process count) to continue those streams, or "
                f"{_SKIP_FIX} to start this run's streams at the saved batch by skipping (slow: it re-runs the "
                "preprocessing of every batch skipped).")
        for s, stream in self._streams.items():
            prefix = run_dir.data_stream_prefix(directory, s, self.num_streams)
            if not list(directory.glob(prefix.name + ".*")):
                raise DataError(f"{prefix}.* is missing: the data position of stream {s} was not saved. Copy the "
                                f"whole step directory, or resume with {_SKIP_FIX} (skips batches instead).")
            try:
                stream.restore(prefix)
            except (tf.errors.OpError, AssertionError, ValueError) as e:
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                raise ConfigError(
                    f"The data position saved in {prefix} does not fit this run's input pipeline ({first}): the "
                    "dataset settings (task, lengths, packing, seed) differ from the run that saved it. Use that "
                    f"run's settings (see config.gin in MODEL_DIR), or {_SKIP_FIX} to start the new data at the "
                    "saved batch by skipping.") from e


class SeqioBatches:
    """This process's rows of the global batches of a `DatasetConfig` (see the module docstring)."""

    def __init__(self, config: DatasetConfig, *, decoder_start_token_id: int, rows: tuple[int, int] | None = None):
        self.config = config
        self.decoder_start_token_id = decoder_start_token_id
        self.num_shards = config.num_shards or jax.process_count()
        start, stop = rows if rows is not None else (0, config.batch_size)
        if config.batch_size % self.num_shards:
            raise ConfigError(f"batch_size={config.batch_size} is not divisible by num_shards={self.num_shards}: "
                             "change BATCH_SIZE or DatasetConfig.num_shards.")
        self.shard_batch = config.batch_size // self.num_shards
        if start % self.shard_batch or stop % self.shard_batch:
            raise ConfigError(
                f"This process feeds rows [{start}, {stop}) of the global batch, which do not align with "
                f"num_shards={self.num_shards} shards of {self.shard_batch} rows: set DatasetConfig.num_shards "
                "to a multiple of the process count.")
        self.shards = range(start // self.shard_batch, stop // self.shard_batch)
        self._cached: list[dict[str, np.ndarray]] | None = None
        get_task(config)  # fail early on an unknown name

    def _stream(self, shard: int, start_batch: int) -> Any:
        """Batches of shard `shard` from batch `start_batch` on, as a tf.data pipeline."""
        import seqio
        import tensorflow as tf

        from tasks.feature_converters import AlexaTMFeatureConverter

        cfg = self.config
        ds = seqio.get_dataset(
            cfg.mixture_or_task_name,
            task_feature_lengths=dict(cfg.task_feature_lengths),
            feature_converter=AlexaTMFeatureConverter(decoder_start_token_id=self.decoder_start_token_id,
                                                      pack=cfg.pack),
            dataset_split=cfg.split,
            use_cached=cfg.use_cached,
            shuffle=cfg.shuffle,
            num_epochs=cfg.num_epochs,
            shard_info=seqio.ShardInfo(shard, self.num_shards) if self.num_shards > 1 else None,
            seed=cfg.seed,
            verbose=False,
        )
        ds = ds.batch(self.shard_batch, drop_remainder=True)
        if cfg.max_batches is not None:
            ds = ds.take(cfg.max_batches)
        if start_batch:
            ds = ds.skip(start_batch)
        options = tf.data.Options()
        # The only stateful ops in the project's pipelines are the `tasks.data_stats` counters (a py_function
        # with side effects, no data): the iterator's saved state is complete without them, and the default
        # policy refuses to save ("EagerPyFunc is stateful").
        options.experimental_external_state_policy = tf.data.experimental.ExternalStatePolicy.IGNORE
        return ds.with_options(options).prefetch(tf.data.AUTOTUNE)

    def iterator(self, start_batch: int = 0) -> DataIterator:
        """Batches from global batch `start_batch` on; 0 to restore a saved position into (`DataIterator`)."""
        return DataIterator({s: self._stream(s, start_batch) for s in self.shards}, self.num_shards)

    def cached_batches(self) -> list[dict[str, np.ndarray]]:
        """All batches, kept in memory (for a capped validation set evaluated repeatedly)."""
        if self._cached is None:
            self._cached = list(self.iterator())
            if not self._cached:
                log.warning("%s split %r gave no complete batch of %d rows: evaluation is skipped.",
                            self.config.mixture_or_task_name, self.config.split, self.config.batch_size)
        return self._cached
