"""Logit processing for decoding: banned token sequences, stop sequences, the minimum length, top-k / top-p.

Token sequences (banned or stop) travel as one int32 array `[N, L]`, each sequence right-aligned and the free
slots on the left set to `WILDCARD`. Generated tokens are matched against a history buffer whose slots that hold
no generated token (before the first one, or not yet written) are `EMPTY`, which matches nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from alexatm_jax.shapes import bucket

WILDCARD = -1  # A free slot of a right-aligned token sequence: matches anything.
EMPTY = -2  # A history slot without a generated token: matches no token (ids are >= 0).
NEVER = -3  # A padding row of a sequence array: matches nothing, bans nothing.
MIN_SHAPE = (4, 4)  # Smallest [N, L] of a packed sequence array.
NEG_INF = -jnp.inf


def pack_token_sequences(sequences: Sequence[Sequence[int]] | None, *, name: str,
                         vocab_size: int) -> np.ndarray:
    """Right-aligns token sequences into an int32 `[N, L]` array (free slots `WILDCARD`); checks the ids.

    `N` and `L` are rounded up to powers of two, at least `MIN_SHAPE` (padding rows are `NEVER`), so that
    decoding with and without a few sequences shares one compiled function (the check costs a `[B, vocab]`
    scatter per step)."""
    seqs = [tuple(int(t) for t in s) for s in (sequences or ())]
    for s in seqs:
        if not s:
            raise ValueError(f"{name} holds an empty token sequence: every sequence needs at least one token.")
        bad = [t for t in s if not 0 <= t < vocab_size]
        if bad:
            raise ValueError(f"{name} holds token ids {bad} outside [0, {vocab_size}): use ids of the model's "
                             "vocabulary.")
    width = max(bucket(max((len(s) for s in seqs), default=1)), MIN_SHAPE[1])
    out = np.full((max(bucket(len(seqs)), MIN_SHAPE[0]), width), NEVER, np.int32)
    out[:len(seqs)] = WILDCARD
    for row, s in enumerate(seqs):
        out[row, width - len(s):] = s
    return out


def suffix_matches(tail: jax.Array, patterns: jax.Array) -> jax.Array:
    """Whether each history tail `[B, L]` ends with each right-aligned pattern `[N, L]`: bool `[B, N]`."""
    equal = (tail[:, None, :] == patterns[None, :, :]) | (patterns[None, :, :] == WILDCARD)
    return jnp.all(equal, axis=-1)


def banned_token_mask(history: jax.Array, num_generated: jax.Array, banned: jax.Array, vocab_size: int,
                      *, offset: int) -> jax.Array:
    """Bool `[B, vocab]`: tokens whose emission now would complete a banned sequence.

    `history` `[B, offset + T]` holds generated token t at column `offset + t`; a banned sequence's last token is
    masked when the tokens generated just before it equal the rest of the sequence (n-gram style).
    """
    batch = history.shape[0]
    num_banned, width = banned.shape
    if num_banned == 0:
        return jnp.zeros((batch, vocab_size), bool)
    prefix_len = width - 1
    if prefix_len:
        tail = jax.lax.dynamic_slice_in_dim(history, offset + num_generated - prefix_len, prefix_len, axis=1)
        hit = suffix_matches(tail, banned[:, :-1])
    else:
        hit = jnp.ones((batch, num_banned), bool)
    hit = hit & (banned[None, :, -1] >= 0)  # Padding rows ban nothing.
    rows = jnp.broadcast_to(jnp.arange(batch)[:, None], hit.shape)
    cols = jnp.broadcast_to(jnp.maximum(banned[None, :, -1], 0), hit.shape)
    mask = jnp.zeros((batch, vocab_size), jnp.int32).at[rows, cols].max(hit.astype(jnp.int32))
    return mask.astype(bool)


def ends_with_stop_sequence(history: jax.Array, num_generated: jax.Array, stops: jax.Array,
                            *, offset: int) -> jax.Array:
    """Bool `[B]`: the generated tokens (the first `num_generated`) end with one of the stop sequences."""
    if stops.shape[0] == 0:
        return jnp.zeros(history.shape[:1], bool)
    width = stops.shape[1]
    tail = jax.lax.dynamic_slice_in_dim(history, offset + num_generated - width, width, axis=1)
    return jnp.any(suffix_matches(tail, stops), axis=-1)


def mask_logits(logits: jax.Array, *, history: jax.Array, num_generated: jax.Array, banned: jax.Array,
                min_new_tokens: jax.Array, eos_token_id: int, offset: int) -> jax.Array:
    """Sets to -inf the logits of banned continuations and, before `min_new_tokens`, of EOS."""
    vocab = logits.shape[-1]
    blocked = banned_token_mask(history, num_generated, banned, vocab, offset=offset)
    too_short = num_generated < min_new_tokens
    blocked = blocked | ((jnp.arange(vocab) == eos_token_id)[None, :] & too_short)
    return jnp.where(blocked, NEG_INF, logits)


def filter_top_k_top_p(logits: jax.Array, top_k: jax.Array, top_p: jax.Array) -> jax.Array:
    """Keeps, per row, the `top_k` largest logits and the smallest most-likely set whose probability reaches
    `top_p` (their intersection; ties at the boundary kept), the rest -inf. The most likely token always stays,
    so `top_k=1` or `top_p -> 0` is greedy; `top_k >= vocab` and `top_p >= 1` filter nothing. Both are run-time
    values (one sort per step), so changing them does not recompile."""
    vocab = logits.shape[-1]
    sorted_logits = jnp.sort(logits, axis=-1)[..., ::-1]
    probs = jax.nn.softmax(sorted_logits, axis=-1)
    mass_before = jnp.cumsum(probs, axis=-1) - probs
    rank = jnp.arange(vocab)
    keep = ((mass_before < top_p) & (rank < top_k)) | (rank == 0)
    threshold = jnp.min(jnp.where(keep, sorted_logits, jnp.inf), axis=-1, keepdims=True)
    return jnp.where(logits < threshold, NEG_INF, logits)


def choose_tokens(logits: jax.Array, rng: jax.Array, *, do_sample: bool, filter_logits: bool,
                  temperature: jax.Array, top_k: jax.Array, top_p: jax.Array) -> jax.Array:
    """Next tokens `[B]`: argmax, or a sample of `softmax(logits / temperature)` after top-k / top-p."""
    if not do_sample:
        return jnp.argmax(logits, axis=-1).astype(jnp.int32)
    top = jnp.max(logits, axis=-1, keepdims=True)
    # Shifted so the best logit is 0: a tiny temperature drives the others to -inf, never to inf or NaN.
    scaled = (logits - jnp.where(jnp.isfinite(top), top, 0.0)) / temperature
    if filter_logits:
        scaled = filter_top_k_top_p(scaled, top_k, top_p)
    return jax.random.categorical(rng, scaled, axis=-1).astype(jnp.int32)
