"""The kernels lower through the Pallas Triton backend for CUDA, checked on a CPU-only machine.

Cross-platform lowering runs the real Pallas-to-Triton lowering (power-of-two tiles, supported
primitives, dot shapes) without a GPU; Triton's own compilation to PTX still needs one. JAX 0.10 does
this on a CPU-only machine; JAX 0.11 wants a GPU to ask for its compute capability, so there the
tests skip unless one is present.
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import pytest

from kernels_pallas import decode_attention, flash_attention

TRITON_CALL = "__gpu$xla.gpu.triton"


def triton_calls(fn, *args) -> list[str]:
    try:
        text = jax.jit(fn).trace(*args).lower(lowering_platforms=("cuda",)).as_text()
    except RuntimeError as e:  # JAX >= 0.11 asks the (absent) GPU for its compute capability
        if "No supported GPU devices found" in str(e):
            pytest.skip("this JAX version lowers Triton kernels only with a GPU present")
        raise
    return [c for c in re.findall(r"custom_call @([\w$.]+)", text) if c == TRITON_CALL]


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
