"""AlexaTM pretraining objectives as seqio preprocessors (stateless seeds; plain keyword arguments).

* `denoise`: drop ~15% of the tokens in Poisson(3) spans, no mask tokens; input = the sequence with the
  spans removed, target = the full original (BART-style, not T5 sentinels).
* `clm`: `[CLM]` + a uniformly random 20-80% prefix of one document in, the rest out.
* `spoken_form`: lowercase and strip punctuation for a share (0.7) of the documents.
* `add_objective`: tags examples (0 denoise, 1 CLM) for the per-objective loss.
Document guards live in `tasks.document_filters`, `[DOC]` packing in `tasks.packing`.

Graph helpers here and in those modules are `tf.autograph.experimental.do_not_convert`: they are plain
TF ops, and autograph's source rewriting otherwise dominates pipeline build time (~10 s per process).
"""

from __future__ import annotations

from collections.abc import Mapping

import seqio
import tensorflow as tf

from tasks.document_filters import clean_text, filter_short_documents, split_long_documents
from tasks.packing import pack_documents
from tasks.spoken_form import spoken_form_tf

OBJECTIVE_IDS: dict[str, int] = {"denoise": 0, "clm": 1}
OBJECTIVE_OTHER = -1

__all__ = [
    "OBJECTIVE_IDS",
    "OBJECTIVE_OTHER",
    "add_objective",
    "clean_text",
    "clm",
    "clm_split_point",
    "denoise",
    "drop_span_mask",
    "filter_short_documents",
    "pack_documents",
    "spoken_form",
    "split_long_documents",
]


@tf.autograph.experimental.do_not_convert
def drop_span_mask(
    length: tf.Tensor | int,
    seeds: tf.Tensor,
    noise_density: float = 0.15,
    mean_span_length: float = 3.0,
) -> tf.Tensor:
    """Boolean mask [length], True on the tokens to drop. `seeds`: [3, 2] int (stateless).

    Written here because seqio has no span-dropping op (T5's `random_spans_noise_mask` lives in the `t5`
    package, which we do not depend on, and draws span lengths from a random partition, not Poisson).

    How the statistics are met (no rejection loops, exact per sequence):
    * count: drop d = floor(noise_density * n + u), u ~ U[0, 1) (stochastic rounding: E[d] = 0.15 n for
      any n, so the dropped fraction is 15% on average even over short documents), capped at n // 2;
    * span lengths: Poisson(mean) draws clipped to >= 1 (mean 3 + e^-3 = 3.05 for Poisson(3)), taken
      until they sum to d; the last one is cut to hit d exactly;
    * placement: the k spans go into k distinct gaps chosen uniformly among the m + 1 gaps around the
      m = n - d kept tokens, so spans never touch or merge (a measured span is a sampled span).
    """
    seeds = tf.convert_to_tensor(seeds)
    n = tf.cast(length, tf.int32)
    u = tf.random.stateless_uniform([], seed=seeds[0])
    num_drop = tf.cast(tf.floor(noise_density * tf.cast(n, tf.float32) + u), tf.int32)
    num_drop = tf.clip_by_value(num_drop, 0, n // 2)  # k <= d <= n // 2 guarantees k <= m + 1 gaps
    draws = tf.random.stateless_poisson([num_drop], seed=seeds[1], lam=mean_span_length, dtype=tf.int32)
    draws = tf.maximum(draws, 1)
    ends = tf.cumsum(draws)
    num_spans = tf.reduce_sum(tf.cast(ends - draws < num_drop, tf.int32))
    clipped_ends = tf.minimum(ends[:num_spans], num_drop)
    span_lengths = clipped_ends - tf.concat([[0], clipped_ends[:-1]], 0)
    num_keep = n - num_drop
    # top_k of uniform noise = k distinct gaps in random order (each span lands in a random gap).
    gaps = tf.math.top_k(tf.random.stateless_uniform([num_keep + 1], seed=seeds[2]), k=num_spans).indices
    dropped_before_gap = tf.scatter_nd(gaps[:, None], span_lengths, [num_keep + 1])
    kept_positions = tf.range(num_keep) + tf.cumsum(dropped_before_gap)[:num_keep]
    keep = tf.scatter_nd(kept_positions[:, None], tf.ones([num_keep], tf.bool), [n])
    return tf.logical_not(keep)


@seqio.map_over_dataset(num_seeds=3)
def denoise(
    features: Mapping[str, tf.Tensor],
    seeds: tf.Tensor,
    *,
    noise_density: float = 0.15,
    mean_span_length: float = 3.0,
) -> dict[str, tf.Tensor]:
    """inputs = targets with random spans removed (see `drop_span_mask`); targets = the original tokens."""
    tokens = features["targets"]
    drop = drop_span_mask(tf.size(tokens), seeds, noise_density, mean_span_length)
    return {**features, "inputs": tf.boolean_mask(tokens, tf.logical_not(drop)), "targets": tokens}


@tf.autograph.experimental.do_not_convert
def clm_split_point(length: tf.Tensor | int, seed: tf.Tensor, min_prefix: float = 0.2, max_prefix: float = 0.8):
    """Prefix length round(f * n), f ~ U[min_prefix, max_prefix], kept within [1, n - 1]."""
    n = tf.cast(length, tf.float32)
    frac = tf.random.stateless_uniform([], seed=seed, minval=min_prefix, maxval=max_prefix)
    split = tf.cast(tf.round(frac * n), tf.int32)
    return tf.clip_by_value(split, 1, tf.maximum(tf.cast(length, tf.int32) - 1, 1))


@seqio.map_over_dataset(num_seeds=1)
def clm(
    features: Mapping[str, tf.Tensor],
    seed: tf.Tensor,
    output_features: Mapping[str, seqio.Feature] | None = None,
    *,
    min_prefix: float = 0.2,
    max_prefix: float = 0.8,
    clm_id: int | None = None,
) -> dict[str, tf.Tensor]:
    """inputs = [CLM] + a random 20-80% prefix of the document in "targets"; targets = the rest.

    `clm_id` defaults to the `[CLM]` id of the inputs' vocabulary. Needs documents of >= 2 tokens.
    """
    if clm_id is None:
        vocab = output_features["inputs"].vocabulary if output_features else None
        if not hasattr(vocab, "clm_id"):
            raise ValueError("clm needs clm_id, or output_features with an AlexaTMVocabulary for 'inputs'.")
        clm_id = vocab.clm_id
    tokens = features["targets"]
    split = clm_split_point(tf.size(tokens), seed, min_prefix, max_prefix)
    prefix = tf.concat([tf.constant([clm_id], tokens.dtype), tokens[:split]], 0)
    return {**features, "inputs": prefix, "targets": tokens[split:]}


@seqio.map_over_dataset(num_seeds=1)
def spoken_form(
    features: Mapping[str, tf.Tensor], seed: tf.Tensor, *, share: float = 0.7, feature: str = "targets"
) -> dict[str, tf.Tensor]:
    """With probability `share`, lowercases and strips punctuation from the text in `feature`."""
    text = features[feature]
    spoken = tf.random.stateless_uniform([], seed=seed) < share
    text = tf.cond(spoken, lambda: spoken_form_tf(text), lambda: text)
    return {**features, feature: text}


def add_objective(dataset: tf.data.Dataset, *, objective: str | int) -> tf.data.Dataset:
    """Adds the scalar int32 feature "objective" (0 denoise, 1 CLM, -1 other) for the feature converter."""
    value = OBJECTIVE_IDS.get(objective, objective) if isinstance(objective, str) else objective
    if not isinstance(value, int):
        raise ValueError(f"Unknown objective {objective!r}: expected one of {list(OBJECTIVE_IDS)} or an int.")
    return dataset.map(lambda ex: {**ex, "objective": tf.constant(value, tf.int32)},
                       num_parallel_calls=tf.data.AUTOTUNE)
