"""Flash-decoding: one query token per example over a KV cache, split along the key axis.

Each program handles one (split, example, head): it streams its share of the cache in `block_k` rows
and writes an unnormalised partial output with its running max and sum (log2 domain); `api.py`
combines the splits. One query row gives no matmul worth the name, so scores are elementwise
products reduced over the head dim; the kernel is bound by reading the cache.

The cache is never copied or padded: loads past the example's length (or the cache's end) are
masked loads that return 0.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.experimental import pallas as pl
from jax.experimental.pallas import triton as pl_triton  # deprecated in JAX 0.11, still works

_NEG = -0.7 * float(np.finfo(np.float32).max)
_LOG2E = math.log2(math.e)


def _cdiv_nonneg(a, b: int):
    return lax.div(jnp.maximum(a, 0).astype(jnp.int32) + (b - 1), jnp.int32(b))


def _decode_kernel(q_ref, k_ref, v_ref, len_ref, acc_ref, m_ref, l_ref, *,
                   sm_scale: float, block_k: int, split_len: int):
    start = pl.program_id(0) * split_len
    length = len_ref[...]
    q = q_ref[...].astype(jnp.float32) * (sm_scale * _LOG2E)  # [D]

    def body(j, carry):
        acc, m_i, l_i = carry
        k_start = start + j * block_k
        valid = k_start + jnp.arange(block_k, dtype=jnp.int32) < length
        rows = pl.ds(k_start, block_k)
        k = pl_triton.load(k_ref.at[rows, :], mask=valid[:, None], other=0.0).astype(jnp.float32)
        v = pl_triton.load(v_ref.at[rows, :], mask=valid[:, None], other=0.0).astype(jnp.float32)
        s = jnp.where(valid, jnp.sum(k * q[None, :], axis=1), _NEG)
        m_new = jnp.maximum(m_i, jnp.max(s))
        alpha = jnp.exp2(m_i - m_new)
        p = jnp.where(valid, jnp.exp2(s - m_new), 0.0)
        return alpha * acc + jnp.sum(p[:, None] * v, axis=0), m_new, alpha * l_i + jnp.sum(p)

    n = _cdiv_nonneg(jnp.minimum(length - start, split_len), block_k)
    init = (jnp.zeros(q.shape, jnp.float32), jnp.float32(_NEG), jnp.float32(0.0))
    acc, m_i, l_i = lax.fori_loop(0, n, body, init)
    acc_ref[...] = acc
    m_ref[...] = m_i
    l_ref[...] = l_i


def decode_partials(q, k_cache, v_cache, lengths, *, sm_scale: float, block_k: int, num_splits: int,
                    interpret: bool, num_warps: int = 4, num_stages: int = 2):
    """-> (acc [B, H, splits, D], max [B, H, splits], sum [B, H, splits]), all float32, log2 domain.

    `lengths` must already be clipped to [0, S]; split s covers cache rows [s * L, (s + 1) * L) with
    L = cdiv(S, num_splits) rounded up to a multiple of block_k.
    """
    batch, heads, head_dim = q.shape
    seq = k_cache.shape[1]
    split_len = pl.cdiv(pl.cdiv(seq, num_splits), block_k) * block_k
    cache_spec = pl.BlockSpec((None, seq, None, head_dim), lambda s, b, h: (b, 0, h, 0))
    part = (batch, heads, num_splits)
    return pl.pallas_call(
        functools.partial(_decode_kernel, sm_scale=sm_scale, block_k=block_k, split_len=split_len),
        grid=(num_splits, batch, heads),
        in_specs=[
            pl.BlockSpec((None, None, head_dim), lambda s, b, h: (b, h, 0)),
            cache_spec,
            cache_spec,
            pl.BlockSpec((None,), lambda s, b, h: (b,)),
        ],
        out_specs=[
            pl.BlockSpec((None, None, None, head_dim), lambda s, b, h: (b, h, s, 0)),
            pl.BlockSpec((None, None, None), lambda s, b, h: (b, h, s)),
            pl.BlockSpec((None, None, None), lambda s, b, h: (b, h, s)),
        ],
        out_shape=[
            jax.ShapeDtypeStruct((*part, head_dim), jnp.float32),
            jax.ShapeDtypeStruct(part, jnp.float32),
            jax.ShapeDtypeStruct(part, jnp.float32),
        ],
        compiler_params=None if interpret else pl_triton.CompilerParams(
            num_warps=num_warps, num_stages=num_stages),
        interpret=interpret,
        name="decode_attention_split",
    )(q, k_cache, v_cache, lengths)


def combine_splits(acc, m_split, l_split):
    """Merges per-split partial results (log2 domain) into [B, H, D] float32; no key -> 0."""
    m_max = jnp.max(m_split, axis=-1, keepdims=True)
    w = jnp.exp2(m_split - m_max)  # empty splits: m = NEG, so w = 0 unless every split is empty
    total = jnp.sum(w * l_split, axis=-1)
    out = jnp.sum(w[..., None] * acc, axis=-2)
    has_key = total > 0.0
    return jnp.where(has_key[..., None], out / jnp.where(has_key, total, 1.0)[..., None], 0.0)
