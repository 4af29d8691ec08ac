"""Where a training step's time goes: XLA ops of one jitted step, profiled and grouped, printed as tables.

    python benchmarks/step_profile.py --gin_file=gin/models/alexatm_tiny.gin --batch_size=32 \\
        --encoder_length=32 --decoder_length=32 --gin.config.ModelConfig.scan_layers=False

Runs `--steps` full training steps (forward, backward, AdamW) on synthetic packed batches under `jax.profiler`,
reads the Perfetto trace it writes (`create_perfetto_trace=True`) and sums the time of each XLA op of the step's
module. The first table groups ops by kind (GEMMs that XLA:CPU hands to YNNPACK, plain `dot`s, copies and
transposes, broadcasts, the dynamic slices a `scan` over layers stacks its activations with, reductions,
other fused elementwise ops); the second lists the slowest ops with the JAX operation each came from (the HLO's
`op_name` metadata). Op times are per step and taken under the profiler, which slows them; ops of XLA's threads
overlap, so shares are of op time, not of wall time. The step time printed above the tables is the median of
the same number of steps run without the profiler. Same model, batch and `--gin.X` bindings as
`benchmarks/train_step.py`.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import jax  # noqa: E402
from train_step import configured, format_table  # noqa: E402  (benchmarks/ is on the path as a script)

from alexatm_jax.cli.app import rewrite_gin_args  # noqa: E402
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel  # noqa: E402
from alexatm_jax.partitioning import shard_batch  # noqa: E402
from alexatm_jax.training.optimizers import OptimizerConfig, make_optimizer  # noqa: E402
from alexatm_jax.training.trainer import Trainer, synthetic_batch  # noqa: E402

# (kind, pattern on the HLO op name), first match wins. `fusion` names carry the ops XLA fused into them.
OP_KINDS = (
    ("GEMM (YNNPACK)", r"^ynn_fusion"),
    ("GEMM (plain dot)", r"^(dot|convolution)"),
    ("scan stacking (dynamic slices)", r"dynamic-(update-)?slice"),
    ("broadcasts", r"^wrapped_broadcast|^broadcast\.\d"),
    ("copies and transposes", r"^(copy|transpose)"),
    ("reductions", r"reduce"),
    ("other fused elementwise", r""),
)
# Events that contain other ops (a `while` runs the scanned layers' ops, which are timed themselves).
CONTAINER_OPS = re.compile(r"^(while|call|conditional)(\.\d+)?$")


def op_kind(op: str) -> str:
    """The OP_KINDS group of an HLO op name."""
    return next(kind for kind, pattern in OP_KINDS if re.search(pattern, op))


def op_sources(hlo_text: str) -> dict[str, str]:
    """HLO instruction name -> the `op_name` metadata of the JAX operation it was lowered from."""
    sources = {}
    for match in re.finditer(r"%([\w.-]+) = .*?metadata=\{op_name=\"([^\"]+)\"", hlo_text):
        sources.setdefault(match.group(1), match.group(2))
    return sources


def op_times(trace_dir: Path, module: str) -> tuple[dict[str, float], dict[str, int]]:
    """Total microseconds and event count per HLO op of `module` in the Perfetto trace under `trace_dir`."""
    files = sorted(trace_dir.rglob("*perfetto_trace.json.gz"))
    if not files:
        raise FileNotFoundError(f"jax.profiler wrote no Perfetto trace under {trace_dir}")
    with gzip.open(files[-1]) as f:
        trace = json.load(f)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    total: dict[str, float] = collections.Counter()
    count: dict[str, int] = collections.Counter()
    for event in events:
        args = event.get("args") or {}
        op = args.get("hlo_op")
        if event.get("ph") != "X" or op is None or args.get("hlo_module") != module or CONTAINER_OPS.match(op):
            continue
        total[op] += float(event.get("dur", 0.0))
        count[op] += 1
    return total, count


def profile(args: argparse.Namespace, bindings: list[str]) -> tuple[list[dict], list[dict], float]:
    config, partitioner = configured(args.gin_file, bindings)
    trainer = Trainer(EncoderDecoderModel(config), make_optimizer(OptimizerConfig(warmup_steps=1), 1000),
                      partitioner)
    state = trainer.init_state()
    batch = shard_batch(synthetic_batch(config, args.batch_size, args.encoder_length, args.decoder_length, seed=0),
                        partitioner.batch_sharding)
    compiled = trainer.compile_train_step(batch)
    for _ in range(args.warmup):
        state, metrics = trainer.train_step(state, batch)
    jax.block_until_ready(metrics)
    step_times = []
    for _ in range(args.steps):  # timed without the profiler, which slows every op down
        start = time.perf_counter()
        state, metrics = trainer.train_step(state, batch)
        jax.block_until_ready(metrics)
        step_times.append(time.perf_counter() - start)
    wall_ms = statistics.median(step_times) * 1e3
    with tempfile.TemporaryDirectory() as trace_dir:
        with jax.profiler.trace(trace_dir, create_perfetto_trace=True):
            for _ in range(args.steps):
                state, metrics = trainer.train_step(state, batch)
            jax.block_until_ready(metrics)
        module = re.search(r"HloModule ([\w.-]+)", compiled.as_text()).group(1)
        total, count = op_times(Path(trace_dir), module)
    if not total:
        raise RuntimeError(f"the trace holds no op of module {module!r}: is this jaxlib's profiler working?")
    sources = op_sources(compiled.as_text())
    op_ms = sum(total.values()) / 1e3 / args.steps
    kinds: dict[str, list[float]] = {kind: [0.0, 0] for kind, _ in OP_KINDS}
    for op, us in total.items():
        kinds[op_kind(op)][0] += us / 1e3 / args.steps
        kinds[op_kind(op)][1] += count[op] / args.steps
    by_kind = [{"kind": kind, "ms_per_step": ms, "share": f"{ms / op_ms:.0%}", "ops_per_step": n}
               for kind, (ms, n) in sorted(kinds.items(), key=lambda kv: -kv[1][0]) if n]
    top = [{"op": op, "kind": op_kind(op), "ms_per_step": us / 1e3 / args.steps,
            "source": sources.get(op, "?").removeprefix("jit(_train_step)/")[-90:]}
           for op, us in sorted(total.items(), key=lambda kv: -kv[1])[: args.top]]
    return by_kind, top, wall_ms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gin_file", action="append", required=True, help="model gin, then optional partitioning gin")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--encoder_length", type=int, default=32)
    parser.add_argument("--decoder_length", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10, help="profiled steps (times are per step)")
    parser.add_argument("--warmup", type=int, default=3, help="unprofiled steps after compilation")
    parser.add_argument("--top", type=int, default=12, help="slowest ops listed")
    parser.add_argument("--gin_bindings", action="append", default=[], help="NAME=VALUE (same as --gin.NAME=VALUE)")
    args = parser.parse_args(rewrite_gin_args(sys.argv[1:] if argv is None else argv))
    by_kind, top, wall_ms = profile(args, args.gin_bindings)
    op_ms = sum(row["ms_per_step"] for row in by_kind)
    print(f"step {wall_ms:.1f} ms (median of {args.steps}, unprofiled); op time under the profiler "
          f"{op_ms:.1f} ms per step (both threads)\n")
    print(format_table(by_kind) + "\n")
    print(format_table(top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
