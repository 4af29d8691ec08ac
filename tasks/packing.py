"""Packing helpers that never infer lengths from token values.

seqio's packer (`seqio.utils.trim_and_pack_dataset`) measures a sequence by counting its non-zero
tokens, and our vocabularies use id 0 for `<s>`. `pack_sequences` reuses it on ids shifted by +1
(every real token non-zero, padding 0) and shifts back, so lengths always come from the tensors.
"""

from __future__ import annotations

from collections.abc import Mapping

import seqio
import tensorflow as tf

from tasks.document_filters import document_length


def pack_sequences(dataset: tf.data.Dataset, feature_lengths: Mapping[str, int]) -> tf.data.Dataset:
    """Greedy-packs consecutive examples, like `seqio.utils.trim_and_pack_dataset`, for any token values.

    For each feature `k`: `k` (padded with 0), `k_segment_ids` (1..n, 0 = padding) and `k_positions`.
    Examples are trimmed to the lengths first; features not in `feature_lengths` are dropped. An empty
    sequence in any packed feature would shift its segment numbering, so callers filter those out.
    """
    keys = list(feature_lengths)
    shifted = dataset.map(
        lambda ex: {k: tf.cast(ex[k], tf.int32) + 1 for k in keys}, num_parallel_calls=tf.data.AUTOTUNE
    )
    packed = seqio.utils.trim_and_pack_dataset(shifted, feature_lengths)

    # Plain TF ops: skip autograph's rewriting (see tasks.preprocessors).
    @tf.autograph.experimental.do_not_convert
    def unshift(ex):
        out = dict(ex)
        for k in keys:
            real = ex[f"{k}_segment_ids"] > 0
            out[k] = tf.where(real, ex[k] - 1, tf.zeros_like(ex[k]))
        return out

    return packed.map(unshift, num_parallel_calls=tf.data.AUTOTUNE)


def pack_documents(
    dataset: tf.data.Dataset,
    sequence_length: Mapping[str, int] | None = None,
    output_features: Mapping[str, seqio.Feature] | None = None,
    *,
    max_tokens: int | None = None,
    doc_id: int | None = None,
    feature: str = "targets",
) -> tf.data.Dataset:
    """Joins consecutive tokenized documents with `[DOC]` into sequences of at most `max_tokens`.

    Documents are never split here (`split_long_documents` cuts longer ones first; one that still does
    not fit is trimmed by the packer), so every packed sequence is doc, `[DOC]`, doc, ... in input
    order. `max_tokens` defaults to `document_length(sequence_length, "denoise")` (the paper packs to
    ~1024 subwords); `doc_id` to the `[DOC]` id of the feature's vocabulary.
    """
    limit = max_tokens if max_tokens is not None else document_length(sequence_length, "denoise")
    if limit is None:
        raise ValueError("pack_documents needs a length: pass sequence_length (inputs and targets) or max_tokens.")
    if doc_id is None:
        if output_features is None or not hasattr(output_features[feature].vocabulary, "doc_id"):
            raise ValueError("pack_documents needs doc_id, or output_features with an AlexaTMVocabulary.")
        doc_id = output_features[feature].vocabulary.doc_id

    # Each document gets a leading [DOC]; packed rows then read [DOC] d1 [DOC] d2 ...; dropping each
    # row's first token leaves [DOC] only between documents. Rows hold limit + 1 to make room for it.
    with_sep = dataset.map(
        lambda ex: {feature: tf.concat([[tf.cast(doc_id, ex[feature].dtype)], ex[feature]], 0)},
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    packed = pack_sequences(with_sep, {feature: limit + 1})

    @tf.autograph.experimental.do_not_convert
    def strip(ex):
        n = tf.reduce_sum(tf.cast(ex[f"{feature}_segment_ids"] > 0, tf.int32))
        return {feature: ex[feature][1:n]}

    return packed.map(strip, num_parallel_calls=tf.data.AUTOTUNE)
