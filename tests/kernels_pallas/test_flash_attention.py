"""flash_attention (forward and gradients) against the float32 reference, on many shapes and masks."""

from __future__ import annotations

import dataclasses
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kernels_pallas
from kernels_pallas import flash_attention, flash_triton
from kernels_pallas.masks import visibility_mask
from kernels_pallas.reference import attention_reference

TOL = {jnp.float32: 1e-5, jnp.bfloat16: 1e-2}


@dataclasses.dataclass(frozen=True)
class Case:
    batch: int = 2
    seq_q: int = 32
    seq_kv: int = 32
    heads: int = 2
    head_dim: int = 64
    dtype: type = jnp.float32
    causal: bool = False
    masking: str = "none"  # none | lengths | q_lengths | segments | packed | segments+lengths
    block_q: int | None = 16
    block_k: int | None = 16
    sm_scale: float | None = None

    def __str__(self) -> str:
        dt = "bf16" if self.dtype == jnp.bfloat16 else "f32"
        causal = "-causal" if self.causal else ""
        return (f"B{self.batch}-q{self.seq_q}-kv{self.seq_kv}-H{self.heads}-D{self.head_dim}-{dt}{causal}-"
                f"{self.masking}-b{self.block_q}x{self.block_k}")


def _seed(case) -> int:
    return zlib.crc32(str(case).encode())  # a different, reproducible seed per case


def packed_segments(rng: np.random.Generator, batch: int, seq: int, n_segments: int) -> np.ndarray:
    """Contiguous segments 1..n then padding (0), as a packed batch looks; the last example is all padding
    when batch > 2, so fully masked rows are always covered."""
    ids = np.zeros((batch, seq), np.int32)
    for b in range(batch - 1 if batch > 2 else batch):
        end = int(rng.integers(max(1, seq * 2 // 3), seq + 1))
        cuts = np.sort(rng.choice(np.arange(1, end), size=min(n_segments - 1, end - 1), replace=False))
        for s, (lo, hi) in enumerate(zip([0, *cuts], [*cuts, end]), start=1):
            ids[b, lo:hi] = s
    return ids


def make_masking(case: Case, rng: np.random.Generator) -> dict:
    kw = {}
    if case.masking in ("lengths", "segments+lengths"):
        kv_len = rng.integers(1, case.seq_kv + 1, case.batch)
        q_len = rng.integers(1, case.seq_q + 1, case.batch)
        kv_len[0], q_len[-1] = 0, case.seq_q  # an example with no keys at all
        kw.update(q_lengths=jnp.asarray(q_len, jnp.int32), kv_lengths=jnp.asarray(kv_len, jnp.int32))
    if case.masking == "q_lengths":
        kw.update(q_lengths=jnp.asarray(rng.integers(0, case.seq_q + 1, case.batch), jnp.int32))
    if case.masking in ("segments", "segments+lengths"):
        # Random (non-contiguous) ids 0..3; q may hold an id that kv lacks: rows with no visible key.
        q_seg = rng.integers(0, 4, (case.batch, case.seq_q))
        kv_seg = rng.integers(0, 3, (case.batch, case.seq_kv))
        kw.update(q_segment_ids=jnp.asarray(q_seg, jnp.int32), kv_segment_ids=jnp.asarray(kv_seg, jnp.int32))
    if case.masking == "packed":
        if case.seq_q == case.seq_kv:  # self-attention over a packed batch
            seg = jnp.asarray(packed_segments(rng, case.batch, case.seq_q, 3))
            kw.update(q_segment_ids=seg, kv_segment_ids=seg)
        else:  # encoder-decoder packing: the same segment numbers, different lengths
            kw.update(q_segment_ids=jnp.asarray(packed_segments(rng, case.batch, case.seq_q, 3)),
                      kv_segment_ids=jnp.asarray(packed_segments(rng, case.batch, case.seq_kv, 2)))
    return kw


def rel_err(x, ref) -> float:
    x, ref = np.asarray(x, np.float64), np.asarray(ref, np.float64)
    return float(np.linalg.norm(x - ref) / max(np.linalg.norm(ref), 1e-30))


def run_case(case: Case) -> None:
    rng = np.random.default_rng(_seed(case))
    shape_q = (case.batch, case.seq_q, case.heads, case.head_dim)
    shape_kv = (case.batch, case.seq_kv, case.heads, case.head_dim)
    q, k, v = (jnp.asarray(rng.standard_normal(s), case.dtype) for s in (shape_q, shape_kv, shape_kv))
    d_out = jnp.asarray(rng.standard_normal(shape_q), jnp.float32)
    masking = make_masking(case, rng)
    opts = dict(causal=case.causal, sm_scale=case.sm_scale, **masking)

    @jax.jit
    def kernel(q, k, v, d_out):
        out, vjp = jax.vjp(
            lambda q, k, v: flash_attention(q, k, v, block_q=case.block_q, block_k=case.block_k, **opts),
            q, k, v)
        return out, vjp(d_out.astype(out.dtype))

    @jax.jit
    def reference(q, k, v, d_out):
        f32 = [x.astype(jnp.float32) for x in (q, k, v)]
        out, vjp = jax.vjp(lambda q, k, v: attention_reference(q, k, v, **opts), *f32)
        return out, vjp(d_out)

    out, grads = kernel(q, k, v, d_out)
    ref_out, ref_grads = reference(q, k, v, d_out)
    tol = TOL[case.dtype]
    assert out.shape == shape_q and out.dtype == case.dtype
    for name, x, ref in zip(("out", "dq", "dk", "dv"), (out, *grads), (ref_out, *ref_grads)):
        assert x.dtype == case.dtype, name
        assert not np.isnan(np.asarray(x, np.float32)).any(), f"NaN in {name}"
        assert rel_err(x, ref) < tol, f"{name}: rel err {rel_err(x, ref):.2e} >= {tol}"

    # Rows that see no key are exactly 0 (and get no gradient); keys seen by no row get none either.
    visible = np.asarray(visibility_mask(case.batch, case.seq_q, case.seq_kv, causal=case.causal,
                                         **masking))
    empty_rows, unseen_keys = ~visible.any(-1), ~visible.any(-2)
    out_np, (dq, dk, dv) = np.asarray(out, np.float32), (np.asarray(g, np.float32) for g in grads)
    assert (out_np[empty_rows] == 0).all() and (dq[empty_rows] == 0).all()
    assert (dk[unseen_keys] == 0).all() and (dv[unseen_keys] == 0).all()


F32, BF16 = jnp.float32, jnp.bfloat16
CASES = [
    Case(seq_q=64, seq_kv=64),  # tile multiples, no mask at all
    Case(seq_q=50, seq_kv=50, causal=True),  # odd length, self causal
    Case(seq_q=37, seq_kv=53, head_dim=128, masking="lengths"),  # cross, padded, one example empty
    Case(seq_q=24, seq_kv=40, causal=True, masking="lengths"),  # prefill after a cache: bottom-right
    Case(seq_q=40, seq_kv=24, causal=True),  # more queries than keys: top rows see nothing
    Case(batch=3, seq_q=61, seq_kv=61, causal=True, masking="packed"),  # packed decoder self-attention
    Case(batch=3, seq_q=45, seq_kv=70, masking="packed"),  # packed encoder-decoder cross-attention
    Case(seq_q=33, seq_kv=47, masking="segments"),  # q ids absent from kv: empty rows
    Case(seq_q=29, seq_kv=29, causal=True, masking="segments+lengths", block_q=32, block_k=16),
    Case(seq_q=20, seq_kv=20, masking="q_lengths", block_q=16, block_k=32),
    Case(seq_q=35, seq_kv=35, head_dim=40, sm_scale=0.3),  # head dim padded internally, custom scale
    Case(batch=1, seq_q=200, seq_kv=130, heads=1, block_q=None, block_k=None, causal=True),  # default tiles
    Case(seq_q=77, seq_kv=77, head_dim=128, dtype=BF16, causal=True, masking="lengths"),
    Case(batch=3, seq_q=45, seq_kv=52, dtype=BF16, masking="packed"),
    Case(seq_q=16, seq_kv=64, dtype=BF16, causal=True),  # decoder chunk over a longer cache
    Case(seq_q=48, seq_kv=48, dtype=BF16, masking="segments", head_dim=128),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_flash_attention_matches_reference(case: Case):
    run_case(case)


def _random_case(i: int) -> Case:
    rng = np.random.default_rng(1000 + i)
    seq_q, seq_kv = (int(x) for x in rng.integers(1, 150, 2))
    if rng.random() < 0.4:
        seq_kv = seq_q
    masking = str(rng.choice(["none", "lengths", "q_lengths", "segments", "packed", "segments+lengths"]))
    if masking == "packed" and min(seq_q, seq_kv) < 4:
        masking = "lengths"
    return Case(
        batch=int(rng.integers(1, 4)), seq_q=seq_q, seq_kv=seq_kv, heads=int(rng.integers(1, 3)),
        head_dim=int(rng.choice([64, 128])), dtype=rng.choice([F32, BF16]), causal=bool(rng.random() < 0.5),
        masking=masking, block_q=int(rng.choice([16, 32, 64])), block_k=int(rng.choice([16, 32, 64])),
    )


@pytest.mark.slow
@pytest.mark.parametrize("case", [_random_case(i) for i in range(16)], ids=str)
def test_flash_attention_random_sweep(case: Case):
    run_case(case)


def test_kernels_write_every_output_element():
    """Interpret mode fills kernel outputs with NaN before the kernel runs, so a NaN-free result means
    every element, padding included, was written."""
    from jax.experimental import pallas as pl

    untouched = pl.pallas_call(lambda x_ref, o_ref: None, out_shape=jax.ShapeDtypeStruct((8,), jnp.float32),
                               interpret=True)(jnp.zeros(8))
    assert np.isnan(np.asarray(untouched)).all(), "interpret mode no longer poisons outputs: test is void"

    rng = np.random.default_rng(7)
    batch, seq_q, seq_kv, heads, dim = 2, 40, 24, 2, 64
    cfg = flash_triton.FlashConfig(
        seq_q=seq_q, seq_kv=seq_kv, seq_q_pad=64, seq_kv_pad=32, causal=True, sm_scale=0.125,
        block_q=32, block_k=16, bwd_block_q=16, bwd_block_k=32, interpret=True,
    )
    q = jnp.asarray(rng.standard_normal((batch, 64, heads, dim)), jnp.float32)
    k, v = (jnp.asarray(rng.standard_normal((batch, 32, heads, dim)), jnp.float32) for _ in range(2))
    q_len, kv_len = jnp.array([0, 33], jnp.int32), jnp.array([24, 5], jnp.int32)
    out, lse = flash_triton.flash_forward(q, k, v, None, None, q_len, kv_len, cfg)
    grads = flash_triton.flash_backward(q, k, v, None, None, q_len, kv_len, out, lse, jnp.ones_like(out), cfg)
    for name, x in zip(("out", "lse", "dq", "dk", "dv"), (out, lse, *grads)):
        assert not np.isnan(np.asarray(x)).any(), f"{name} has unwritten (NaN) elements"
    assert (np.asarray(out)[0] == 0).all()  # q length 0: every row empty


def test_flash_attention_under_vmap_and_remat():
    rng = np.random.default_rng(11)
    q, k, v = (jnp.asarray(rng.standard_normal((2, 3, 20, 1, 64)), jnp.float32) for _ in range(3))
    f = jax.checkpoint(lambda q, k, v: flash_attention(q, k, v, causal=True, block_q=16, block_k=16))
    loss = lambda q, k, v: jax.vmap(f)(q, k, v).sum()
    ref_loss = lambda q, k, v: jax.vmap(lambda *a: attention_reference(*a, causal=True))(q, k, v).sum()
    for g, rg in zip(jax.grad(loss, (0, 1, 2))(q, k, v), jax.grad(ref_loss, (0, 1, 2))(q, k, v)):
        assert rel_err(g, rg) < 1e-5


def test_interpret_defaults_to_cpu_backend():
    from kernels_pallas.api import resolve_interpret

    assert resolve_interpret(None) == (jax.default_backend() == "cpu")
    assert resolve_interpret(True) is True


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(q_segment_ids=jnp.ones((1, 16), jnp.int32)), ValueError),  # kv ids missing
        (dict(block_q=24), ValueError),
        (dict(block_k=8), ValueError),
        (dict(q_lengths=jnp.ones((2,), jnp.int32)), ValueError),  # wrong batch
        (dict(backend="mosaic_gpu"), ValueError),  # compiled for Hopper only (and not for float32)
        (dict(backend="cuda"), ValueError),
    ],
)
def test_flash_attention_rejects_bad_arguments(kwargs, error):
    x = jnp.zeros((1, 16, 1, 64), jnp.float32)
    with pytest.raises(error):
        flash_attention(x, x, x, **kwargs)


def test_public_api():
    assert set(kernels_pallas.__all__) >= {"flash_attention", "decode_attention", "reference"}
    assert callable(kernels_pallas.reference.attention_reference)
    assert callable(kernels_pallas.reference.decode_attention_reference)
