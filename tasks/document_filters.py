"""Guards against bad documents: skip, split or truncate, and count each event (`tasks.data_stats`).

Counters: `skipped_invalid_utf8`, `skipped_empty`, `truncated_long_text` (characters, before
tokenization), `skipped_short_document` (tokens), `split_long_document` / `truncated_long_document`
(tokens, after tokenization). None of these ever raises on a bad document.
"""

from __future__ import annotations

from collections.abc import Mapping

import tensorflow as tf

from tasks import data_stats

# Documents are split/packed to fit the feature lengths: the room left once the preprocessors add
# their extra tokens (EOS at the end of both features; `[CLM]` at the start of a CLM input).
EOS_RESERVED = 1
CLM_RESERVED = 1


def document_length(sequence_length: Mapping[str, int] | None, objective: str) -> int | None:
    """Longest document (in tokens) an objective can turn into an example within `sequence_length`.

    denoise: the packed sequence is the target and, minus the dropped spans, the input;
    clm: any prefix/rest split must fit ([CLM] + prefix in the inputs, the rest in the targets).
    """
    if not sequence_length or sequence_length.get("inputs") is None or sequence_length.get("targets") is None:
        return None
    inputs, targets = sequence_length["inputs"], sequence_length["targets"]
    if objective == "denoise":
        return min(inputs, targets) - EOS_RESERVED
    if objective == "clm":
        return min(inputs - CLM_RESERVED - EOS_RESERVED, targets - EOS_RESERVED)
    raise ValueError(f"Unknown objective {objective!r}: expected 'denoise' or 'clm'.")


def clean_text(
    dataset: tf.data.Dataset, *, feature: str = "targets", max_chars: int | None = 100_000, count: bool = True
) -> tf.data.Dataset:
    """Skips invalid-UTF-8 and empty/whitespace-only texts; truncates texts over `max_chars` characters."""

    def counted(cond, name):
        return data_stats.count_if(cond, name) if count else cond

    # Plain TF ops: skip autograph's rewriting (see tasks.preprocessors).
    @tf.autograph.experimental.do_not_convert
    def keep(ex):
        text = ex[feature]
        repaired = tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")
        invalid = counted(tf.not_equal(repaired, text), "skipped_invalid_utf8")
        empty = tf.logical_and(tf.logical_not(invalid), tf.strings.regex_full_match(text, r"[\s\pZ]*"))
        empty = counted(empty, "skipped_empty")
        return tf.logical_not(tf.logical_or(invalid, empty))

    @tf.autograph.experimental.do_not_convert
    def truncate(ex):
        text = ex[feature]
        too_long = counted(tf.strings.length(text, unit="UTF8_CHAR") > max_chars, "truncated_long_text")
        text = tf.cond(too_long, lambda: tf.strings.substr(text, 0, max_chars, unit="UTF8_CHAR"), lambda: text)
        return {**ex, feature: text}

    dataset = dataset.filter(keep)
    if max_chars:
        dataset = dataset.map(truncate, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset


def filter_short_documents(
    dataset: tf.data.Dataset, *, min_tokens: int = 4, feature: str = "targets", count: bool = True
) -> tf.data.Dataset:
    """Skips token sequences shorter than `min_tokens` (too short for a span or a prefix/rest split)."""

    @tf.autograph.experimental.do_not_convert
    def keep(ex):
        short = tf.size(ex[feature]) < min_tokens
        if count:
            short = data_stats.count_if(short, "skipped_short_document")
        return tf.logical_not(short)

    return dataset.filter(keep)


def split_long_documents(
    dataset: tf.data.Dataset,
    sequence_length: Mapping[str, int] | None = None,
    *,
    objective: str = "denoise",
    max_tokens: int | None = None,
    mode: str = "split",
    feature: str = "targets",
    count: bool = True,
) -> tf.data.Dataset:
    """Cuts documents longer than `max_tokens` (default: `document_length(sequence_length, objective)`).

    mode "split" keeps every piece as its own document (no text lost), "truncate" keeps the first.
    Without a length (no `sequence_length`, no `max_tokens`) documents pass unchanged.
    """
    if mode not in ("split", "truncate"):
        raise ValueError(f"mode must be 'split' or 'truncate', got {mode!r}")
    limit = max_tokens if max_tokens is not None else document_length(sequence_length, objective)
    if limit is None:
        return dataset
    if limit < 1:
        raise ValueError(f"Feature lengths {dict(sequence_length or {})} leave no room for a document.")

    if mode == "truncate":

        @tf.autograph.experimental.do_not_convert
        def truncate(ex):
            tokens = ex[feature]
            too_long = tf.size(tokens) > limit
            if count:  # (the counter's result is used, so the op always runs)
                too_long = data_stats.count_if(too_long, "truncated_long_document")
            return {**ex, feature: tf.cond(too_long, lambda: tokens[:limit], lambda: tokens)}

        return dataset.map(truncate, num_parallel_calls=tf.data.AUTOTUNE)

    @tf.autograph.experimental.do_not_convert
    def pieces(ex):
        tokens = ex[feature]
        n = tf.size(tokens, out_type=tf.int64)
        num = tf.maximum((n + limit - 1) // limit, 1)
        if count:
            num = tf.where(data_stats.count_if(num > 1, "split_long_document"), num, 1)
        row_lengths = tf.minimum(tf.constant(limit, tf.int64), n - tf.range(num) * limit)
        out = {feature: tf.RaggedTensor.from_row_lengths(tokens, row_lengths)}
        for k, v in ex.items():
            if k != feature:  # other features repeat on every piece
                out[k] = tf.repeat(v[tf.newaxis], num, axis=0)
        return tf.data.Dataset.from_tensor_slices(out)

    return dataset.flat_map(pieces)
