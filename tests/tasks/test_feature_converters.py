"""Feature converter: explicit segment ids and positions, decoder start token, objective ids."""

import numpy as np
import pytest
import tensorflow as tf

from tasks import data_stats
from tasks.feature_converters import AlexaTMFeatureConverter

START = 2
LENGTHS = {"inputs": 10, "targets": 7}
FEATURES = [
    "encoder_input_tokens", "encoder_segment_ids", "encoder_positions", "decoder_input_tokens",
    "decoder_target_tokens", "decoder_loss_weights", "decoder_segment_ids", "decoder_positions",
    "decoder_objective_ids",
]


def _dataset(examples, with_objective=True):
    sig = {"inputs": tf.TensorSpec([None], tf.int32), "targets": tf.TensorSpec([None], tf.int32)}
    if with_objective:
        sig["objective"] = tf.TensorSpec([], tf.int32)

    def gen():
        for ex in examples:
            yield {k: np.asarray(v, np.int32) for k, v in ex.items() if k in sig}

    return tf.data.Dataset.from_generator(gen, output_signature=sig)


EXAMPLES = [
    {"inputs": [7, 0, 5, 2], "targets": [3, 0, 2], "objective": 0},  # token 0 mid-sequence is real
    {"inputs": [8, 4, 9, 3, 2], "targets": [4, 2], "objective": 1},
]


def _convert(examples, pack, **kwargs):
    conv = AlexaTMFeatureConverter(decoder_start_token_id=START, pack=pack)
    return list(conv(_dataset(examples, **kwargs), LENGTHS).as_numpy_iterator())


def test_packed():
    (row,) = _convert(EXAMPLES, pack=True)
    assert sorted(row) == sorted(FEATURES)
    expected = {
        "encoder_input_tokens": [7, 0, 5, 2, 8, 4, 9, 3, 2, 0],
        "encoder_segment_ids": [1, 1, 1, 1, 2, 2, 2, 2, 2, 0],
        "encoder_positions": [0, 1, 2, 3, 0, 1, 2, 3, 4, 0],
        "decoder_target_tokens": [3, 0, 2, 4, 2, 0, 0],
        "decoder_input_tokens": [START, 3, 0, START, 4, 0, 0],
        "decoder_loss_weights": [1, 1, 1, 1, 1, 0, 0],
        "decoder_segment_ids": [1, 1, 1, 2, 2, 0, 0],
        "decoder_positions": [0, 1, 2, 0, 1, 0, 0],
        "decoder_objective_ids": [0, 0, 0, 1, 1, -1, -1],
    }
    for k, v in expected.items():
        np.testing.assert_array_equal(row[k], v, err_msg=k)


def test_unpacked_still_has_segments_and_positions():
    rows = _convert(EXAMPLES, pack=False)
    assert len(rows) == 2 and all(sorted(r) == sorted(FEATURES) for r in rows)
    first = rows[0]
    np.testing.assert_array_equal(first["encoder_segment_ids"], [1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(first["decoder_segment_ids"], [1, 1, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(first["decoder_input_tokens"], [START, 3, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(first["decoder_loss_weights"], [1, 1, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(first["decoder_positions"], [0, 1, 2, 0, 0, 0, 0])
    np.testing.assert_array_equal(rows[1]["decoder_objective_ids"], [1, 1, -1, -1, -1, -1, -1])


@pytest.mark.parametrize("pack", [True, False])
def test_zero_tokens_are_never_padding(pack):
    rows = _convert([{"inputs": [0, 0, 0], "targets": [0, 0], "objective": 0}], pack=pack)
    np.testing.assert_array_equal(rows[0]["encoder_segment_ids"][:4], [1, 1, 1, 0])
    np.testing.assert_array_equal(rows[0]["decoder_loss_weights"][:3], [1, 1, 0])


def test_missing_objective_is_other():
    rows = _convert(EXAMPLES, pack=False, with_objective=False)
    np.testing.assert_array_equal(rows[0]["decoder_objective_ids"], [-1] * 7)


def test_packing_skips_and_counts_empty_examples():
    data_stats.reset()
    examples = [{"inputs": [5], "targets": [], "objective": 0}] + EXAMPLES
    (row,) = _convert(examples, pack=True)
    assert data_stats.snapshot().get("converter_skipped_empty") == 1
    np.testing.assert_array_equal(row["decoder_segment_ids"], [1, 1, 1, 2, 2, 0, 0])


def test_model_feature_lengths():
    conv = AlexaTMFeatureConverter(decoder_start_token_id=0)
    lengths = conv.get_model_feature_lengths(LENGTHS)
    assert sorted(lengths) == sorted(FEATURES)
    assert all(v == (10 if k.startswith("encoder") else 7) for k, v in lengths.items())
    assert conv.decoder_start_token_id == 0
