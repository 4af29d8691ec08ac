"""SeqIO data for the training entry point: global batches, cut into shards that processes build independently.

Imports seqio, TensorFlow and `tasks` (entry-point layer only; the trainer core never imports this module).

The global batch of step n is the concatenation, along rows, of batch n of `num_shards` streams; stream s is
the task's data under `seqio.ShardInfo(s, num_shards)`. A process builds only the streams covering the rows its
devices hold, so input work is split over hosts, and the global batch depends on `num_shards` alone, not on
how many processes share it: 1 process x 8 devices and 2 processes x 4 devices see the same batches when
`num_shards` is the same (by default it is the process count, as in T5X). Resuming skips to batch n of each
stream: seqio streams are deterministic for a fixed seed (docs/STACK.md), so no iterator state is saved.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import jax
import numpy as np

from alexatm_jax.errors import ConfigError

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


def vocabulary_size(config: DatasetConfig) -> int:
    return int(get_task(config).output_features["targets"].vocabulary.vocab_size)


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

    def _dataset(self, start_batch: int) -> Any:
        import seqio
        import tensorflow as tf

        from tasks.feature_converters import AlexaTMFeatureConverter

        cfg = self.config
        converter = AlexaTMFeatureConverter(decoder_start_token_id=self.decoder_start_token_id, pack=cfg.pack)
        streams = []
        for shard in self.shards:
            ds = seqio.get_dataset(
                cfg.mixture_or_task_name,
                task_feature_lengths=dict(cfg.task_feature_lengths),
                feature_converter=converter,
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
            streams.append(ds.skip(start_batch) if start_batch else ds)
        if len(streams) == 1:
            ds = streams[0]
        else:
            ds = tf.data.Dataset.zip(tuple(streams)).map(
                lambda *parts: {k: tf.concat([p[k] for p in parts], 0) for k in parts[0]})
        return ds.prefetch(tf.data.AUTOTUNE)

    def iterator(self, start_batch: int = 0) -> Iterator[dict[str, np.ndarray]]:
        """Batches from global batch `start_batch` on (the data position of a resumed run)."""
        return iter(self._dataset(start_batch).as_numpy_iterator())

    def cached_batches(self) -> list[dict[str, np.ndarray]]:
        """All batches, kept in memory (for a capped validation set evaluated repeatedly)."""
        if self._cached is None:
            self._cached = list(self.iterator())
            if not self._cached:
                log.warning("%s split %r gave no complete batch of %d rows: evaluation is skipped.",
                            self.config.mixture_or_task_name, self.config.split, self.config.batch_size)
        return self._cached
