"""Global batches from seqio: a saved input position restores without re-reading, shards independent of the
process layout."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # train_fixtures

import train_fixtures  # noqa: E402  (registers the synthetic task)

from alexatm_jax.errors import ConfigError  # noqa: E402
from alexatm_jax.training.input_pipeline import DatasetConfig, SeqioBatches  # noqa: E402


def _config(**overrides):
    values = dict(mixture_or_task_name=train_fixtures.TASK_NAME, task_feature_lengths={"inputs": 24, "targets": 24},
                  batch_size=8, module="train_fixtures")
    values.update(overrides)
    return DatasetConfig(**values)


def _take(iterator, n):
    return [next(iterator) for _ in range(n)]


def _equal(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_batches_have_the_model_features_and_start_tokens():
    batch = next(SeqioBatches(_config(), decoder_start_token_id=0).iterator())
    assert batch["encoder_input_tokens"].shape == (8, 24) and batch["decoder_target_tokens"].shape == (8, 24)
    starts = (batch["decoder_positions"] == 0) & (batch["decoder_segment_ids"] > 0)
    assert (batch["decoder_input_tokens"][starts] == 0).all()
    assert set(np.unique(batch["decoder_objective_ids"])) <= {-1, 0, 1}


def test_resuming_at_batch_n_gives_batch_n():
    data = SeqioBatches(_config(), decoder_start_token_id=0)
    first = _take(data.iterator(), 4)
    _equal(next(data.iterator(start_batch=3)), first[3])


def test_a_restored_position_continues_without_re_reading_the_data(tmp_path):
    """Batch n+1 after a restore costs what a first batch does, where skipping to it re-reads n batches
    (`test_resuming_at_batch_n_gives_batch_n`): the counting preprocessor sees a few examples, not n batches'."""
    n = 150
    config = _config(mixture_or_task_name=train_fixtures.COUNTED_TASK_NAME)
    counter = train_fixtures.PREPROCESSED
    counter.clear()
    iterator = SeqioBatches(config, decoder_start_token_id=0).iterator()
    _take(iterator, n)
    reading_n_batches = counter["examples"]
    assert reading_n_batches >= n * config.batch_size  # every row holds at least one example
    iterator.save(tmp_path)
    expected = _take(iterator, 2)

    counter.clear()
    restored = SeqioBatches(config, decoder_start_token_id=0).iterator()
    restored.restore(tmp_path)
    for want, got in zip(expected, _take(restored, 2)):
        _equal(want, got)
    assert counter["examples"] < reading_n_batches / 10, (counter["examples"], reading_n_batches)


def test_positions_saved_by_two_processes_restore_in_one(tmp_path):
    """Each process saves its own streams; a run with another process count reads the streams it now holds."""
    config = _config(num_shards=2)
    halves = [SeqioBatches(config, decoder_start_token_id=0, rows=rows).iterator() for rows in ((0, 4), (4, 8))]
    for half in halves:  # two processes writing the same step's item directory
        _take(half, 3)
        half.save(tmp_path)
    top, bottom = (next(half) for half in halves)
    whole = SeqioBatches(config, decoder_start_token_id=0, rows=(0, 8)).iterator()
    whole.restore(tmp_path)
    _equal(next(whole), {k: np.concatenate([top[k], bottom[k]]) for k in top})

    other = SeqioBatches(_config(num_shards=1), decoder_start_token_id=0).iterator()
    with pytest.raises(ConfigError, match=r"saved for num_shards=2 .* reads num_shards=1: set "
                                          r"--gin.train/input_pipeline.DatasetConfig.num_shards=2"):
        other.restore(tmp_path)


def test_a_position_from_another_pipeline_is_rejected(tmp_path):
    iterator = SeqioBatches(_config(), decoder_start_token_id=0).iterator()
    next(iterator)
    iterator.save(tmp_path)
    counted = SeqioBatches(_config(mixture_or_task_name=train_fixtures.COUNTED_TASK_NAME), decoder_start_token_id=0)
    with pytest.raises(ConfigError, match="does not fit this run's input pipeline"):
        counted.iterator().restore(tmp_path)


def test_process_rows_concatenate_to_the_single_process_batch():
    config = _config(num_shards=2)
    whole = _take(SeqioBatches(config, decoder_start_token_id=0, rows=(0, 8)).iterator(), 2)
    top = _take(SeqioBatches(config, decoder_start_token_id=0, rows=(0, 4)).iterator(), 2)
    bottom = _take(SeqioBatches(config, decoder_start_token_id=0, rows=(4, 8)).iterator(), 2)
    for w, t, b in zip(whole, top, bottom):
        _equal(w, {k: np.concatenate([t[k], b[k]]) for k in w})


def test_rows_that_split_a_shard_are_rejected():
    with pytest.raises(ValueError, match="num_shards"):
        SeqioBatches(_config(num_shards=2), decoder_start_token_id=0, rows=(0, 2))


def test_unknown_task_lists_registered_names():
    with pytest.raises(ValueError, match="synthetic_pretrain"):
        SeqioBatches(_config(mixture_or_task_name="synthetic_pretrian", module=None), decoder_start_token_id=0)
