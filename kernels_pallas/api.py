"""Public attention kernels: argument checks, padding to block multiples, custom VJP, backend dispatch.

Backend-specific code lives in its own module (`flash_triton`, `decode_triton`, `flash_mosaic`); this module only
decides what to call and keeps the interface independent of the backend. Backends: `triton` (the default: every
kernel, any float dtype and head dim; deprecated by JAX 0.11 but still shipped and lowered there) and `mosaic_gpu`
(Hopper: the flash-attention forward only, bf16/fp16, head dim a multiple of 64; its backward runs the Triton
kernels, and decoding has no Mosaic kernel yet).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

from kernels_pallas import decode_triton, flash_mosaic, flash_triton

BACKENDS = ("triton", "mosaic_gpu")

# Tile defaults for head dim <= 128, by input itemsize: 128x64 forward tiles as in the FlashAttention-2
# Triton kernels and 64x64 for the backward (two accumulators per tile); fp32 tiles are halved so the
# pipelined K/V buffers still fit in shared memory. Not yet tuned on a GPU.
_FWD_BLOCKS = {2: (128, 64), 4: (64, 32)}
_BWD_BLOCKS = {2: (64, 64), 4: (32, 32)}
_FWD_STAGES = {2: 3, 4: 2}
_DECODE_BLOCK_K = 64
_MIN_BLOCK = 16  # Triton dots need every dim >= 16
_TARGET_DECODE_PROGRAMS = 1024  # enough (split, example, head) programs to fill an H100's 132 SMs


def _next_pow2(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def _round_up(n: int, m: int) -> int:
    return -(-n // m) * m


def _check_block(name: str, block: int | None) -> None:
    if block is not None and (block < _MIN_BLOCK or block & (block - 1)):
        raise ValueError(f"{name}={block} must be a power of two >= {_MIN_BLOCK}")


def _fit(block: int, seq: int) -> int:
    """Shrinks a tile to the (power-of-two rounded) sequence, never below the 16 Triton needs."""
    return max(_MIN_BLOCK, min(block, _next_pow2(seq)))


def resolve_interpret(interpret: bool | None) -> bool:
    """None -> interpret on CPU (the only way Pallas runs there), compile everywhere else."""
    return jax.default_backend() == "cpu" if interpret is None else bool(interpret)


def resolve_backend(backend: str | None) -> str:
    """None -> `triton`: every kernel exists there, and it was the one lowered and tested on this project's JAX."""
    backend = "triton" if backend is None else backend
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS} or None")
    return backend


def _pad_axis(x: jax.Array, axis: int, size: int, value=0) -> jax.Array:
    if x.shape[axis] == size:
        return x
    widths = [(0, 0)] * x.ndim
    widths[axis] = (0, size - x.shape[axis])
    return jnp.pad(x, widths, constant_values=value)


def _check_inputs(q, k, v, q_segment_ids, kv_segment_ids, q_lengths, kv_lengths) -> None:
    if q.ndim != 4 or k.ndim != 4 or k.shape != v.shape:
        raise ValueError(
            f"expected q [B, S_q, H, D] and k, v [B, S_kv, H, D] of equal shape; got {q.shape}, {k.shape}, "
            f"{v.shape}"
        )
    if (q.shape[0], q.shape[2], q.shape[3]) != (k.shape[0], k.shape[2], k.shape[3]):
        raise ValueError(f"q {q.shape} and k {k.shape} disagree on batch, heads or head_dim")
    if not (q.dtype == k.dtype == v.dtype) or not jnp.issubdtype(q.dtype, jnp.floating):
        raise ValueError(f"q, k, v must share one floating dtype; got {q.dtype}, {k.dtype}, {v.dtype}")
    if (q_segment_ids is None) != (kv_segment_ids is None):
        raise ValueError("pass both q_segment_ids and kv_segment_ids (the same array for self-attention)")
    batch, seq_q, seq_kv = q.shape[0], q.shape[1], k.shape[1]
    if q_segment_ids is not None and (
        q_segment_ids.shape != (batch, seq_q) or kv_segment_ids.shape != (batch, seq_kv)
    ):
        raise ValueError(
            f"segment ids must be [B, S_q] = {(batch, seq_q)} and [B, S_kv] = {(batch, seq_kv)}; got "
            f"{q_segment_ids.shape} and {kv_segment_ids.shape}"
        )
    for name, lengths in (("q_lengths", q_lengths), ("kv_lengths", kv_lengths)):
        if lengths is not None and jnp.shape(lengths) != (batch,):
            raise ValueError(f"{name} must have shape [B] = ({batch},); got {jnp.shape(lengths)}")


def _forward(cfg: flash_triton.FlashConfig, q, k, v, q_seg, kv_seg, q_len, kv_len):
    if cfg.backend == "mosaic_gpu":  # lengths arrive folded into the segment ids
        return flash_mosaic.flash_forward(q, k, v, q_seg, kv_seg, cfg)
    return flash_triton.flash_forward(q, k, v, q_seg, kv_seg, q_len, kv_len, cfg)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _flash(cfg: flash_triton.FlashConfig, q, k, v, q_seg, kv_seg, q_len, kv_len):
    return _forward(cfg, q, k, v, q_seg, kv_seg, q_len, kv_len)[0]


def _flash_fwd(cfg, q, k, v, q_seg, kv_seg, q_len, kv_len):
    out, lse = _forward(cfg, q, k, v, q_seg, kv_seg, q_len, kv_len)
    return out, (q, k, v, q_seg, kv_seg, q_len, kv_len, out, lse)


def _flash_bwd(cfg, residuals, d_out):  # both backends' forwards save the same residuals (lse in log2 units)
    q, k, v, q_seg, kv_seg, q_len, kv_len, out, lse = residuals
    dq, dk, dv = flash_triton.flash_backward(q, k, v, q_seg, kv_seg, q_len, kv_len, out, lse, d_out, cfg)
    return dq, dk, dv, None, None, None, None  # segment ids and lengths get no gradient


_flash.defvjp(_flash_fwd, _flash_bwd)


def flash_attention(
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
    """Differentiable fused attention over [B, S, H, D] inputs, never materialising [S_q, S_kv].

    Key j is visible to query i iff q_segment_ids[i] == kv_segment_ids[j] != 0, i < q_lengths,
    j < kv_lengths and, when causal, j <= i + (S_kv - S_q) (bottom-right aligned). Rows with no
    visible key are 0. block_q/block_k (powers of two >= 16) set every kernel's tiles; by default the
    forward uses 128x64 and the backward 64x64 (half that in fp32), shrunk for short sequences.
    Lengths that are not tile multiples are padded here (a copy of q, k, v) and masked in the kernels.
    `backend="mosaic_gpu"` runs the forward as a Hopper Mosaic GPU kernel (64-row query tiles; block_q and
    block_k then set the backward's tiles only).
    """
    _check_inputs(q, k, v, q_segment_ids, kv_segment_ids, q_lengths, kv_lengths)
    _check_block("block_q", block_q)
    _check_block("block_k", block_k)
    backend = resolve_backend(backend)
    interpret = resolve_interpret(interpret)
    batch, seq_q, heads, head_dim = q.shape
    seq_kv = k.shape[1]
    if backend == "mosaic_gpu":
        _check_mosaic(q.dtype, head_dim, interpret)
    if seq_q == 0 or seq_kv == 0:
        return jnp.zeros_like(q)
    sm_scale = 1.0 / math.sqrt(head_dim) if sm_scale is None else float(sm_scale)

    size = 2 if jnp.dtype(q.dtype).itemsize <= 2 else 4
    (fwd_q, fwd_k), (bwd_q, bwd_k) = (
        (_fit(block_q or default_q, seq_q), _fit(block_k or default_k, seq_kv))
        for default_q, default_k in (_FWD_BLOCKS[size], _BWD_BLOCKS[size])
    )
    if backend == "mosaic_gpu":  # fixed tiles: wgmma rows and the shared-memory budget decide them
        fwd_q, fwd_k = flash_mosaic.BLOCK_Q, flash_mosaic.block_k_for(head_dim)
    head_dim_pad = max(_MIN_BLOCK, _next_pow2(head_dim))
    warps = 4 if head_dim_pad <= 64 else 8
    cfg = flash_triton.FlashConfig(
        seq_q=seq_q, seq_kv=seq_kv,
        seq_q_pad=_round_up(seq_q, max(fwd_q, bwd_q)), seq_kv_pad=_round_up(seq_kv, max(fwd_k, bwd_k)),
        causal=bool(causal), sm_scale=sm_scale,
        block_q=fwd_q, block_k=fwd_k, bwd_block_q=bwd_q, bwd_block_k=bwd_k, interpret=interpret, backend=backend,
        num_warps=warps, num_stages=_FWD_STAGES[size], bwd_num_warps=warps, bwd_num_stages=2,
    )

    def pad_rows(x, seq_pad):
        return _pad_axis(_pad_axis(x, 3, head_dim_pad), 1, seq_pad)

    q_seg = kv_seg = q_len = kv_len = None
    if backend == "mosaic_gpu":  # its kernel masks by segment ids alone: lengths and padding become id 0
        q_seg = _pad_axis(_segments_within(q_segment_ids, q_lengths, batch, seq_q), 1, cfg.seq_q_pad)
        kv_seg = _pad_axis(_segments_within(kv_segment_ids, kv_lengths, batch, seq_kv), 1, cfg.seq_kv_pad)
        q_lengths = kv_lengths = None
    elif q_segment_ids is not None:
        q_seg = _pad_axis(q_segment_ids.astype(jnp.int32), 1, cfg.seq_q_pad)
        kv_seg = _pad_axis(kv_segment_ids.astype(jnp.int32), 1, cfg.seq_kv_pad)
    if q_lengths is not None:
        q_len = jnp.clip(jnp.asarray(q_lengths, jnp.int32), 0, seq_q)
    if kv_lengths is not None:
        kv_len = jnp.clip(jnp.asarray(kv_lengths, jnp.int32), 0, seq_kv)
    out = _flash(
        cfg, pad_rows(q, cfg.seq_q_pad), pad_rows(k, cfg.seq_kv_pad), pad_rows(v, cfg.seq_kv_pad),
        q_seg, kv_seg, q_len, kv_len,
    )
    return out[:, :seq_q, :, :head_dim]


def _check_mosaic(dtype, head_dim: int, interpret: bool) -> None:
    if interpret:
        raise ValueError("backend='mosaic_gpu' compiles for Hopper GPUs only; interpret mode (the default on CPU) "
                         "runs the Triton kernels: pass backend='triton' or backend=None.")
    reason = flash_mosaic.unsupported(dtype, head_dim)
    if reason:
        raise ValueError(f"backend='mosaic_gpu' cannot take {reason}: use backend='triton' or backend=None.")


def _segments_within(segment_ids, lengths, batch: int, seq: int) -> jax.Array:
    """Segment ids (all 1 if None) with 0 from each example's length on."""
    ids = jnp.ones((batch, seq), jnp.int32) if segment_ids is None else segment_ids.astype(jnp.int32)
    if lengths is None:
        return ids
    return jnp.where(jnp.arange(seq)[None, :] < jnp.asarray(lengths, jnp.int32)[:, None], ids, 0)


def decode_attention(
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
    """Attention of one new query token per example, q [B, H, D], over a [B, S, H, D] KV cache.

    Cache positions >= lengths[b] are invisible (length 0 gives 0). The key axis is split into
    num_splits parts processed in parallel and merged by their logsumexp (flash-decoding); by default
    enough splits to give about 1024 (split, example, head) programs. Not differentiable.
    """
    if q.ndim != 3 or k_cache.ndim != 4 or k_cache.shape != v_cache.shape:
        raise ValueError(
            f"expected q [B, H, D] and k_cache, v_cache [B, S, H, D]; got {q.shape}, {k_cache.shape}, "
            f"{v_cache.shape}"
        )
    batch, heads, head_dim = q.shape
    if (k_cache.shape[0], k_cache.shape[2], k_cache.shape[3]) != (batch, heads, head_dim):
        raise ValueError(f"q {q.shape} and cache {k_cache.shape} disagree on batch, heads or head_dim")
    if jnp.shape(lengths) != (batch,):
        raise ValueError(f"lengths must have shape [B] = ({batch},); got {jnp.shape(lengths)}")
    if not (q.dtype == k_cache.dtype == v_cache.dtype):
        raise ValueError(f"q and caches must share a dtype; got {q.dtype}, {k_cache.dtype}, {v_cache.dtype}")
    _check_block("block_k", block_k)
    interpret = resolve_interpret(interpret)
    seq = k_cache.shape[1]
    if seq == 0:
        return jnp.zeros_like(q)
    sm_scale = 1.0 / math.sqrt(head_dim) if sm_scale is None else float(sm_scale)
    block_k = _fit(block_k or _DECODE_BLOCK_K, seq)
    n_blocks = -(-seq // block_k)
    if num_splits is None:
        num_splits = -(-_TARGET_DECODE_PROGRAMS // (batch * heads))
    if num_splits < 1:
        raise ValueError(f"num_splits={num_splits} must be >= 1")
    num_splits = -(-n_blocks // -(-n_blocks // min(num_splits, n_blocks)))  # no empty trailing split

    head_dim_pad = max(_MIN_BLOCK, _next_pow2(head_dim))
    if head_dim_pad != head_dim:  # rare slow path: Triton tiles need a power-of-two head dim
        q, k_cache, v_cache = (_pad_axis(x, x.ndim - 1, head_dim_pad) for x in (q, k_cache, v_cache))
    acc, m_max, l_sum = decode_triton.decode_partials(
        q, k_cache, v_cache, jnp.clip(jnp.asarray(lengths, jnp.int32), 0, seq),
        sm_scale=sm_scale, block_k=block_k, num_splits=num_splits, interpret=interpret,
    )
    return decode_triton.combine_splits(acc, m_max, l_sum)[..., :head_dim].astype(q.dtype)
