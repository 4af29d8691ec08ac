"""The Mosaic GPU flash-attention forward (`backend="mosaic_gpu"`) on a CPU: numbers through JAX's GPU interpreter,
argument checks at the public function.

The GPU interpreter is not public JAX API (`jax._src.pallas.mosaic_gpu.interpret`): these tests skip where it is
missing. Under it the kernel's two matrix products are plain dots (see `flash_mosaic`); the real lowering of the
compiled kernel is checked in `test_kernel_lowering.py`.
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np
import pytest

from kernels_pallas import api, flash_attention, flash_mosaic
from kernels_pallas.flash_triton import _EMPTY_ROW_LSE, FlashConfig
from kernels_pallas.masks import visibility_mask
from kernels_pallas.reference import attention_reference

interpret_params = pytest.importorskip("jax._src.pallas.mosaic_gpu.interpret.params")
GPU_INTERPRETER = interpret_params.InterpretGPUParams()


def rel_err(x, ref) -> float:
    x, ref = np.asarray(x, np.float64), np.asarray(ref, np.float64)
    return float(np.linalg.norm(x - ref) / max(np.linalg.norm(ref), 1e-30))


def inputs(batch, seq_q, seq_kv, heads, dim, dtype=jnp.bfloat16, seed=0):
    rng = np.random.default_rng(seed)
    q = jnp.asarray(rng.standard_normal((batch, seq_q, heads, dim)), dtype)
    k, v = (jnp.asarray(rng.standard_normal((batch, seq_kv, heads, dim)), dtype) for _ in range(2))
    return q, k, v


def test_kernel_matches_the_reference_with_segments_padding_and_causal_offset():
    """128 queries over 256 keys (bottom-right causal, offset 128), two packed segments, padded tails."""
    q, k, v = inputs(1, 128, 256, 2, 64)
    q_seg = np.ones((1, 128), np.int32)
    q_seg[:, 60:120], q_seg[:, 120:] = 2, 0
    kv_seg = np.ones((1, 256), np.int32)
    kv_seg[:, 150:230], kv_seg[:, 230:] = 2, 0
    q_seg, kv_seg = jnp.asarray(q_seg), jnp.asarray(kv_seg)
    cfg = FlashConfig(seq_q=128, seq_kv=256, seq_q_pad=128, seq_kv_pad=256, causal=True, sm_scale=0.125,
                      block_q=64, block_k=128, bwd_block_q=64, bwd_block_k=64, interpret=False, backend="mosaic_gpu")
    out, lse = flash_mosaic.flash_forward(q, k, v, q_seg, kv_seg, cfg, interpret=GPU_INTERPRETER)

    f32 = [x.astype(jnp.float32) for x in (q, k, v)]
    ref = attention_reference(*f32, q_segment_ids=q_seg, kv_segment_ids=kv_seg, causal=True, sm_scale=0.125)
    assert rel_err(out, ref) < 1e-2  # bf16 inputs and probabilities
    np.testing.assert_array_equal(np.asarray(out[:, 120:], np.float32), 0)  # padding rows see no key
    visible = np.asarray(visibility_mask(1, 128, 256, q_segment_ids=q_seg, kv_segment_ids=kv_seg, causal=True))
    scores = np.einsum("bqhd,bkhd->bhqk", *(np.asarray(x, np.float64) for x in f32[:2])) * 0.125
    with np.errstate(divide="ignore"):
        expected = np.log2(np.sum(np.where(visible[:, None], np.exp(scores), 0.0), axis=-1))
    has_key = visible.any(-1)[:, None]
    np.testing.assert_allclose(np.where(has_key, lse, 0), np.where(has_key, expected, 0), atol=2e-2)
    assert np.all(np.asarray(lse)[~np.broadcast_to(has_key, lse.shape)] == np.float32(_EMPTY_ROW_LSE))


def test_public_function_folds_lengths_into_segments_and_pads(monkeypatch):
    """flash_attention(backend="mosaic_gpu"): lengths, padding of 100 x 150 to the kernel's tiles, the head dim."""
    monkeypatch.setattr(flash_mosaic, "flash_forward",
                        functools.partial(flash_mosaic.flash_forward, interpret=GPU_INTERPRETER))
    q, k, v = inputs(2, 100, 150, 1, 64, jnp.float16, seed=1)
    opts = dict(q_lengths=jnp.array([100, 37]), kv_lengths=jnp.array([150, 0]))
    out = flash_attention(q, k, v, backend="mosaic_gpu", interpret=False, **opts)
    ref = attention_reference(*(x.astype(jnp.float32) for x in (q, k, v)), **opts)
    assert out.shape == q.shape and out.dtype == q.dtype
    assert rel_err(out, ref) < 1e-2
    np.testing.assert_array_equal(np.asarray(out[1], np.float32), 0)  # example 1 has no keys at all


@pytest.mark.parametrize("dtype, dim, why", [(jnp.float32, 64, "dtype float32"), (jnp.bfloat16, 80, "head_dim 80")])
def test_unsupported_inputs_name_the_fix(dtype, dim, why):
    q, k, v = inputs(1, 64, 64, 1, dim, dtype)
    with pytest.raises(ValueError, match=f"cannot take {why}.*backend='triton'"):
        flash_attention(q, k, v, backend="mosaic_gpu", interpret=False)


def test_interpret_mode_points_to_the_triton_backend():
    q, k, v = inputs(1, 64, 64, 1, 64)
    with pytest.raises(ValueError, match="Hopper GPUs only.*backend='triton'"):
        flash_attention(q, k, v, backend="mosaic_gpu", interpret=True)


def test_triton_stays_the_default_and_tiles_follow_the_head_dim():
    assert api.resolve_backend(None) == "triton"
    assert flash_mosaic.block_k_for(128) == 128 and flash_mosaic.block_k_for(256) == 64
