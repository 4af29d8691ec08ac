"""Benchmark: our Pallas attention kernels against cuDNN and XLA (`jax.nn.dot_product_attention`).

    python benchmarks/attention_kernels.py [--seq-lens 512,1024,2048,4096,8192] [--tokens 16384]
        [--heads 32] [--head-dim 128] [--repeats 10] [--no-decode] [--json results.json]

Implementations: `pallas` (kernels_pallas, Triton), `pallas-mosaic` (its Mosaic GPU forward, Triton backward;
GPU only), `cudnn` (GPU only) and `xla`. One row per (shape, sequence length, implementation): forward and
forward+backward median time and
TFLOP/s, and the relative error against the float32 reference (one example, two heads) from the same
run. Shapes: `encoder` (self-attention, padded via lengths, non-causal), `decoder` (causal self-attention),
`cross` (S/2 decoder queries over S padded encoder keys). FLOPs are nominal (padding counted):
forward 4*B*Sq*Skv*H*D, halved for causal; backward 2.5x forward. A second table times decode
attention over a KV cache in GB/s of cache read.

On CPU the Pallas kernels run in interpret mode on tiny shapes: the numbers there only show that the
script works, not how fast anything is.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from kernels_pallas import decode_attention, flash_attention  # noqa: E402
from kernels_pallas.reference import attention_reference, decode_attention_reference  # noqa: E402

warnings.filterwarnings("ignore", message="The Pallas Triton backend is deprecated")
ON_GPU = jax.default_backend() == "gpu"
TOL = {jnp.bfloat16: 1e-2, jnp.float16: 1e-2, jnp.float32: 1e-5}


def timed(fn, args, repeats: int, warmup: int = 2) -> float:
    """Median wall time in seconds of fn(*args), after compilation and warmup."""
    for _ in range(warmup):
        jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def attention_fn(impl: str, causal: bool, q_lengths, kv_lengths):
    """(q, k, v) -> out for one implementation, with the shape's masking. `pallas` runs the Triton kernels,
    `pallas-mosaic` the Mosaic GPU forward (its backward is Triton's)."""
    if impl in ("pallas", "pallas-mosaic"):
        backend = "mosaic_gpu" if impl == "pallas-mosaic" else None
        return lambda q, k, v: flash_attention(
            q, k, v, causal=causal, q_lengths=q_lengths, kv_lengths=kv_lengths, backend=backend)
    return lambda q, k, v: jax.nn.dot_product_attention(
        q, k, v, is_causal=causal, query_seq_lengths=q_lengths, key_value_seq_lengths=kv_lengths,
        implementation=impl,
    )


def make_shape(kind: str, seq: int, tokens: int, heads: int, head_dim: int, dtype, seed: int):
    """Inputs and masking for one benchmark shape."""
    rng = np.random.default_rng(seed)
    batch = max(1, tokens // seq)
    seq_q = seq // 2 if kind == "cross" else seq
    q = jnp.asarray(rng.standard_normal((batch, seq_q, heads, head_dim)), dtype)
    k, v = (jnp.asarray(rng.standard_normal((batch, seq, heads, head_dim)), dtype) for _ in range(2))
    d_out = jnp.asarray(rng.standard_normal(q.shape), dtype)
    lengths = rng.integers(seq // 2, seq + 1, batch).astype(np.int32)
    lengths[0] = max(1, 3 * seq // 4)  # example 0, the one checked against the reference, is padded
    q_lengths = kv_lengths = None
    if kind == "encoder":
        q_lengths = kv_lengths = jnp.asarray(lengths)
    elif kind == "cross":
        kv_lengths = jnp.asarray(lengths)
    return dict(q=q, k=k, v=v, d_out=d_out, causal=kind == "decoder", q_lengths=q_lengths,
                kv_lengths=kv_lengths)


def check_errors(s: dict, out, grads, heads_checked: int = 2) -> float:
    """Max relative error of out, dq, dk, dv on example 0 / the first heads, valid rows only."""
    sl = (slice(0, 1), slice(None), slice(0, heads_checked))
    q, k, v, d_out = (s[name][sl].astype(jnp.float32) for name in ("q", "k", "v", "d_out"))
    q_len = None if s["q_lengths"] is None else s["q_lengths"][:1]
    kv_len = None if s["kv_lengths"] is None else s["kv_lengths"][:1]
    ref_fn = lambda q, k, v: attention_reference(
        q, k, v, causal=s["causal"], q_lengths=q_len, kv_lengths=kv_len)
    ref, vjp = jax.vjp(ref_fn, q, k, v)
    ref_grads = vjp(d_out * row_mask(q_len, q.shape[1]))
    q_rows, kv_rows = row_mask(q_len, q.shape[1]), row_mask(kv_len, k.shape[1])
    worst = 0.0
    for x, r, rows in zip((out, *grads), (ref, *ref_grads), (q_rows, q_rows, kv_rows, kv_rows)):
        valid = np.asarray(rows) > 0  # other implementations may leave anything (even NaN) in padded rows
        x = np.where(valid, np.asarray(x[sl], np.float64), 0.0)
        r = np.where(valid, np.asarray(r, np.float64), 0.0)
        worst = max(worst, float(np.linalg.norm(x - r) / max(np.linalg.norm(r), 1e-30)))
    return worst


def row_mask(lengths, seq: int):
    """[B, S, 1, 1] float: 1 for positions below the length (all ones without lengths)."""
    if lengths is None:
        return jnp.ones((1, seq, 1, 1), jnp.float32)
    return (jnp.arange(seq)[None, :] < lengths[:, None]).astype(jnp.float32)[:, :, None, None]


def bench_attention(args, dtype) -> list[dict]:
    rows = []
    impls = ["pallas", "pallas-mosaic", "cudnn", "xla"] if ON_GPU else ["pallas", "xla"]
    for seq in args.seq_lens:
        for kind in ("encoder", "decoder", "cross"):
            s = make_shape(kind, seq, args.tokens, args.heads, args.head_dim, dtype, seed=seq)
            batch, seq_q, heads, dim = s["q"].shape
            flops = 4 * batch * seq_q * seq * heads * dim * (0.5 if s["causal"] else 1.0)
            for impl in impls:
                row = dict(shape=kind, batch=batch, seq_q=seq_q, seq_kv=seq, impl=impl)
                try:
                    fn = attention_fn(impl, s["causal"], s["q_lengths"], s["kv_lengths"])
                    # Padded rows get no cotangent, so no implementation's choice for them matters.
                    d_out = s["d_out"] * row_mask(s["q_lengths"], seq_q).astype(dtype)
                    fwd = jax.jit(fn)
                    fwd_bwd = jax.jit(lambda q, k, v, do, fn=fn: jax.vjp(fn, q, k, v)[1](do))
                    inputs = (s["q"], s["k"], s["v"])
                    row["fwd_ms"] = 1e3 * timed(fwd, inputs, args.repeats)
                    row["fwd_bwd_ms"] = 1e3 * timed(fwd_bwd, (*inputs, d_out), args.repeats)
                    row["fwd_tflops"] = flops / row["fwd_ms"] * 1e-9
                    row["fwd_bwd_tflops"] = 3.5 * flops / row["fwd_bwd_ms"] * 1e-9
                    row["rel_err"] = check_errors(s, fwd(*inputs), fwd_bwd(*inputs, d_out))
                    row["ok"] = row["rel_err"] < TOL[dtype]
                except Exception as e:  # one failing implementation (out of memory...) must not end the table
                    row["error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:80]}"
                rows.append(row)
                print_row(row)
    return rows


def bench_decode(args, dtype) -> list[dict]:
    rows = []
    batch, heads, dim = 8, args.heads, args.head_dim
    for seq in args.seq_lens:
        rng = np.random.default_rng(seq)
        q = jnp.asarray(rng.standard_normal((batch, heads, dim)), dtype)
        k, v = (jnp.asarray(rng.standard_normal((batch, seq, heads, dim)), dtype) for _ in range(2))
        lengths = jnp.asarray(rng.integers(1, seq + 1, batch), jnp.int32).at[0].set(seq)
        cache_bytes = 2 * batch * seq * heads * dim * jnp.dtype(dtype).itemsize
        ref = decode_attention_reference(
            *(x[:1, ..., :2, :].astype(jnp.float32) for x in (q, k, v)), lengths[:1])
        impls = {
            "pallas": lambda q, k, v, n: decode_attention(q, k, v, n),
            "xla": lambda q, k, v, n: jax.nn.dot_product_attention(
                q[:, None], k, v, key_value_seq_lengths=n, implementation="xla")[:, 0],
        }
        for impl, fn in impls.items():
            row = dict(shape="decode", batch=batch, seq_q=1, seq_kv=seq, impl=impl)
            try:
                fn = jax.jit(fn)
                row["ms"] = 1e3 * timed(fn, (q, k, v, lengths), args.repeats)
                row["gb_per_s"] = cache_bytes / row["ms"] * 1e-6
                out = np.asarray(fn(q, k, v, lengths)[:1, :2], np.float64)
                row["rel_err"] = float(np.linalg.norm(out - ref) / np.linalg.norm(ref))
                row["ok"] = row["rel_err"] < TOL[dtype]
            except Exception as e:
                row["error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:80]}"
            rows.append(row)
            print_row(row)
    return rows


def print_row(row: dict) -> None:
    head = f"{row['shape']:8s} {row['batch']:>3d} {row['seq_q']:>6d} {row['seq_kv']:>6d} {row['impl']:13s}"
    if "error" in row:
        print(f"{head}  error: {row['error']}", flush=True)
    elif row["shape"] == "decode":
        print(f"{head} {row['ms']:9.3f} {row['gb_per_s']:9.1f} {'':>9s} {'':>9s} {row['rel_err']:9.1e} "
              f"{'ok' if row['ok'] else 'FAIL'}", flush=True)
    else:
        print(f"{head} {row['fwd_ms']:9.3f} {row['fwd_tflops']:9.1f} {row['fwd_bwd_ms']:9.3f} "
              f"{row['fwd_bwd_tflops']:9.1f} {row['rel_err']:9.1e} {'ok' if row['ok'] else 'FAIL'}",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seq-lens", default=None, help="comma-separated; default 512..8192 (CPU: 64,128)")
    parser.add_argument("--tokens", type=int, default=None, help="batch = tokens // seq; 16384 (CPU: 256)")
    parser.add_argument("--heads", type=int, default=None, help="default 32 (AlexaTM 20B); CPU 2")
    parser.add_argument("--head-dim", type=int, default=None, help="default 128 (AlexaTM 20B); CPU 64")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per row; default 10 (CPU: 3)")
    parser.add_argument("--no-decode", action="store_true", help="skip the decode-attention table")
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    args = parser.parse_args()
    gpu_defaults = dict(seq_lens="512,1024,2048,4096,8192", tokens=16384, heads=32, head_dim=128, repeats=10)
    cpu_defaults = dict(seq_lens="64,128", tokens=256, heads=2, head_dim=64, repeats=3)
    for name, value in (gpu_defaults if ON_GPU else cpu_defaults).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.seq_lens = [int(s) for s in str(args.seq_lens).split(",")]
    dtype = jnp.bfloat16  # cuDNN attention needs bf16/fp16

    device = jax.devices()[0]
    print(f"# {getattr(device, 'device_kind', device.platform)}, jax {jax.__version__}, bf16, "
          f"H={args.heads}, D={args.head_dim}, {args.tokens} tokens per batch, median of {args.repeats}")
    if not ON_GPU:
        print("# No GPU: Pallas runs in interpret mode and cuDNN is unavailable. These numbers are NOT "
              "meaningful; they only show that the benchmark runs.")
    print(f"{'shape':8s} {'B':>3s} {'S_q':>6s} {'S_kv':>6s} {'impl':13s} {'fwd ms':>9s} {'TFLOP/s':>9s} "
          f"{'f+b ms':>9s} {'TFLOP/s':>9s} {'rel err':>9s}")
    rows = bench_attention(args, dtype)
    if not args.no_decode:
        print(f"\n{'shape':8s} {'B':>3s} {'S_q':>6s} {'S_kv':>6s} {'impl':13s} {'ms':>9s} {'GB/s':>9s}")
        rows += bench_decode(args, dtype)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    if any(not row.get("ok", True) for row in rows):
        print("# some rows FAILED the correctness check against the reference")


if __name__ == "__main__":
    main()
