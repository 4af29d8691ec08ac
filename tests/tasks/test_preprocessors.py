"""Pretraining objectives: statistics over thousands of documents, exactness, bad input."""

import numpy as np
import pytest
import seqio
import tensorflow as tf
from scipy import stats

from tasks import data_stats
from tasks import preprocessors as prep
from tasks.pretraining import output_features, pretraining_preprocessors
from tasks.seqio_vocabulary import default_vocabulary


def _docs_dataset(lengths, first_id=10):
    """Documents of distinct ids (first_id, first_id + 1, ...), so dropped tokens are identifiable."""
    docs = [np.arange(first_id, first_id + n, dtype=np.int32) for n in lengths]
    return tf.data.Dataset.from_generator(
        lambda: ({"targets": d} for d in docs), output_signature={"targets": tf.TensorSpec([None], tf.int32)}
    )


def _run(preprocessor, ds, seed=1234, **kwargs):
    with seqio.map_seed_manager(seed):
        out = preprocessor(ds, **kwargs)
    return list(out.as_numpy_iterator())


def _spans(mask):
    """Lengths of the runs of True in a boolean array."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    starts, ends = np.flatnonzero(np.diff(padded) == 1), np.flatnonzero(np.diff(padded) == -1)
    return ends - starts


def _denoise_stats(examples):
    dropped = total = 0
    spans = []
    for ex in examples:
        targets, inputs = ex["targets"], ex["inputs"]
        drop = ~np.isin(targets, inputs)
        # Input = the original with exactly the dropped tokens removed, order kept.
        np.testing.assert_array_equal(targets[~drop], inputs)
        dropped += drop.sum()
        total += len(targets)
        spans.extend(_spans(drop))
    return dropped / total, float(np.mean(spans)), np.array(spans)


def test_denoise_statistics_over_thousands_of_documents():
    rng = np.random.default_rng(0)
    lengths = rng.integers(20, 600, size=3000)
    examples = _run(prep.denoise, _docs_dataset(lengths))
    for ex, n in zip(examples, lengths):  # the target is the full original document
        np.testing.assert_array_equal(ex["targets"], np.arange(10, 10 + n))
    fraction, mean_span, spans = _denoise_stats(examples)
    assert abs(fraction - 0.15) < 0.01, fraction
    assert abs(mean_span - 3.0) < 0.3, mean_span
    assert spans.min() >= 1
    # Span lengths follow Poisson(3) clipped to >= 1 (zeros become 1): P(1) ~ e^-3 (1 + 3) = 0.2.
    assert 0.16 < np.mean(spans == 1) < 0.25


def test_denoise_on_packed_length_sequences_and_parameters():
    examples = _run(prep.denoise, _docs_dataset([1023] * 300))
    fraction, mean_span, _ = _denoise_stats(examples)
    assert abs(fraction - 0.15) < 0.01 and abs(mean_span - 3.0) < 0.3
    examples = _run(prep.denoise, _docs_dataset([1023] * 300), noise_density=0.3, mean_span_length=8.0)
    fraction, mean_span, _ = _denoise_stats(examples)
    assert abs(fraction - 0.3) < 0.01 and abs(mean_span - 8.0) < 0.5


def test_denoise_is_deterministic_per_seed():
    ds = _docs_dataset([200] * 20)
    a, b, c = _run(prep.denoise, ds, seed=1), _run(prep.denoise, ds, seed=1), _run(prep.denoise, ds, seed=2)
    assert all(np.array_equal(x["inputs"], y["inputs"]) for x, y in zip(a, b))
    assert not all(np.array_equal(x["inputs"], y["inputs"]) for x, y in zip(a, c))


def test_drop_span_mask_tiny_lengths():
    for n in range(0, 8):
        for s in range(20):
            mask = prep.drop_span_mask(n, tf.constant([[s, 1], [s, 2], [s, 3]])).numpy()
            assert mask.shape == (n,) and mask.sum() <= n // 2


def test_clm_prefix_fraction_is_uniform_and_clm_first():
    rng = np.random.default_rng(1)
    lengths = rng.integers(200, 400, size=4000)
    examples = _run(prep.clm, _docs_dataset(lengths), clm_id=4)
    fractions = []
    for ex, n in zip(examples, lengths):
        assert ex["inputs"][0] == 4
        np.testing.assert_array_equal(np.concatenate([ex["inputs"][1:], ex["targets"]]), np.arange(10, 10 + n))
        fractions.append((len(ex["inputs"]) - 1) / n)
    fractions = np.array(fractions)
    assert fractions.min() >= 0.2 - 1 / 200 and fractions.max() <= 0.8 + 1 / 200
    assert stats.kstest(fractions, stats.uniform(0.2, 0.6).cdf).pvalue > 0.001
    counts, _ = np.histogram(fractions, bins=6, range=(0.2, 0.8))
    np.testing.assert_allclose(counts / len(fractions), 1 / 6, atol=0.025)


def test_clm_reads_clm_id_from_the_vocabulary():
    features = output_features(default_vocabulary())
    (ex,) = _run(prep.clm, _docs_dataset([50]), output_features=features)
    assert ex["inputs"][0] == default_vocabulary().clm_id == 4


def test_spoken_form_share():
    texts = [f"Hello, World number {i}!" for i in range(2000)]
    ds = tf.data.Dataset.from_tensor_slices({"targets": texts})
    out = _run(prep.spoken_form, ds)
    spoken = [ex["targets"].decode() == f"hello world number {i}" for i, ex in enumerate(out)]
    written = [ex["targets"].decode() == texts[i] for i, ex in enumerate(out)]
    assert all(s or w for s, w in zip(spoken, written))
    assert abs(np.mean(spoken) - 0.7) < 0.03


def _task_over_texts(name, texts, objective, **preprocessing):
    def dataset_fn(split, shuffle_files, seed=None):
        return tf.data.Dataset.from_tensor_slices({"text": tf.constant(texts, tf.string)})

    from tasks.registry import add_task

    return add_task(
        name,
        source=seqio.FunctionDataSource(dataset_fn, splits=["train"]),
        preprocessors=pretraining_preprocessors(objective, **preprocessing),
        output_features=output_features(default_vocabulary()),
    )


@pytest.mark.parametrize("objective", ["denoise", "clm"])
def test_bad_documents_are_skipped_split_and_counted(objective):
    good = "Set an alarm for seven tomorrow morning please"
    texts = [
        good.encode(),
        b"",  # empty
        b" \t\n ",  # whitespace only
        b"abc \xff\xfe def",  # invalid UTF-8
        b"ok",  # shorter than a span (too few tokens)
        ("word " * 150).encode(),  # over-long in tokens (150 > 63): split into pieces
        ("x" * 5000).encode(),  # over-long in characters: truncated
    ]
    task = _task_over_texts(f"test_bad_docs_{objective}", texts, objective, max_chars=1000, spoken_share=0.0,
                            min_tokens=4)
    data_stats.reset()
    out = list(task.get_dataset({"inputs": 64, "targets": 64}, split="train", shuffle=False).as_numpy_iterator())
    counts = data_stats.snapshot()
    assert counts.get("skipped_empty") == 2
    assert counts.get("skipped_invalid_utf8") == 1
    assert counts.get("skipped_short_document", 0) >= 1
    assert counts.get("split_long_document", 0) >= 1
    assert counts.get("truncated_long_text") == 1
    assert out and all(len(ex["targets"]) <= 64 and len(ex["inputs"]) <= 64 for ex in out)
    assert all(int(ex["objective"]) == prep.OBJECTIVE_IDS[objective] for ex in out)
    if objective == "clm":
        assert all(ex["inputs"][0] == 4 and ex["inputs"][-1] == 2 and ex["targets"][-1] == 2 for ex in out)
