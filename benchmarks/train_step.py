"""Times full training steps (forward, backward, AdamW update) for any model gin config on synthetic batches.

    python benchmarks/train_step.py --gin_file=gin/models/alexatm_tiny.gin --batch_size=8 \\
        --encoder_length=256 --decoder_length=256 --steps=5

Batches are fully packed (no padding), so every position counts in tokens/s and FLOPs (formula:
`alexatm_jax.model.flops`). MFU needs the device's peak FLOP/s: from the table in `alexatm_jax.model.flops`, or
`--peak_flops_per_device` (CPUs have no entry). Extra `--gin_file`s (e.g. gin/partitioning/fsdp.gin) and
`--gin.NAME=VALUE` bindings (e.g. `--gin.config.ModelConfig.dtype="'bfloat16'"`) apply as in training.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402

from alexatm_jax.cli import gin_config  # noqa: E402
from alexatm_jax.cli.app import rewrite_gin_args  # noqa: E402
from alexatm_jax.model import flops  # noqa: E402
from alexatm_jax.model.config import ModelConfig  # noqa: E402
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel  # noqa: E402
from alexatm_jax.partitioning import Partitioner, shard_batch  # noqa: E402
from alexatm_jax.training.optimizers import OptimizerConfig, make_optimizer  # noqa: E402
from alexatm_jax.training.trainer import Trainer, synthetic_batch  # noqa: E402


def configured(gin_files: list[str], bindings: list[str]) -> tuple[ModelConfig, Partitioner]:
    """The model config and partitioner that gin files and `NAME=VALUE` bindings describe."""
    gin_config.parse(gin_files, bindings)
    config = gin_config.call(ModelConfig)
    try:
        partitioner = gin_config.call(Partitioner)
    except ValueError:  # no partitioning gin file: data parallelism over all devices
        partitioner = Partitioner()
    return config, partitioner


def benchmark(args: argparse.Namespace, bindings: list[str]) -> dict[str, float | str]:
    config, partitioner = configured(args.gin_file, bindings)
    model = EncoderDecoderModel(config)
    trainer = Trainer(model, make_optimizer(OptimizerConfig(name=args.optimizer, warmup_steps=1), 1000),
                      partitioner, num_microbatches=args.num_microbatches)
    state = trainer.init_state()
    batches = [shard_batch(synthetic_batch(config, args.batch_size, args.encoder_length, args.decoder_length,
                                           seed=i), partitioner.batch_sharding) for i in range(2)]
    t0 = time.perf_counter()
    trainer.compile_train_step(batches[0])
    compile_s = time.perf_counter() - t0
    for i in range(args.warmup):
        state, metrics = trainer.train_step(state, batches[i % 2])
    jax.block_until_ready(metrics)
    times = []
    for i in range(args.steps):
        t0 = time.perf_counter()
        state, metrics = trainer.train_step(state, batches[i % 2])
        jax.block_until_ready(metrics)
        times.append(time.perf_counter() - t0)
    step_s = statistics.median(times)
    tokens = args.batch_size * (args.encoder_length + args.decoder_length)
    step_flops = flops.train_flops(config, encoder_tokens=args.batch_size * args.encoder_length,
                                   decoder_tokens=args.batch_size * args.decoder_length,
                                   encoder_length=args.encoder_length, decoder_length=args.decoder_length)
    devices = jax.device_count()
    peak = flops.peak_flops_per_device(jax.devices()[0].device_kind, args.peak_flops_per_device)
    mfu = flops.mfu(step_flops, step_s, devices, peak)
    return {
        "model": Path(args.gin_file[0]).stem,
        "params_M": model.num_params() / 1e6,
        "dtype": config.dtype,
        "device": f"{devices}x {jax.devices()[0].device_kind}",
        "batch": f"{args.batch_size}x({args.encoder_length}+{args.decoder_length})",
        "compile_s": compile_s,
        "step_s": step_s,
        "tokens_per_s": tokens / step_s,
        "tflops_per_device": step_flops / step_s / devices / 1e12,
        "mfu": "n/a" if mfu is None else f"{mfu:.1%}",
        "loss": float(metrics["loss"]),
    }


def format_table(rows: list[dict[str, float | str]]) -> str:
    columns = list(rows[0])
    cells = [[f"{r[c]:.3g}" if isinstance(r[c], float) else str(r[c]) for c in columns] for r in rows]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gin_file", action="append", required=True,
                        help="model gin (e.g. gin/models/alexatm_small.gin), then optional partitioning gin")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--encoder_length", type=int, default=256)
    parser.add_argument("--decoder_length", type=int, default=256)
    parser.add_argument("--steps", type=int, default=5, help="timed steps (median reported)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps after compilation")
    parser.add_argument("--num_microbatches", type=int, default=1)
    parser.add_argument("--optimizer", default="adamw", choices=["adamw", "adafactor"])
    parser.add_argument("--peak_flops_per_device", type=float, default=None)
    parser.add_argument("--gin_bindings", action="append", default=[], help="NAME=VALUE (same as --gin.NAME=VALUE)")
    args = parser.parse_args(rewrite_gin_args(sys.argv[1:] if argv is None else argv))
    print(format_table([benchmark(args, args.gin_bindings)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
