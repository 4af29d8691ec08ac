"""Compiled (Triton) kernels at realistic sizes; needs a GPU.

Run with `JAX_PLATFORMS=cuda pytest -m gpu tests/kernels_pallas`.

With JAX_PLATFORMS=cuda every other test in this folder also runs compiled instead of interpreted.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kernels_pallas import decode_attention, flash_attention
from kernels_pallas.reference import attention_reference, decode_attention_reference

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(jax.default_backend() != "gpu", reason="needs a GPU (JAX_PLATFORMS=cuda)"),
]
F32, BF16 = jnp.float32, jnp.bfloat16
TOL = {F32: 1e-5, BF16: 1e-2}


def rel_err(x, ref) -> float:
    x, ref = np.asarray(x, np.float64), np.asarray(ref, np.float64)
    return float(np.linalg.norm(x - ref) / max(np.linalg.norm(ref), 1e-30))


@pytest.mark.parametrize(
    "seq_q, seq_kv, causal, padded, dtype",
    [(1024, 1024, True, False, BF16), (1000, 1000, False, True, BF16), (256, 2048, False, True, BF16),
     (512, 512, True, True, F32)],
)
def test_compiled_flash_attention_matches_reference(seq_q, seq_kv, causal, padded, dtype):
    rng = np.random.default_rng(seq_q * 7 + seq_kv)
    batch, heads, dim = 2, 4, 128
    q = jnp.asarray(rng.standard_normal((batch, seq_q, heads, dim)), dtype)
    k, v = (jnp.asarray(rng.standard_normal((batch, seq_kv, heads, dim)), dtype) for _ in range(2))
    d_out = jnp.asarray(rng.standard_normal(q.shape), F32)
    opts = dict(causal=causal)
    if padded:
        opts.update(q_lengths=jnp.array([seq_q, seq_q // 3]), kv_lengths=jnp.array([seq_kv // 2, 0]))

    def run(fn, *args):
        out, vjp = jax.vjp(fn, *args)
        return out, vjp(d_out.astype(out.dtype))

    out, grads = jax.jit(lambda *a: run(lambda q, k, v: flash_attention(q, k, v, **opts), *a))(q, k, v)
    ref, ref_grads = jax.jit(lambda *a: run(lambda q, k, v: attention_reference(q, k, v, **opts), *a))(
        *(x.astype(F32) for x in (q, k, v)))
    for name, x, r in zip(("out", "dq", "dk", "dv"), (out, *grads), (ref, *ref_grads)):
        assert not np.isnan(np.asarray(x, np.float32)).any(), name
        assert rel_err(x, r) < TOL[dtype], f"{name}: {rel_err(x, r):.2e}"


@pytest.mark.parametrize("seq, dtype", [(4096, BF16), (1000, F32)])
def test_compiled_decode_attention_matches_reference(seq, dtype):
    rng = np.random.default_rng(seq)
    batch, heads, dim = 4, 8, 128
    q = jnp.asarray(rng.standard_normal((batch, heads, dim)), dtype)
    k, v = (jnp.asarray(rng.standard_normal((batch, seq, heads, dim)), dtype) for _ in range(2))
    lengths = jnp.array([1, seq, seq // 2 + 3, 0], jnp.int32)
    out = jax.jit(decode_attention)(q, k, v, lengths)
    ref = decode_attention_reference(*(x.astype(F32) for x in (q, k, v)), lengths)
    assert rel_err(out, ref) < TOL[dtype]
