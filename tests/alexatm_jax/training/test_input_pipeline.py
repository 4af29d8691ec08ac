"""Global batches from seqio: deterministic resume position, shards independent of the process layout."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # train_fixtures

import train_fixtures  # noqa: E402  (registers the synthetic task)

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
