"""FlashAttention-2 forward as a Pallas Mosaic GPU kernel (Hopper: TMA copies, `wgmma`), the successor backend
to Triton, whose Pallas backend JAX 0.11 deprecates.

Same contract as `flash_triton.flash_forward`: padded inputs in, (out, lse) out, lse in the log2 domain with
`_EMPTY_ROW_LSE` for rows that see no key, so `flash_triton.flash_backward` differentiates it. Visibility comes from
segment ids only (`api.py` folds lengths and padding into them: 0 = invisible) plus, when causal, the
bottom-right diagonal. One program per (head, 64-row query tile, example): one warpgroup, whose `wgmma` needs
M = 64; K, V and their segment ids stream through two shared-memory slots, the next block's TMA copies in flight
while the current one is computed. Needs bf16/fp16 (`wgmma`) and a head dim that is a multiple of 64 (the
128-byte swizzle of bf16 tiles). Not yet tuned or timed on a GPU (no warp specialisation, FA3 style).

Checked without a GPU by lowering for CUDA (the real Mosaic GPU lowering: layouts, tiling, shared-memory size)
and by JAX's GPU interpreter (`interpret=`): that interpreter runs neither `wgmma` on transposed operands nor
layout casts, so under it the two products are plain dots and the layout casts identities; everything else
(copies, barriers, slots, masks, online softmax) runs as compiled.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax
from jax.experimental import pallas as pl
from jax.experimental.pallas import mosaic_gpu as plgpu

from kernels_pallas.flash_triton import _EMPTY_ROW_LSE, _NEG, FlashConfig

BLOCK_Q = 64  # one warpgroup's wgmma rows
HEAD_DIM_MULTIPLE = 64  # bf16 rows of 128 bytes: the (8, 64) tiling and 128-byte swizzle wgmma operands need
DTYPES = (jnp.bfloat16, jnp.float16)
_LOG2E = math.log2(math.e)


def block_k_for(head_dim: int) -> int:
    """Key tile: 128 rows up to head dim 128, 64 beyond (two K and two V slots stay under ~100 KB of SMEM)."""
    return 128 if head_dim <= 128 else 64


def unsupported(dtype: Any, head_dim: int) -> str | None:
    """Why these inputs cannot take the Mosaic GPU kernel (None if they can)."""
    if jnp.dtype(dtype) not in map(jnp.dtype, DTYPES):
        return f"dtype {jnp.dtype(dtype).name} (wgmma takes bfloat16 or float16)"
    if head_dim % HEAD_DIM_MULTIPLE:
        return f"head_dim {head_dim} (must be a multiple of {HEAD_DIM_MULTIPLE})"
    return None


def flash_forward(q, k, v, q_seg, kv_seg, cfg: FlashConfig, *, interpret: Any = None):
    """Padded inputs (lengths multiples of BLOCK_Q and `cfg.block_k`, segment ids always given) -> (out, lse)."""
    batch, seq_q_pad, heads, head_dim = q.shape
    block_k = cfg.block_k
    n_kv_blocks = cfg.seq_kv_pad // block_k
    dtype = q.dtype
    scale = cfg.sm_scale * _LOG2E
    causal_offset = cfg.causal_offset if cfg.causal else None
    wgmma_layout = plgpu.Layout.WGMMA
    compiled = interpret is None

    def cast(x, layout):
        return plgpu.layout_cast(x, layout) if compiled else x

    def iota(shape, dim):
        if compiled:
            return plgpu.broadcasted_iota(jnp.int32, shape, dim, layout=wgmma_layout)
        return lax.broadcasted_iota(jnp.int32, shape, dim)

    def kernel(q_ref, k_ref, v_ref, qseg_ref, kvseg_ref, o_ref, lse_ref,
               q_smem, k_smem, v_smem, qseg_smem, kvseg_smem, lse_smem, q_barrier, kv_barriers):
        h, b = lax.axis_index("heads"), lax.axis_index("batch")
        q_start = lax.axis_index("q_tiles") * BLOCK_Q
        plgpu.copy_gmem_to_smem(q_ref.at[b, pl.ds(q_start, BLOCK_Q), h], q_smem, q_barrier.at[0])
        plgpu.copy_gmem_to_smem(qseg_ref.at[b, pl.ds(q_start, BLOCK_Q)], qseg_smem, q_barrier.at[0])
        n_blocks = n_kv_blocks
        if causal_offset is not None:  # blocks past the diagonal of this tile's last row hold no visible key
            n_blocks = jnp.clip(pl.cdiv(q_start + BLOCK_Q + causal_offset, block_k), 0, n_kv_blocks)

        def fetch(j, slot):  # three copies, so the slot's barrier expects three arrivals
            rows = pl.ds(j * block_k, block_k)
            plgpu.copy_gmem_to_smem(k_ref.at[b, rows, h], k_smem.at[slot], kv_barriers.at[slot])
            plgpu.copy_gmem_to_smem(v_ref.at[b, rows, h], v_smem.at[slot], kv_barriers.at[slot])
            plgpu.copy_gmem_to_smem(kvseg_ref.at[b, rows], kvseg_smem.at[slot], kv_barriers.at[slot])

        @pl.when(n_blocks > 0)
        def _():
            fetch(0, 0)

        plgpu.barrier_wait(q_barrier.at[0])
        q_seg = cast(qseg_smem[...], wgmma_layout.reduce(1))
        q_seg_2d = lax.broadcast_in_dim(q_seg, (BLOCK_Q, block_k), [0])
        q_pos = q_start + iota((BLOCK_Q, block_k), 0)

        def scores(slot):
            if not compiled:
                return lax.dot_general(q_smem[...], k_smem.at[slot][...], (((1,), (1,)), ((), ())),
                                       preferred_element_type=jnp.float32)

            def qk(acc_ref):
                plgpu.wgmma(acc_ref, q_smem, plgpu.transpose_ref(k_smem.at[slot], (1, 0)))
                return acc_ref[...]

            return pl.run_scoped(qk, plgpu.ACC((BLOCK_Q, block_k), jnp.float32))

        def weighted_values(p, slot):
            if not compiled:
                return lax.dot_general(p, v_smem.at[slot][...], (((1,), (0,)), ((), ())),
                                       preferred_element_type=jnp.float32)

            def pv(acc_ref):
                plgpu.wgmma(acc_ref, p, v_smem.at[slot])
                return acc_ref[...]

            return pl.run_scoped(pv, plgpu.ACC((BLOCK_Q, head_dim), jnp.float32))

        def step(j, carry):
            acc, m_i, l_i = carry
            slot = lax.rem(j, 2)
            plgpu.barrier_wait(kv_barriers.at[slot])

            @pl.when(j + 1 < n_blocks)
            def _():  # the other slot was consumed by the previous step, whose products have completed
                fetch(j + 1, 1 - slot)

            s = scores(slot) * scale
            kv_seg = cast(kvseg_smem.at[slot][...], wgmma_layout.reduce(0))
            visible = (q_seg_2d == lax.broadcast_in_dim(kv_seg, s.shape, [1])) & (q_seg_2d != 0)
            if causal_offset is not None:
                visible &= j * block_k + iota(s.shape, 1) <= q_pos + causal_offset
            s = jnp.where(visible, s, _NEG)
            m_new = jnp.maximum(m_i, s.max(axis=1))
            alpha = jnp.exp2(m_i - m_new)
            p = jnp.where(visible, jnp.exp2(s - lax.broadcast_in_dim(m_new, s.shape, [0])), 0.0)
            l_new = l_i * alpha + p.sum(axis=1)
            acc = acc * lax.broadcast_in_dim(alpha, acc.shape, [0]) + weighted_values(p.astype(dtype), slot)
            return acc, m_new, l_new

        init = (cast(jnp.zeros((BLOCK_Q, head_dim), jnp.float32), wgmma_layout),
                cast(jnp.full((BLOCK_Q,), _NEG, jnp.float32), wgmma_layout.reduce(1)),
                cast(jnp.zeros((BLOCK_Q,), jnp.float32), wgmma_layout.reduce(1)))
        acc, m_i, l_i = lax.fori_loop(0, n_blocks, step, init)
        has_key = l_i > 0.0
        l_safe = jnp.where(has_key, l_i, 1.0)
        q_smem[...] = (acc / lax.broadcast_in_dim(l_safe, acc.shape, [0])).astype(dtype)  # q is done with
        lse_smem[...] = jnp.where(has_key, m_i + jnp.log2(l_safe), _EMPTY_ROW_LSE)
        plgpu.commit_smem()
        plgpu.copy_smem_to_gmem(q_smem, o_ref.at[b, pl.ds(q_start, BLOCK_Q), h])
        plgpu.copy_smem_to_gmem(lse_smem, lse_ref.at[b, h, pl.ds(q_start, BLOCK_Q)])
        plgpu.wait_smem_to_gmem(0)

    tiles = (plgpu.TilingTransform((8, HEAD_DIM_MULTIPLE)), plgpu.SwizzleTransform(128))
    return plgpu.kernel(
        kernel,
        out_type=[jax.ShapeDtypeStruct(q.shape, dtype), jax.ShapeDtypeStruct((batch, heads, seq_q_pad), jnp.float32)],
        grid=(heads, seq_q_pad // BLOCK_Q, batch),
        grid_names=("heads", "q_tiles", "batch"),
        scratch_types=[
            plgpu.SMEM((BLOCK_Q, head_dim), dtype, transforms=tiles),
            plgpu.SMEM((2, block_k, head_dim), dtype, transforms=tiles),
            plgpu.SMEM((2, block_k, head_dim), dtype, transforms=tiles),
            plgpu.SMEM((BLOCK_Q,), jnp.int32),
            plgpu.SMEM((2, block_k), jnp.int32),
            plgpu.SMEM((BLOCK_Q,), jnp.float32),
            plgpu.Barrier(num_arrivals=2, num_barriers=1),  # q tile and its segment ids
            plgpu.Barrier(num_arrivals=3, num_barriers=2),  # per slot: k, v and their segment ids
        ],
        # Lane semantics, pinned: JAX 0.10 defaults to it, JAX 0.11 to Warpgroup; the layouts above are Lane's.
        compiler_params=plgpu.CompilerParams(lowering_semantics=plgpu.LoweringSemantics.Lane),
        interpret=interpret,
        kernel_name="flash_attention_fwd_mosaic",
    )(q, k, v, q_seg, kv_seg)

