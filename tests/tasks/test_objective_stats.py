"""Objective statistics of a mixture: alignment exactness, the default mixture's numbers, shares, packing."""

import itertools

import numpy as np
import pytest
import seqio
import tensorflow as tf

import tasks.default_tasks  # noqa: F401  (registers the default mixture)
import tasks.pretraining as pretraining
from tasks import objective_stats as stats
from tasks import preprocessors as prep
from tasks.registry import add_task
from tasks.seqio_vocabulary import default_vocabulary


def _fewest_spans_by_search(inputs, targets):
    """Every way to keep len(inputs) target tokens that spells the inputs; the fewest runs of dropped tokens."""
    best = None
    for keep in itertools.combinations(range(len(targets)), len(inputs)):
        if all(targets[k] == x for k, x in zip(keep, inputs)):
            mask = np.ones(len(targets), bool)
            mask[list(keep)] = False
            runs = len(stats.span_lengths(mask))
            best = runs if best is None else min(best, runs)
    return best


def test_alignment_recovers_the_preprocessor_spans_exactly():
    lengths = [30, 120, 400]
    docs = [np.arange(10, 10 + n, dtype=np.int32) for n in lengths]  # distinct ids: the true drops are known
    ds = tf.data.Dataset.from_generator(lambda: ({"targets": d} for d in docs),
                                        output_signature={"targets": tf.TensorSpec([None], tf.int32)})
    with seqio.map_seed_manager(3):
        examples = list(prep.denoise(ds).as_numpy_iterator())
    for ex in examples:
        truth = ~np.isin(ex["targets"], ex["inputs"])
        np.testing.assert_array_equal(stats.dropped_positions(ex["inputs"], ex["targets"]), truth)


def test_alignment_with_repeated_tokens_uses_the_fewest_spans():
    rng = np.random.default_rng(0)
    for _ in range(200):
        targets = rng.integers(0, 3, rng.integers(1, 10))
        inputs = targets[rng.random(len(targets)) >= 0.4]
        mask = stats.dropped_positions(inputs, targets)
        np.testing.assert_array_equal(targets[~mask], inputs)
        assert len(stats.span_lengths(mask)) == _fewest_spans_by_search(inputs, targets)
    with pytest.raises(ValueError, match="not a denoising example"):
        stats.dropped_positions([1, 2], [2, 1])


def test_clipped_poisson_pmf():
    pmf = stats.clipped_poisson_pmf(3.0, 40)
    assert pmf[0] == 0 and abs(pmf.sum() - 1) < 1e-9
    assert abs(pmf[1] - 4 * np.exp(-3)) < 1e-12  # P(0) + P(1) of Poisson(3)
    assert abs((np.arange(41) * pmf).sum() - (3 + np.exp(-3))) < 1e-9


def test_default_mixture_statistics_match_the_recipe():
    # 256 positions: packed sequences of ~200 tokens, long enough that the cut last span barely shows.
    result = stats.objective_statistics("alexatm_default_pretrain", sequence_length={"inputs": 256, "targets": 256},
                                        num_examples=200, seed=1)
    shares = result.objective_shares()
    assert set(shares) == {"denoise", "clm"} and abs(shares["denoise"] - 0.8) < 0.1
    assert len(result.dropped_fraction) == (result.objectives == 0).sum() == len(result.denoise_lengths)
    assert abs(result.dropped_fraction.mean() - 0.15) < 0.01
    assert abs(result.span_lengths.mean() - 3.0) < 0.35 and result.span_lengths.min() >= 1
    assert result.prefix_fraction.min() > 0.15 and result.prefix_fraction.max() < 0.85
    assert stats.summary(result)["examples"] == 200
    with pytest.raises(ValueError, match="num_examples"):
        stats.objective_statistics("alexatm_default_pretrain", sequence_length={"inputs": 64, "targets": 64},
                                   num_examples=0)


def test_language_shares_follow_the_alpha_formula():
    shares = stats.language_shares("alexatm_pretrain")
    assert set(shares) == {"mc4", "wiki"}
    for corpus, counts in pretraining.EXAMPLE_COUNTS.items():
        expected = pretraining.language_sampling_rates(counts, alpha=0.5)
        assert shares[corpus] == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ValueError, match="not a pretraining task"):
        stats.language_shares("alexatm_default_pretrain")
    with pytest.raises(ValueError, match="is a task"):
        stats.language_shares("alexatm_default_clm")


def test_packing_efficiency_counts_real_positions():
    # Every example: 5 input and 7 target tokens; rows of 16 hold two packed examples (3 x 7 > 16).
    def dataset_fn(split, shuffle_files, seed=None):
        del split, shuffle_files, seed
        return tf.data.Dataset.from_tensors({"inputs": tf.range(1, 6), "targets": tf.range(1, 8)}).repeat(64)

    feature = seqio.Feature(seqio.PassThroughVocabulary(size=100), add_eos=False)
    add_task("test_fixed_length_examples", source=seqio.FunctionDataSource(dataset_fn, splits=("train",)),
             output_features={"inputs": feature, "targets": feature}, preprocessors=[])
    result = stats.packing_efficiency("test_fixed_length_examples", sequence_length={"inputs": 16, "targets": 16},
                                      num_batches=2, batch_size=4)
    assert result["padded"] == {"encoder": 5 / 16, "decoder": 7 / 16, "examples_per_row": 1.0}
    assert result["packed"] == {"encoder": 10 / 16, "decoder": 14 / 16, "examples_per_row": 2.0}


def test_marked_denoising_text_shows_the_dropped_words():
    vocabulary = default_vocabulary()
    words = vocabulary.encode("wake me up at seven tomorrow")
    first = vocabulary.encode("wake me")
    gap = vocabulary.encode("wake me up at")
    kept = first + words[len(gap):]  # "up at" dropped
    text = stats.marked_denoising_text(kept + [vocabulary.eos_id], words + [vocabulary.eos_id], vocabulary)
    assert text == "wake me [[up at]] seven tomorrow"
