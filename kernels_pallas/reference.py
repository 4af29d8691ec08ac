"""Plain-jnp attention with the kernels' exact semantics, in float32: the ground truth for tests.

Materialises the full [S_q, S_kv] score matrix, so use it for checking, not for long sequences.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from kernels_pallas.masks import visibility_mask

# A finite stand-in for -inf, so that fully masked rows stay NaN-free in value and gradient.
_MASKED = -1e30
_HIGHEST = jax.lax.Precision.HIGHEST


def attention_reference(
    q: jax.Array,
    k: jax.Array,
    v: jax.Array,
    *,
    q_segment_ids: jax.Array | None = None,
    kv_segment_ids: jax.Array | None = None,
    q_lengths: jax.Array | None = None,
    kv_lengths: jax.Array | None = None,
    causal: bool = False,
    sm_scale: float | None = None,
    block_q: int | None = None,
    block_k: int | None = None,
    interpret: bool | None = None,
    backend: str | None = None,
) -> jax.Array:
    """Same contract as `kernels_pallas.flash_attention`; block/interpret/backend are ignored."""
    del block_q, block_k, interpret, backend
    batch, seq_q, _, head_dim = q.shape
    seq_kv = k.shape[1]
    scale = 1.0 / math.sqrt(head_dim) if sm_scale is None else sm_scale
    mask = visibility_mask(
        batch, seq_q, seq_kv, q_segment_ids=q_segment_ids, kv_segment_ids=kv_segment_ids,
        q_lengths=q_lengths, kv_lengths=kv_lengths, causal=causal,
    )[:, None]  # [B, 1, S_q, S_kv]
    f32 = jnp.float32
    logits = jnp.einsum("bqhd,bkhd->bhqk", q.astype(f32), k.astype(f32), precision=_HIGHEST) * scale
    probs = jax.nn.softmax(jnp.where(mask, logits, _MASKED), axis=-1)
    probs = jnp.where(mask, probs, 0.0)  # rows with no visible key: exactly 0
    out = jnp.einsum("bhqk,bkhd->bqhd", probs, v.astype(f32), precision=_HIGHEST)
    return out.astype(q.dtype)


def decode_attention_reference(
    q: jax.Array,
    k_cache: jax.Array,
    v_cache: jax.Array,
    lengths: jax.Array,
    *,
    sm_scale: float | None = None,
    block_k: int | None = None,
    num_splits: int | None = None,
    interpret: bool | None = None,
) -> jax.Array:
    """Same contract as `kernels_pallas.decode_attention`: q [B, H, D] over cache positions < length."""
    del block_k, num_splits, interpret
    out = attention_reference(
        q[:, None], k_cache, v_cache, kv_lengths=lengths, sm_scale=sm_scale,
    )
    return out[:, 0]
