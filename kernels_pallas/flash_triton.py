"""FlashAttention-2 forward and backward as Pallas kernels for the Triton GPU backend (and interpret mode).

Inputs arrive already padded by `api.py`: lengths are multiples of every block size used and the head
dim is a power of two >= 16. `FlashConfig` carries the true lengths, so padded rows and keys are
masked here. Scores live in the log2 domain (scaled by log2(e)) so the kernels can use exp2; the saved
logsumexp is in that domain too and never leaves this module.

Forward: grid (query tile, batch, head), online softmax over key tiles. Backward (FlashAttention-2):
delta = rowsum(dO * O) in XLA, then a dq kernel (grid over query tiles, loop over key tiles) and a
dk/dv kernel (grid over key tiles, loop over query tiles), both recomputing P from the logsumexp.
Key/query loops stop at the causal diagonal and at the per-example lengths.

Masking: a key block is processed without any mask when every (row, key) pair in the tile is visible
(no segments, fully inside the lengths, fully below the causal diagonal); otherwise scores are masked
to a large negative finite value and the probabilities are zeroed explicitly, so a row that sees no
key at all keeps l = 0 and acc = 0 and is written as exactly 0 (never NaN).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.experimental import pallas as pl
from jax.experimental.pallas import triton as pl_triton  # deprecated in JAX 0.11, still works

_NEG = -0.7 * float(np.finfo(np.float32).max)  # masked score: finite, so NEG - NEG = 0, never NaN
_EMPTY_ROW_LSE = 0.7 * float(np.finfo(np.float32).max)  # makes exp2(s - lse) = 0 for rows without keys
_LOG2E = math.log2(math.e)


@dataclasses.dataclass(frozen=True)
class FlashConfig:
    """Static description of one flash-attention call (hashable: used as a custom_vjp nondiff arg)."""

    seq_q: int  # true lengths, before padding
    seq_kv: int
    seq_q_pad: int
    seq_kv_pad: int
    causal: bool
    sm_scale: float
    block_q: int  # forward kernel tiles
    block_k: int
    bwd_block_q: int  # tiles of both backward kernels
    bwd_block_k: int
    interpret: bool
    backend: str = "triton"  # of the forward kernel; the backward kernels are Triton's
    num_warps: int | None = None
    num_stages: int | None = None
    bwd_num_warps: int | None = None
    bwd_num_stages: int | None = None

    @property
    def causal_offset(self) -> int:
        """Bottom-right alignment: key j is visible to query i iff j <= i + offset."""
        return self.seq_kv - self.seq_q


def _compiler_params(cfg: FlashConfig, backward: bool):
    if cfg.interpret:
        return None
    if backward:
        return pl_triton.CompilerParams(num_warps=cfg.bwd_num_warps, num_stages=cfg.bwd_num_stages)
    return pl_triton.CompilerParams(num_warps=cfg.num_warps, num_stages=cfg.num_stages)


def _precision(dtype) -> lax.Precision | None:
    # Triton's default for fp32 dots is TF32, which is far from the 1e-5 we promise in fp32.
    return lax.Precision.HIGHEST if jnp.dtype(dtype) == jnp.float32 else None


def _dot(a, b, contract: tuple[int, int], precision):
    """2-D matmul with fp32 accumulation; contract=(1, 1) is a @ b.T, (0, 0) is a.T @ b, (1, 0) is a @ b."""
    return lax.dot_general(
        a, b, (((contract[0],), (contract[1],)), ((), ())),
        precision=precision, preferred_element_type=jnp.float32,
    )


def _div(a, b: int):
    """Floor division of a non-negative int32 scalar (plain `//` lowers poorly on Triton)."""
    return lax.div(jnp.maximum(a, 0).astype(jnp.int32), jnp.int32(b))


def _cdiv(a, b: int):
    return _div(jnp.maximum(a, 0) + (b - 1), b)


@dataclasses.dataclass(frozen=True)
class _Masking:
    """Which visibility rules apply to this call (static), and their per-example bounds (traced)."""

    mask_q: bool  # rows beyond q_bound exist (q lengths given, or padded rows)
    mask_kv: bool  # keys beyond kv_bound exist
    causal_offset: int | None
    segments: bool

    @property
    def any(self) -> bool:
        return self.mask_q or self.mask_kv or self.causal_offset is not None or self.segments


def _masking(cfg: FlashConfig, qlen_ref, kvlen_ref, qseg_ref) -> tuple[_Masking, object, object]:
    m = _Masking(
        mask_q=qlen_ref is not None or cfg.seq_q != cfg.seq_q_pad,
        mask_kv=kvlen_ref is not None or cfg.seq_kv != cfg.seq_kv_pad,
        causal_offset=cfg.causal_offset if cfg.causal else None,
        segments=qseg_ref is not None,
    )
    q_bound = cfg.seq_q if qlen_ref is None else qlen_ref[...]
    kv_bound = cfg.seq_kv if kvlen_ref is None else kvlen_ref[...]
    return m, q_bound, kv_bound


def _visible(m: _Masking, q_pos, k_pos, q_bound, kv_bound, q_seg, kv_seg):
    """[bq, bk] visibility of keys k_pos to queries q_pos."""
    mask = jnp.ones((q_pos.shape[0], k_pos.shape[0]), jnp.bool_)
    if m.mask_q:
        mask &= (q_pos < q_bound)[:, None]
    if m.mask_kv:
        mask &= (k_pos < kv_bound)[None, :]
    if m.causal_offset is not None:
        mask &= k_pos[None, :] <= q_pos[:, None] + m.causal_offset
    if m.segments:
        mask &= (q_seg[:, None] == kv_seg[None, :]) & (q_seg != 0)[:, None]
    return mask


def _run_loops(body, carry, lo, free_lo, free_hi, hi, *, lead_masked: bool, tail_masked: bool):
    """Runs body over blocks [lo, hi): masked in [lo, free_lo) and [free_hi, hi), unmasked in between.

    Callers guarantee lo <= free_lo <= free_hi <= hi, free_lo == lo unless lead_masked and
    free_hi == hi unless tail_masked, so statically impossible loops are not even traced.
    """
    if lead_masked:
        carry = lax.fori_loop(lo, free_lo, functools.partial(body, masked=True), carry)
    carry = lax.fori_loop(free_lo, free_hi, functools.partial(body, masked=False), carry)
    if tail_masked:
        carry = lax.fori_loop(free_hi, hi, functools.partial(body, masked=True), carry)
    return carry


def _kv_block_range(m: _Masking, q_start, bq: int, bk: int, q_bound, kv_bound, seq_kv_pad: int):
    """For the query rows [q_start, q_start + bq): key blocks (n_free unmasked first, n in total)."""
    hi_key = kv_bound
    if m.causal_offset is not None:
        hi_key = jnp.minimum(hi_key, q_start + bq + m.causal_offset)
    n = _cdiv(hi_key, bk)
    if m.mask_q:
        n = jnp.where(q_start < q_bound, n, 0)
    if m.segments or not m.any:
        return (0 if m.segments else n), n
    free_end = kv_bound if m.mask_kv else seq_kv_pad
    if m.causal_offset is not None:
        free_end = jnp.minimum(free_end, q_start + m.causal_offset + 1)
    if m.mask_q:
        free_end = jnp.where(q_start + bq <= q_bound, free_end, 0)
    return jnp.minimum(_div(free_end, bk), n), n


def _fwd_kernel(q_ref, k_ref, v_ref, qseg_ref, kvseg_ref, qlen_ref, kvlen_ref, o_ref, lse_ref, *,
                cfg: FlashConfig):
    bq, bk = cfg.block_q, cfg.block_k
    m, q_bound, kv_bound = _masking(cfg, qlen_ref, kvlen_ref, qseg_ref)
    q_start = pl.program_id(0) * bq
    q_pos = q_start + jnp.arange(bq, dtype=jnp.int32)
    q = q_ref[...]
    q_seg = qseg_ref[...] if m.segments else None
    prec = _precision(q.dtype)
    scale = cfg.sm_scale * _LOG2E

    def body(j, carry, *, masked: bool):
        acc, m_i, l_i = carry
        k_start = j * bk
        k = k_ref[pl.ds(k_start, bk), :]
        v = v_ref[pl.ds(k_start, bk), :]
        s = _dot(q, k, (1, 1), prec) * scale
        if masked:
            kv_seg = kvseg_ref[pl.ds(k_start, bk)] if m.segments else None
            k_pos = k_start + jnp.arange(bk, dtype=jnp.int32)
            vis = _visible(m, q_pos, k_pos, q_bound, kv_bound, q_seg, kv_seg)
            s = jnp.where(vis, s, _NEG)
        m_new = jnp.maximum(m_i, jnp.max(s, axis=1))
        alpha = jnp.exp2(m_i - m_new)
        p = jnp.exp2(s - m_new[:, None])
        if masked:
            p = jnp.where(vis, p, 0.0)
        l_new = alpha * l_i + jnp.sum(p, axis=1)
        acc = acc * alpha[:, None] + _dot(p.astype(v.dtype), v, (1, 0), prec)
        return acc, m_new, l_new

    carry = (
        jnp.zeros((bq, q.shape[-1]), jnp.float32),
        jnp.full((bq,), _NEG, jnp.float32),
        jnp.zeros((bq,), jnp.float32),
    )
    n_free, n = _kv_block_range(m, q_start, bq, bk, q_bound, kv_bound, cfg.seq_kv_pad)
    acc, m_i, l_i = _run_loops(body, carry, 0, 0, n_free, n, lead_masked=False, tail_masked=m.any)
    has_key = l_i > 0.0
    l_safe = jnp.where(has_key, l_i, 1.0)
    o_ref[...] = (acc / l_safe[:, None]).astype(o_ref.dtype)
    lse_ref[...] = jnp.where(has_key, m_i + jnp.log2(l_safe), _EMPTY_ROW_LSE)


def _dq_kernel(q_ref, k_ref, v_ref, do_ref, lse_ref, delta_ref, qseg_ref, kvseg_ref, qlen_ref, kvlen_ref,
               dq_ref, *, cfg: FlashConfig):
    bq, bk = cfg.bwd_block_q, cfg.bwd_block_k
    m, q_bound, kv_bound = _masking(cfg, qlen_ref, kvlen_ref, qseg_ref)
    q_start = pl.program_id(0) * bq
    q_pos = q_start + jnp.arange(bq, dtype=jnp.int32)
    q = q_ref[...]
    do = do_ref[...]
    lse = lse_ref[...]
    delta = delta_ref[...]
    q_seg = qseg_ref[...] if m.segments else None
    prec = _precision(q.dtype)
    scale = cfg.sm_scale * _LOG2E

    def body(j, dq, *, masked: bool):
        k_start = j * bk
        k = k_ref[pl.ds(k_start, bk), :]
        v = v_ref[pl.ds(k_start, bk), :]
        s = _dot(q, k, (1, 1), prec) * scale
        if masked:
            kv_seg = kvseg_ref[pl.ds(k_start, bk)] if m.segments else None
            k_pos = k_start + jnp.arange(bk, dtype=jnp.int32)
            s = jnp.where(_visible(m, q_pos, k_pos, q_bound, kv_bound, q_seg, kv_seg), s, _NEG)
        p = jnp.exp2(s - lse[:, None])
        dp = _dot(do, v, (1, 1), prec)
        ds = p * (dp - delta[:, None])
        return dq + _dot(ds.astype(k.dtype), k, (1, 0), prec)

    n_free, n = _kv_block_range(m, q_start, bq, bk, q_bound, kv_bound, cfg.seq_kv_pad)
    dq = jnp.zeros((bq, q.shape[-1]), jnp.float32)
    dq = _run_loops(body, dq, 0, 0, n_free, n, lead_masked=False, tail_masked=m.any)
    dq_ref[...] = (dq * cfg.sm_scale).astype(dq_ref.dtype)


def _dkdv_kernel(q_ref, k_ref, v_ref, do_ref, lse_ref, delta_ref, qseg_ref, kvseg_ref, qlen_ref, kvlen_ref,
                 dk_ref, dv_ref, *, cfg: FlashConfig):
    bq, bk = cfg.bwd_block_q, cfg.bwd_block_k
    m, q_bound, kv_bound = _masking(cfg, qlen_ref, kvlen_ref, qseg_ref)
    k_start = pl.program_id(0) * bk
    k_pos = k_start + jnp.arange(bk, dtype=jnp.int32)
    k = k_ref[...]
    v = v_ref[...]
    kv_seg = kvseg_ref[...] if m.segments else None
    prec = _precision(k.dtype)
    scale = cfg.sm_scale * _LOG2E

    def body(i, carry, *, masked: bool):
        dk, dv = carry
        q_start = i * bq
        q = q_ref[pl.ds(q_start, bq), :]
        do = do_ref[pl.ds(q_start, bq), :]
        lse = lse_ref[pl.ds(q_start, bq)]
        delta = delta_ref[pl.ds(q_start, bq)]
        s = _dot(q, k, (1, 1), prec) * scale
        if masked:
            q_seg = qseg_ref[pl.ds(q_start, bq)] if m.segments else None
            q_pos = q_start + jnp.arange(bq, dtype=jnp.int32)
            s = jnp.where(_visible(m, q_pos, k_pos, q_bound, kv_bound, q_seg, kv_seg), s, _NEG)
        p = jnp.exp2(s - lse[:, None])  # [bq, bk]
        dv = dv + _dot(p.astype(do.dtype), do, (0, 0), prec)
        dp = _dot(do, v, (1, 1), prec)
        ds = p * (dp - delta[:, None])
        dk = dk + _dot(ds.astype(q.dtype), q, (0, 0), prec)
        return dk, dv

    # Query blocks that can see this key block: from the causal diagonal up to the last valid row.
    lo = _div(k_start - m.causal_offset, bq) if m.causal_offset is not None else 0
    hi = _cdiv(q_bound, bq)
    if m.mask_kv:
        hi = jnp.where(k_start < kv_bound, hi, 0)
    lo = jnp.minimum(lo, hi)
    if not m.any:
        free_lo, free_hi = lo, hi
    elif m.segments:
        free_lo = free_hi = lo
    else:
        free_lo = lo
        if m.causal_offset is not None:  # rows i >= k_start + bk - 1 - offset see the whole key block
            free_lo = jnp.clip(_cdiv(k_start + bk - 1 - m.causal_offset, bq), lo, hi)
        free_hi = jnp.clip(_div(q_bound, bq), free_lo, hi) if m.mask_q else hi
        if m.mask_kv:  # a key block that straddles kv_bound is masked for every row
            straddles = k_start + bk > kv_bound
            free_lo = jnp.where(straddles, lo, free_lo)
            free_hi = jnp.where(straddles, lo, free_hi)
    carry = (jnp.zeros((bk, k.shape[-1]), jnp.float32), jnp.zeros((bk, v.shape[-1]), jnp.float32))
    dk, dv = _run_loops(
        body, carry, lo, free_lo, free_hi, hi,
        lead_masked=m.causal_offset is not None and not m.segments,
        tail_masked=m.segments or m.mask_q or m.mask_kv,
    )
    dk_ref[...] = (dk * cfg.sm_scale).astype(dk_ref.dtype)
    dv_ref[...] = dv.astype(dv_ref.dtype)


def _aux_specs(q_seg, kv_seg, q_len, kv_len, *, q_block: int | None, kv_block: int | None,
               seq_q_pad: int, seq_kv_pad: int):
    """Specs for segment ids ([B, S], a tile or the whole row) and lengths ([B], one scalar)."""
    def seg(x, block, full):
        if x is None:
            return None
        if block is None:
            return pl.BlockSpec((None, full), lambda i, b, h: (b, 0))
        return pl.BlockSpec((None, block), lambda i, b, h: (b, i))

    def length(x):
        return None if x is None else pl.BlockSpec((None,), lambda i, b, h: (b,))

    return [seg(q_seg, q_block, seq_q_pad), seg(kv_seg, kv_block, seq_kv_pad), length(q_len), length(kv_len)]


def flash_forward(q, k, v, q_seg, kv_seg, q_len, kv_len, cfg: FlashConfig):
    """Padded inputs -> (out [B, S_q_pad, H, D], lse [B, H, S_q_pad] float32, log2 domain)."""
    batch, seq_q_pad, heads, head_dim = q.shape
    bq = cfg.block_q
    q_tile = pl.BlockSpec((None, bq, None, head_dim), lambda i, b, h: (b, i, h, 0))
    kv_whole = pl.BlockSpec((None, cfg.seq_kv_pad, None, head_dim), lambda i, b, h: (b, 0, h, 0))
    in_specs = [q_tile, kv_whole, kv_whole] + _aux_specs(
        q_seg, kv_seg, q_len, kv_len, q_block=bq, kv_block=None,
        seq_q_pad=cfg.seq_q_pad, seq_kv_pad=cfg.seq_kv_pad,
    )
    return pl.pallas_call(
        functools.partial(_fwd_kernel, cfg=cfg),
        grid=(seq_q_pad // bq, batch, heads),
        in_specs=in_specs,
        out_specs=[q_tile, pl.BlockSpec((None, None, bq), lambda i, b, h: (b, h, i))],
        out_shape=[
            jax.ShapeDtypeStruct(q.shape, q.dtype),
            jax.ShapeDtypeStruct((batch, heads, seq_q_pad), jnp.float32),
        ],
        compiler_params=_compiler_params(cfg, backward=False),
        interpret=cfg.interpret,
        name="flash_attention_fwd",
    )(q, k, v, q_seg, kv_seg, q_len, kv_len)


def flash_backward(q, k, v, q_seg, kv_seg, q_len, kv_len, out, lse, d_out, cfg: FlashConfig):
    """Padded inputs and cotangent -> (dq, dk, dv), each in its input's dtype."""
    batch, seq_q_pad, heads, head_dim = q.shape
    bq, bk = cfg.bwd_block_q, cfg.bwd_block_k
    d_out = d_out.astype(q.dtype)
    # delta_i = sum_d dO_id * O_id: a memory-bound row reduction that XLA fuses into one pass.
    delta = jnp.einsum("bqhd,bqhd->bhq", d_out.astype(jnp.float32), out.astype(jnp.float32))
    args = (q, k, v, d_out, lse, delta, q_seg, kv_seg, q_len, kv_len)

    q_tile = pl.BlockSpec((None, bq, None, head_dim), lambda i, b, h: (b, i, h, 0))
    q_whole = pl.BlockSpec((None, seq_q_pad, None, head_dim), lambda i, b, h: (b, 0, h, 0))
    kv_tile = pl.BlockSpec((None, bk, None, head_dim), lambda i, b, h: (b, i, h, 0))
    kv_whole = pl.BlockSpec((None, cfg.seq_kv_pad, None, head_dim), lambda i, b, h: (b, 0, h, 0))
    row_tile = pl.BlockSpec((None, None, bq), lambda i, b, h: (b, h, i))
    row_whole = pl.BlockSpec((None, None, seq_q_pad), lambda i, b, h: (b, h, 0))

    dq = pl.pallas_call(
        functools.partial(_dq_kernel, cfg=cfg),
        grid=(seq_q_pad // bq, batch, heads),
        in_specs=[q_tile, kv_whole, kv_whole, q_tile, row_tile, row_tile] + _aux_specs(
            q_seg, kv_seg, q_len, kv_len, q_block=bq, kv_block=None,
            seq_q_pad=seq_q_pad, seq_kv_pad=cfg.seq_kv_pad,
        ),
        out_specs=q_tile,
        out_shape=jax.ShapeDtypeStruct(q.shape, q.dtype),
        compiler_params=_compiler_params(cfg, backward=True),
        interpret=cfg.interpret,
        name="flash_attention_bwd_dq",
    )(*args)

    dk, dv = pl.pallas_call(
        functools.partial(_dkdv_kernel, cfg=cfg),
        grid=(cfg.seq_kv_pad // bk, batch, heads),
        in_specs=[q_whole, kv_tile, kv_tile, q_whole, row_whole, row_whole] + _aux_specs(
            q_seg, kv_seg, q_len, kv_len, q_block=None, kv_block=bk,
            seq_q_pad=seq_q_pad, seq_kv_pad=cfg.seq_kv_pad,
        ),
        out_specs=[kv_tile, kv_tile],
        out_shape=[jax.ShapeDtypeStruct(k.shape, k.dtype), jax.ShapeDtypeStruct(v.shape, v.dtype)],
        compiler_params=_compiler_params(cfg, backward=True),
        interpret=cfg.interpret,
        name="flash_attention_bwd_dkdv",
    )(*args)
    return dq, dk, dv
