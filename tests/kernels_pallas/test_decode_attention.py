"""decode_attention (flash-decoding over a KV cache) against the float32 reference."""

from __future__ import annotations

import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kernels_pallas import decode_attention, flash_attention
from kernels_pallas.reference import decode_attention_reference

F32, BF16 = jnp.float32, jnp.bfloat16
TOL = {F32: 1e-5, BF16: 1e-2}


def rel_err(x, ref) -> float:
    x, ref = np.asarray(x, np.float64), np.asarray(ref, np.float64)
    return float(np.linalg.norm(x - ref) / max(np.linalg.norm(ref), 1e-30))


def _inputs(batch, seq, heads, dim, dtype, seed):
    rng = np.random.default_rng(seed)
    q = jnp.asarray(rng.standard_normal((batch, heads, dim)), dtype)
    k, v = (jnp.asarray(rng.standard_normal((batch, seq, heads, dim)), dtype) for _ in range(2))
    lengths = rng.integers(1, seq + 1, batch)
    lengths[:2] = [1, seq]  # the extremes, always
    return q, k, v, jnp.asarray(lengths, jnp.int32)


@pytest.mark.parametrize(
    "batch, seq, heads, dim, dtype, block_k, num_splits",
    [
        (4, 77, 2, 64, F32, 16, None),  # odd cache length, default splits (one per block)
        (4, 128, 2, 128, F32, 32, 3),  # 3 requested -> 2 non-empty splits of 2 blocks
        (3, 50, 3, 64, BF16, 16, 1),  # no split at all
        (4, 200, 2, 128, BF16, None, None),  # default tiles
        (2, 33, 1, 40, F32, 16, 2),  # head dim padded internally
    ],
)
def test_decode_attention_matches_reference(batch, seq, heads, dim, dtype, block_k, num_splits):
    seed = zlib.crc32(repr((batch, seq, heads, dim, dtype, block_k, num_splits)).encode())
    q, k, v, lengths = _inputs(batch, seq, heads, dim, dtype, seed)
    out = jax.jit(lambda *a: decode_attention(*a, block_k=block_k, num_splits=num_splits))(q, k, v, lengths)
    ref = decode_attention_reference(*(x.astype(F32) for x in (q, k, v)), lengths)
    assert out.shape == q.shape and out.dtype == dtype
    assert not np.isnan(np.asarray(out, np.float32)).any()
    assert rel_err(out, ref) < TOL[dtype]


def test_decode_attention_empty_cache_gives_zero_and_ignores_stale_entries():
    q, k, v, _ = _inputs(3, 40, 2, 64, F32, 5)
    lengths = jnp.array([0, 17, 40], jnp.int32)
    out = decode_attention(q, k, v, lengths, block_k=16, num_splits=2)
    assert (np.asarray(out)[0] == 0).all()
    # Entries past the length must not matter, whatever they hold (NaN included).
    stale = jnp.arange(40)[None, :, None, None] >= lengths[:, None, None, None]
    out_stale = decode_attention(q, jnp.where(stale, jnp.nan, k), jnp.where(stale, 1e4, v), lengths,
                                 block_k=16, num_splits=2)
    np.testing.assert_array_equal(np.asarray(out_stale), np.asarray(out))


def test_decode_attention_agrees_with_flash_attention():
    q, k, v, lengths = _inputs(4, 70, 2, 64, F32, 9)
    dec = decode_attention(q, k, v, lengths, block_k=16, num_splits=3)
    flash = flash_attention(q[:, None], k, v, kv_lengths=lengths, block_q=16, block_k=16)[:, 0]
    assert rel_err(dec, flash) < 1e-5


@pytest.mark.parametrize("kwargs", [dict(block_k=12), dict(num_splits=0)])
def test_decode_attention_rejects_bad_arguments(kwargs):
    q, k, v, lengths = _inputs(2, 32, 1, 64, F32, 1)
    with pytest.raises(ValueError):
        decode_attention(q, k, v, lengths, **kwargs)
