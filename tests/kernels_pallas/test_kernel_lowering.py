"""The kernels lower through the Pallas Triton backend for CUDA, checked on a CPU-only machine.

Cross-platform lowering runs the real Pallas-to-Triton lowering (power-of-two tiles, supported
primitives, dot shapes) without a GPU; Triton's own compilation to PTX still needs one. The target is an
abstract H100 (`jax.sharding.AbstractDevice` in an abstract mesh): JAX 0.10 falls back to compute
capability 9.0 without it, JAX 0.11 takes the compute capability from it when no GPU is present (and skips
here if it cannot).
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import pytest
from jax.sharding import AbstractDevice, AbstractMesh

from kernels_pallas import decode_attention, flash_attention

TRITON_CALL = "__gpu$xla.gpu.triton"
H100 = AbstractMesh((1,), ("x",), abstract_device=AbstractDevice(
    device_kind="NVIDIA H100 80GB HBM3", num_cores=None, platform="cuda"))


MOSAIC_CALL = "mosaic_gpu_v2"


def custom_calls(fn, *args) -> list[str]:
    """The custom calls of `fn` lowered for CUDA (an abstract H100)."""
    try:
        with jax.sharding.use_abstract_mesh(H100):
            text = jax.jit(fn).trace(*args).lower(lowering_platforms=("cuda",)).as_text()
    except RuntimeError as e:  # a JAX that wants a real GPU for the compute capability
        if "No supported GPU devices found" in str(e):
            pytest.skip("this JAX version lowers Triton kernels only with a GPU present")
        raise
    return re.findall(r"custom_call @([\w$.]+)", text)


def triton_calls(fn, *args) -> list[str]:
    return [c for c in custom_calls(fn, *args) if c == TRITON_CALL]


@pytest.mark.parametrize(
    "seq_q, seq_kv, dim, dtype, options",
    [
        (256, 256, 128, jnp.bfloat16, dict(causal=True, kv_lengths=True)),
        (200, 300, 64, jnp.float32, dict(segments=True)),
        (128, 128, 64, jnp.bfloat16, dict()),
        (300, 300, 40, jnp.bfloat16, dict(causal=True, q_lengths=True, kv_lengths=True)),
        (100, 512, 128, jnp.bfloat16, dict(causal=True, q_lengths=True, segments=True)),
    ],
)
def test_flash_attention_lowers_to_triton(seq_q, seq_kv, dim, dtype, options):
    batch, heads = 2, 4
    q = jnp.zeros((batch, seq_q, heads, dim), dtype)
    k = jnp.zeros((batch, seq_kv, heads, dim), dtype)
    lengths = jnp.array([3, 4], jnp.int32)
    q_seg, kv_seg = jnp.ones((batch, seq_q), jnp.int32), jnp.ones((batch, seq_kv), jnp.int32)

    def loss(q, k, v):
        out = flash_attention(
            q, k, v, causal=options.get("causal", False), interpret=False,
            q_lengths=lengths if options.get("q_lengths") else None,
            kv_lengths=lengths if options.get("kv_lengths") else None,
            q_segment_ids=q_seg if options.get("segments") else None,
            kv_segment_ids=kv_seg if options.get("segments") else None,
        )
        return out.astype(jnp.float32).sum()

    assert len(triton_calls(jax.grad(loss, argnums=(0, 1, 2)), q, k, k)) == 3  # forward, dq, dk/dv


@pytest.mark.parametrize("seq, dim, dtype", [(1000, 128, jnp.bfloat16), (64, 64, jnp.float32)])
def test_decode_attention_lowers_to_triton(seq, dim, dtype):
    q = jnp.zeros((2, 4, dim), dtype)
    cache = jnp.zeros((2, seq, 4, dim), dtype)
    fn = lambda q, k, v, n: decode_attention(q, k, v, n, interpret=False)
    assert len(triton_calls(fn, q, cache, cache, jnp.array([1, seq], jnp.int32))) == 1


@pytest.mark.parametrize(
    "seq_q, seq_kv, dim, dtype, options",
    [
        (1024, 1024, 128, jnp.bfloat16, dict(causal=True)),
        (300, 500, 64, jnp.float16, dict(segments=True, kv_lengths=True)),
        (512, 1024, 256, jnp.bfloat16, dict(causal=True, q_lengths=True)),
    ],
)
def test_flash_attention_forward_lowers_to_mosaic_gpu(seq_q, seq_kv, dim, dtype, options):
    """backend="mosaic_gpu": the forward is one Mosaic GPU kernel (real lowering: layouts, tiling, shared memory),
    the backward the two Triton kernels."""
    batch, heads = 2, 4
    q = jnp.zeros((batch, seq_q, heads, dim), dtype)
    k = jnp.zeros((batch, seq_kv, heads, dim), dtype)
    lengths = jnp.array([3, seq_q], jnp.int32)
    seg_q, seg_kv = jnp.ones((batch, seq_q), jnp.int32), jnp.ones((batch, seq_kv), jnp.int32)

    def loss(q, k, v):
        out = flash_attention(
            q, k, v, causal=options.get("causal", False), interpret=False, backend="mosaic_gpu",
            q_lengths=lengths if options.get("q_lengths") else None,
            kv_lengths=lengths if options.get("kv_lengths") else None,
            q_segment_ids=seg_q if options.get("segments") else None,
            kv_segment_ids=seg_kv if options.get("segments") else None,
        )
        return out.astype(jnp.float32).sum()

    calls = custom_calls(jax.grad(loss, argnums=(0, 1, 2)), q, k, k)
    assert sorted(calls) == sorted([MOSAIC_CALL, TRITON_CALL, TRITON_CALL]), calls
