"""Benchmark: what the training loop costs on top of the bare jitted train step (goal: within 2%).

    python benchmarks/loop_overhead.py [--models tiny,small] [--steps N] [--repeats 3]

For each model (`tiny`: the main job's, `gin/models/alexatm_tiny_cpu.gin`; `small`: `gin/models/alexatm_small.gin`),
on the same synthetic batches:
- `bare`: the compiled `Trainer.train_step` called back to back on batches already on the device, one wait at
  the end: the device's own step time.
- `loop`: `training.loop.run_training` as `python -m alexatm_jax.train` runs it (numpy batches placed on the
  mesh each step, metrics fetched one step late, a log line every `--log_every_steps`, the progress bar, the
  preemption check), timed by its own `train_s`. Each repeat resumes a warm run (compiled, one step done), so
  neither compilation nor the final checkpoint is counted.
The table gives the median per-step time of each over `--repeats` alternating runs, their spread (max/min - 1)
and the overhead (loop / bare - 1). The input pipeline is not part of it (`benchmarks/input_pipeline.py`).
Numbers depend on the machine's load: record `uptime` with them.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import jax  # noqa: E402
from train_step import format_table  # noqa: E402  (benchmarks/ is on the path when run as a script)

from alexatm_jax.checkpoint.manager import CheckpointConfig, TrainCheckpointer  # noqa: E402
from alexatm_jax.cli import gin_config  # noqa: E402
from alexatm_jax.model.config import ModelConfig  # noqa: E402
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel  # noqa: E402
from alexatm_jax.partitioning import Partitioner, shard_batch  # noqa: E402
from alexatm_jax.training.loop import run_training  # noqa: E402
from alexatm_jax.training.optimizers import OptimizerConfig, make_optimizer  # noqa: E402
from alexatm_jax.training.trainer import Trainer, synthetic_batch  # noqa: E402

# Per model: its gin file, global batch size, encoder and decoder lengths (tiny: the main job's shape,
# gin/experiments/default_tiny.gin) and timed steps per run (a few seconds to a minute on 2 idle CPU cores).
GIN_FILES = {"tiny": "models/alexatm_tiny_cpu.gin", "small": "models/alexatm_small.gin"}
SHAPES = {"tiny": (32, 32, 32, 60), "small": (8, 128, 128, 20)}
DISTINCT_BATCHES = 4


def bare_step_s(trainer: Trainer, host_batches: list[dict], steps: int) -> float:
    """Seconds per step of the compiled step alone (batches on the device, one wait at the end)."""
    batches = [shard_batch(b, trainer.partitioner.batch_sharding) for b in host_batches]
    state = trainer.init_state()
    state, metrics = trainer.train_step(state, batches[0])  # compiled already; first run off the clock
    jax.block_until_ready(metrics)
    start = time.perf_counter()
    for i in range(steps):
        state, metrics = trainer.train_step(state, batches[i % len(batches)])
    jax.block_until_ready((state, metrics))
    return (time.perf_counter() - start) / steps


def loop_step_s(trainer: Trainer, host_batches: list[dict], steps: int, log_every_steps: int) -> float:
    """Seconds per step of `run_training` resumed from a warm one-step run (its own `train_s`)."""
    def batches(start: int):  # batch n of the run is host_batches[n % len(host_batches)]
        return itertools.islice(itertools.cycle(host_batches), start % len(host_batches), None)

    with tempfile.TemporaryDirectory(prefix="loop-overhead-") as model_dir:
        def run(train_steps: int):
            checkpointer = TrainCheckpointer(model_dir, CheckpointConfig(save_every_steps=10**9, keep=1))
            try:
                return run_training(
                    trainer=trainer, checkpointer=checkpointer, model_dir=model_dir, train_steps=train_steps,
                    train_batches=batches,
                    log_every_steps=log_every_steps, eval_every_steps=None)
            finally:
                checkpointer.close()

        run(1)
        result = run(1 + steps)
        assert result.final_step == 1 + steps
        return result.train_s / steps


def model_config(name: str) -> ModelConfig:
    """The ModelConfig that model `name`'s gin file configures."""
    gin_config.parse([GIN_FILES[name]])
    return gin_config.call(ModelConfig)


def benchmark(name: str, args: argparse.Namespace) -> dict[str, float | str]:
    config = model_config(name)
    batch_size, encoder_length, decoder_length, default_steps = SHAPES[name]
    steps = args.steps or default_steps
    trainer = Trainer(EncoderDecoderModel(config), make_optimizer(OptimizerConfig(warmup_steps=1), 10**6),
                      Partitioner())
    host_batches = [synthetic_batch(config, batch_size, encoder_length, decoder_length, seed=i)
                    for i in range(DISTINCT_BATCHES)]
    trainer.compile_train_step(shard_batch(host_batches[0], trainer.partitioner.batch_sharding))
    bare, loop = [], []
    for _ in range(args.repeats):
        bare.append(bare_step_s(trainer, host_batches, steps))
        loop.append(loop_step_s(trainer, host_batches, steps, args.log_every_steps))
    spread = lambda xs: max(xs) / min(xs) - 1
    return {
        "model": name,
        "devices": f"{jax.device_count()}x {jax.devices()[0].device_kind}",
        "batch": f"{batch_size}x({encoder_length}+{decoder_length})",
        "steps": steps,
        "bare_ms": 1e3 * statistics.median(bare),
        "bare_spread": f"{spread(bare):.1%}",
        "loop_ms": 1e3 * statistics.median(loop),
        "loop_spread": f"{spread(loop):.1%}",
        "overhead": f"{statistics.median(loop) / statistics.median(bare) - 1:+.1%}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="tiny,small", help="comma-separated: " + ", ".join(SHAPES))
    parser.add_argument("--steps", type=int, default=None, help="timed steps per run (default: per model)")
    parser.add_argument("--repeats", type=int, default=3, help="alternating bare/loop runs (median reported)")
    parser.add_argument("--log_every_steps", type=int, default=100, help="as in gin/runs/pretrain.gin")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = sorted(set(names) - set(SHAPES))
    if unknown:
        parser.error(f"unknown model(s) {unknown}: choose from {', '.join(SHAPES)}")
    logging.getLogger("absl").setLevel(logging.ERROR)
    print(format_table([benchmark(name, args) for name in names]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
