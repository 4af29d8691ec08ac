"""The attention visibility rule, defined once for the kernels, their references and the model.

Key j is visible to query i iff their segment ids are equal and non-zero (0 = padding; packed sequences carry
1..n), both lie inside their lengths when lengths are given, and, when causal, `j <= i + q_offset`. The offset
defaults to `S_kv - S_q` (bottom-right alignment: the last query sees every key); cached decoding passes the
cache index instead. The Pallas kernels apply the same rule tile by tile.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp


def visibility_mask(
    batch: int,
    seq_q: int,
    seq_kv: int,
    *,
    q_segment_ids: jax.Array | None = None,
    kv_segment_ids: jax.Array | None = None,
    q_lengths: jax.Array | None = None,
    kv_lengths: jax.Array | None = None,
    causal: bool = False,
    q_offset: Any = None,
) -> jax.Array:
    """[B, S_q, S_kv] bool: True where key j is visible to query i (see the module docstring)."""
    if (q_segment_ids is None) != (kv_segment_ids is None):
        raise ValueError("pass both q_segment_ids and kv_segment_ids, or neither")
    qi = jnp.arange(seq_q)[:, None]
    kj = jnp.arange(seq_kv)[None, :]
    mask = jnp.ones((batch, seq_q, seq_kv), bool)
    if q_segment_ids is not None:
        qs = q_segment_ids[:, :, None]
        mask &= (qs == kv_segment_ids[:, None, :]) & (qs != 0)
    if q_lengths is not None:
        mask &= qi[None] < q_lengths[:, None, None]
    if kv_lengths is not None:
        mask &= kj[None] < kv_lengths[:, None, None]
    if causal:
        offset = seq_kv - seq_q if q_offset is None else q_offset
        mask &= (kj <= qi + offset)[None]
    return mask
