"""One GPU check (issue 14): attention kernels, the 1B train step and 20B-shaped decoding, in one table.

    bash benchmarks/gpu_check.sh                      # a GPU machine: under 8 minutes on one H100/H200
    python benchmarks/gpu_check.py [--only decode,attention,train] [--lengths 512,2048] [--json out.json]
    python benchmarks/gpu_check.py --smoke            # any machine, CPU included: tiny shapes, checks the script

Sections, in this order (each row fails soft: its error goes into the row and the table goes on; once a section
has spent its time budget, or the run 410 s, the remaining rows are marked skipped; `--only SECTION` runs one):
* decode: batch-1 greedy decoding of the 20B-shaped model (gin/models/alexatm_20b.gin, bf16 weights, 1024-token
  prompt, 64 new tokens) with 2 encoder and 4 / 8 decoder layers and the platform's attention (`auto`: cuDNN),
  ms/token against the memory roofline at the bandwidth of a copy measured first; the 32-layer model scaled from
  the two (fixed + per-layer cost, benchmarks/decode.py --roofline); the 8-layer model again with the Pallas
  kernels (flash-decoding).
* attention: forward and backward time and TFLOP/s of `pallas` (kernels_pallas, Triton), `pallas-mosaic` (its
  Mosaic GPU forward; the backward is Triton's), `cudnn` and `xla` (`jax.nn.dot_product_attention`) on encoder
  self-attention (padded lengths), causal decoder self-attention and cross-attention (S/2 queries over S padded
  keys), bf16, 32 heads of 128, 16k tokens per batch, S = 512, 2048, 8192 (`--lengths` for others), with the error
  against the float32 reference (benchmarks/attention_kernels.py). FLOPs: forward 4 B Sq Skv H D (half when
  causal), backward 2.5x forward; "peak" is the dense bf16 datasheet rate.
* train: the alexatm_1b train step (gin/models/alexatm_1b.gin: bf16 compute, float32 weights, AdamW, cuDNN
  attention) at batch 16 x (1024 + 1024), one row per remat policy: tokens/s, TFLOP/s and MFU
  (`alexatm_jax.model.flops`; the paper reached 154 TFLOP/s per A100, docs/PAPER.md).
Memory: the row's compiled program per XLA's memory analysis (arguments + outputs + temporaries - aliased); for
decoding, the device's high-water mark (decoding runs first for that reason).

Neither TensorFlow, seqio nor gin is imported (the GPU machines have none): model configs come from the gin files
read as text. Nothing is timed in unit tests: `--smoke` only shows the script works.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCHMARKS.parent), str(BENCHMARKS)]  # run from a checkout without installing

import attention_kernels as attention  # noqa: E402
import decode  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from alexatm_jax.model import flops  # noqa: E402
from alexatm_jax.model.attention import resolve_attention_impl  # noqa: E402
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel  # noqa: E402
from alexatm_jax.partitioning import Partitioner, shard_batch  # noqa: E402
from alexatm_jax.training.optimizers import OptimizerConfig, make_optimizer  # noqa: E402
from alexatm_jax.training.trainer import Trainer, synthetic_batch  # noqa: E402

SECTIONS = ("decode", "attention", "train")
IMPLS = ("pallas", "pallas-mosaic", "cudnn", "xla")
REMAT_POLICIES = ("none", "minimal", "full")
NOT_IMPORTED = ("tensorflow", "seqio", "gin")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Shapes, repeats and time budgets of one run (`GPU` or `SMOKE`)."""

    lengths: tuple[int, ...]
    tokens: int  # attention batch = tokens // S
    heads: int
    head_dim: int
    repeats: int
    train_model: str
    train_batch: int
    train_lengths: tuple[int, int]
    train_steps: int
    decode_model: str
    decode_layers: tuple[int, ...]
    decode_encoder_layers: int
    decode_lengths: tuple[int, int]  # prompt, new tokens
    decode_repeats: int
    bandwidth_gib: float
    budgets_s: dict[str, float]  # per section: no row starts after its section has spent this
    total_budget_s: float  # no row starts after this (the longest row, about a minute, still fits in 8 minutes)
    model_overrides: dict[str, Any] = dataclasses.field(default_factory=dict)  # for train and decode configs


GPU = Settings(lengths=(512, 2048, 8192), tokens=16384, heads=32, head_dim=128, repeats=5,
               train_model="1b", train_batch=16, train_lengths=(1024, 1024), train_steps=3,
               decode_model="20b", decode_layers=(4, 8), decode_encoder_layers=2, decode_lengths=(1024, 64),
               decode_repeats=3, bandwidth_gib=4.0, budgets_s={"decode": 90, "attention": 170, "train": 150},
               total_budget_s=410)
SMOKE = Settings(lengths=(64,), tokens=128, heads=2, head_dim=64, repeats=1,
                 train_model="tiny", train_batch=2, train_lengths=(32, 32), train_steps=1,
                 decode_model="tiny", decode_layers=(1, 2), decode_encoder_layers=1, decode_lengths=(16, 4),
                 decode_repeats=3, bandwidth_gib=0.01, budgets_s={"decode": 600, "attention": 600, "train": 600},
                 total_budget_s=1800,
                 model_overrides=dict(vocab_size=512, num_encoder_layers=1, num_decoder_layers=1))

COLUMNS = (("section", 9), ("case", 24), ("impl", 14), ("ms", 17), ("rate", 24), ("vs goal", 15), ("mem GB", 7),
           ("status", 0))


@dataclasses.dataclass
class Row:
    section: str
    case: str
    impl: str = ""
    ms: str = ""
    rate: str = ""
    vs_goal: str = ""
    mem_gb: str = ""
    status: str = "ok"
    data: dict[str, Any] = dataclasses.field(default_factory=dict)

    def line(self) -> str:
        cells = (self.section, self.case, self.impl, self.ms, self.rate, self.vs_goal, self.mem_gb, self.status)
        return " ".join(f"{c:{w}s}" if w else c for c, (_, w) in zip(cells, COLUMNS)).rstrip()


@dataclasses.dataclass(frozen=True)
class Planned:
    """A row to run: what it measures (shown even when it fails or is skipped) and how."""

    case: str
    impl: str
    run: Callable[[], Row]


def header() -> str:
    return " ".join(f"{name:{w}s}" if w else name for name, w in COLUMNS)


def program_gb(compiled: Any) -> float | None:
    """Device bytes of a compiled program (arguments + outputs + temporaries - aliased), in GB."""
    stats = compiled.memory_analysis()
    if stats is None:
        return None
    total = (stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes
             - stats.alias_size_in_bytes)
    return total / 1e9


def gb(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def median_s(fn: Callable[[], Any], repeats: int, warmup: int = 1) -> float:
    """Median wall time of `fn()` (which must block until the device is done), after `warmup` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ----- decode -----
def decode_rows(s: Settings) -> Iterator[Planned]:
    """The copy bandwidth; each layer count with the platform's attention (`auto`), the 32-layer model scaled
    from them; the largest layer count again with the Pallas kernels (flash-decoding)."""
    measured: list[dict] = []
    bandwidth: list[float] = []
    prompt, new_tokens = s.decode_lengths
    overrides = {k: v for k, v in s.model_overrides.items() if k not in ("num_encoder_layers", "num_decoder_layers")}

    def config(layers: int | None, impl: str):
        return decode.roofline_config(s.decode_model, decoder_layers=layers, scan_layers=False, attention_impl=impl,
                                      encoder_layers=s.decode_encoder_layers if layers else None, **overrides)

    def copy_bandwidth() -> Row:
        bandwidth.append(decode.measured_bandwidth(s.bandwidth_gib))
        return Row("decode", f"copy {s.bandwidth_gib:g} GiB", rate=f"{bandwidth[0] / 1e9:,.1f} GB/s")

    def measure(layers: int, impl: str) -> Row:
        if not bandwidth:
            raise RuntimeError("the bandwidth measurement failed")
        r = decode.roofline_measurement(config(layers, impl), bandwidth=bandwidth[0], input_length=prompt,
                                        new_tokens=new_tokens, repeats=s.decode_repeats)
        if impl == "auto":
            measured.append(r)
        return Row("decode", f"{s.decode_model} {layers} dec layers", attention_label(impl),
                   f"{r['step_ms']:.2f} /token", f"roofline {r['roofline_ms']:.2f} ms",
                   f"{r['fraction_of_roofline']:.0%} of roofline", gb(r["device_peak_gb"]), data=r)

    def scaled() -> Row:
        if len(measured) < 2:
            raise RuntimeError("needs two measured layer counts")
        r = decode.scaled_to_full(measured, config(None, "auto"), bandwidth=bandwidth[0], input_length=prompt,
                                  new_tokens=new_tokens)
        return Row("decode", f"{s.decode_model} {r['decoder_layers']} layers scaled",
                   f"{attention_label('auto')} {r['scaled_from'][0]},{r['scaled_from'][1]}",
                   f"{r['step_ms']:.2f} /token", f"roofline {r['roofline_ms']:.2f} ms",
                   f"{r['fraction_of_roofline']:.0%} of roofline", data=r)

    yield Planned(f"copy {s.bandwidth_gib:g} GiB", "", copy_bandwidth)
    for layers in s.decode_layers:
        yield Planned(f"{s.decode_model} {layers} dec layers", attention_label("auto"),
                      lambda layers=layers: measure(layers, "auto"))
    yield Planned(f"{s.decode_model} scaled", attention_label("auto"), scaled)
    largest = max(s.decode_layers)
    yield Planned(f"{s.decode_model} {largest} dec layers", "pallas", lambda: measure(largest, "pallas"))


def attention_label(impl: str) -> str:
    """`auto` shown as what it resolves to here (bf16, head dim 128)."""
    return resolve_attention_impl(impl, dtype=jnp.bfloat16, head_dim=128)


# ----- attention -----
def attention_rows(s: Settings) -> Iterator[Planned]:
    for seq in s.lengths:
        for kind in ("encoder", "decoder", "cross"):
            for impl in IMPLS:
                yield Planned(attention_case(s, seq, kind), impl,
                              lambda seq=seq, kind=kind, impl=impl: attention_row(s, seq, kind, impl))


def attention_case(s: Settings, seq: int, kind: str) -> str:
    batch = max(1, s.tokens // seq)  # as attention_kernels.make_shape
    name = {"encoder": f"enc self S={seq}", "decoder": f"dec causal S={seq}", "cross": f"cross {seq // 2}x{seq}"}
    return f"{name[kind]} B={batch}"


def attention_row(s: Settings, seq: int, kind: str, impl: str) -> Row:
    shape = attention.make_shape(kind, seq, s.tokens, s.heads, s.head_dim, jnp.bfloat16, seed=seq)
    batch, seq_q, heads, dim = shape["q"].shape
    row = Row("attention", attention_case(s, seq, kind), impl)
    fn = attention.attention_fn(impl, shape["causal"], shape["q_lengths"], shape["kv_lengths"])
    q, k, v = shape["q"], shape["k"], shape["v"]
    # Padded query rows get no cotangent, so no implementation's choice for them matters.
    d_out = shape["d_out"] * attention.row_mask(shape["q_lengths"], seq_q).astype(q.dtype)
    forward = jax.jit(fn).lower(q, k, v).compile()
    vjp = jax.jit(lambda q, k, v: jax.vjp(fn, q, k, v)[1])(q, k, v)
    backward = jax.jit(lambda vjp, g: vjp(g)).lower(vjp, d_out).compile()
    fwd_s = median_s(lambda: jax.block_until_ready(forward(q, k, v)), s.repeats)
    bwd_s = median_s(lambda: jax.block_until_ready(backward(vjp, d_out)), s.repeats)
    fwd_flops = 4 * batch * seq_q * seq * heads * dim * (0.5 if shape["causal"] else 1.0)
    err = attention.check_errors(shape, forward(q, k, v), backward(vjp, d_out))
    row.ms = f"{1e3 * fwd_s:.3f} / {1e3 * bwd_s:.3f}"
    row.rate = f"{fwd_flops / fwd_s / 1e12:.0f} / {2.5 * fwd_flops / bwd_s / 1e12:.0f} TFLOP/s"
    peak = flops.peak_flops_per_device(jax.devices()[0].device_kind)
    if peak:
        row.vs_goal = f"{fwd_flops / fwd_s / peak:.0%} / {2.5 * fwd_flops / bwd_s / peak:.0%} peak"
    row.mem_gb = gb(max(filter(None, (program_gb(forward), program_gb(backward))), default=None))
    row.status = f"{'ok' if err < attention.TOL[jnp.bfloat16] else 'WRONG'} err {err:.1e}"
    row.data = {"fwd_ms": 1e3 * fwd_s, "bwd_ms": 1e3 * bwd_s, "fwd_tflops": fwd_flops / fwd_s / 1e12,
                "bwd_tflops": 2.5 * fwd_flops / bwd_s / 1e12, "rel_err": err}
    return row


# ----- train -----
def train_rows(s: Settings) -> Iterator[Planned]:
    enc_len, dec_len = s.train_lengths
    carried: dict[str, Any] = {}  # the train state, whose shapes no remat policy changes: initialised once
    for policy in REMAT_POLICIES:
        yield Planned(f"{s.train_model} {s.train_batch}x({enc_len}+{dec_len})", f"remat {policy}",
                      lambda policy=policy: train_row(s, policy, carried))


def train_row(s: Settings, policy: str, carried: dict[str, Any]) -> Row:
    cfg = decode.config_from_gin(s.train_model, remat_policy=policy, dropout_rate=0.0, **s.model_overrides)
    enc_len, dec_len = s.train_lengths
    row = Row("train", f"{s.train_model} {s.train_batch}x({enc_len}+{dec_len})", f"remat {policy}")
    partitioner = Partitioner()  # one device: the batch on the data axis
    trainer = Trainer(EncoderDecoderModel(cfg), make_optimizer(OptimizerConfig(warmup_steps=1), 1000), partitioner)
    batch = shard_batch(synthetic_batch(cfg, s.train_batch, enc_len, dec_len), partitioner.batch_sharding)
    state = [carried.pop("state", None) or trainer.init_state()]  # a failed row leaves none: the next makes one
    compiled = trainer.compile_train_step(batch)

    def step():
        state[0], metrics = trainer.train_step(state[0], batch)
        jax.block_until_ready(metrics)

    step_s = median_s(step, s.train_steps)
    carried["state"] = state[0]
    tokens = s.train_batch * (enc_len + dec_len)
    step_flops = flops.train_flops(cfg, encoder_tokens=s.train_batch * enc_len, decoder_tokens=s.train_batch * dec_len,
                                   encoder_length=enc_len, decoder_length=dec_len)
    mfu = flops.mfu(step_flops, step_s, 1, flops.peak_flops_per_device(jax.devices()[0].device_kind))
    row.ms = f"{1e3 * step_s:.1f} /step"
    row.rate = f"{tokens / step_s:,.0f} tok/s {step_flops / step_s / 1e12:.0f} TFLOP/s"
    row.vs_goal = "" if mfu is None else f"MFU {mfu:.1%}"
    row.mem_gb = gb(program_gb(compiled))
    row.data = {"step_ms": 1e3 * step_s, "tokens_per_s": tokens / step_s, "mfu": mfu,
                "tflops": step_flops / step_s / 1e12, "attention_impl": cfg.attention_impl, "dtype": cfg.dtype}
    return row


# ----- the table -----
def run_section(name: str, rows: Iterator[Planned], budget_s: float, end: float) -> list[Row]:
    """Runs each row, catching its errors; once `budget_s` is spent (or the clock passes `end`, a
    `time.monotonic()` value), the rest are marked skipped."""
    deadline = min(time.monotonic() + budget_s, end)
    done = []
    for planned in rows:
        if time.monotonic() > deadline:
            row = Row(name, planned.case, planned.impl,
                      status=f"skipped: time budget spent (--only {name} runs this section alone)")
        else:
            try:
                row = planned.run()
            except Exception as e:  # a failing row (out of memory, an unsupported impl) must not end the table
                lines = str(e).strip().splitlines()
                row = Row(name, planned.case, planned.impl,
                          status=f"error: {type(e).__name__}: {lines[0][:150] if lines else ''}")
        print(row.line(), flush=True)
        done.append(row)
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny shapes on any device (checks the script runs)")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections of {SECTIONS}")
    parser.add_argument("--lengths", default=None, help="attention sequence lengths, e.g. 512,2048,8192")
    parser.add_argument("--json", default=None, help="also write every row (with its numbers) to this file")
    args = parser.parse_args(argv)
    settings = SMOKE if args.smoke else GPU
    if args.lengths:
        settings = dataclasses.replace(settings, lengths=tuple(int(x) for x in args.lengths.split(",")))
    sections = [x.strip() for x in args.only.split(",") if x.strip()]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {unknown}: choose from {SECTIONS}")

    device = jax.devices()[0]
    start = time.monotonic()
    print(f"# gpu_check{' --smoke' if args.smoke else ''}: {device.device_kind} ({jax.default_backend()}), "
          f"jax {jax.__version__}, python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M')}", flush=True)
    if jax.default_backend() != "gpu":
        print("# not a GPU: Pallas runs in interpret mode and cuDNN is missing; the numbers mean nothing", flush=True)
    print("# attention ms / rate / vs goal: forward / backward; mem GB: compiled program (decode: device peak)")
    print(header(), flush=True)
    makers = {"decode": decode_rows, "attention": attention_rows, "train": train_rows}
    rows: list[Row] = []
    for name in SECTIONS:
        if name in sections:
            rows += run_section(name, makers[name](settings), settings.budgets_s[name],
                                start + settings.total_budget_s)
    imported = [m for m in NOT_IMPORTED if m in sys.modules]
    print(f"# {time.monotonic() - start:.0f} s in all; imported {imported or 'none'} of {list(NOT_IMPORTED)}")
    if args.json:
        Path(args.json).write_text(json.dumps([dataclasses.asdict(r) for r in rows], indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
