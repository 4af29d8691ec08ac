"""Can the tiny model learn to copy? Steps of a pure copy task per initialisation and embedding choice.

    python benchmarks/copy_task.py [--steps 400] [--variants official,shared,shared+init+frozen]

Inputs are random ids (from 7 to 7 + `--id_range`), targets equal inputs, so nothing but copying through the
encoder lowers the loss below log(id_range). Each variant trains `gin/models/alexatm_tiny.gin`'s architecture
with plain Adam (constant lr after 30 warm-up steps) and prints the loss every `--every` steps. This is the
measurement behind the tiny recipe's `init_std`, shared tables and frozen token type (docs/ARCHITECTURE.md,
"Training from scratch").
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402
import numpy as np  # noqa: E402
from train_step import format_table  # noqa: E402  (benchmarks/ is on the path when run as a script)

from alexatm_jax.cli import gin_config  # noqa: E402
from alexatm_jax.model.config import ModelConfig  # noqa: E402
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel  # noqa: E402
from alexatm_jax.partitioning import Partitioner  # noqa: E402
from alexatm_jax.training.optimizers import OptimizerConfig, make_optimizer  # noqa: E402
from alexatm_jax.training.trainer import Trainer  # noqa: E402

# name -> ModelConfig overrides on top of the tiny model.
VARIANTS = {
    "official": {},
    "shared": dict(share_embeddings=True, tie_word_embeddings=True),
    "shared+init": dict(share_embeddings=True, tie_word_embeddings=True, init_std=0.088),
    "shared+init+frozen": dict(share_embeddings=True, tie_word_embeddings=True, init_std=0.088,
                               freeze_token_type_embedding=True),
}


def copy_batch(rng: np.random.Generator, batch: int, length: int, id_range: int) -> dict[str, np.ndarray]:
    tokens = rng.integers(7, 7 + id_range, (batch, length)).astype(np.int32)
    positions = np.broadcast_to(np.arange(length, dtype=np.int32), (batch, length))
    ones = np.ones_like(tokens)
    return {"encoder_input_tokens": tokens, "encoder_segment_ids": ones, "encoder_positions": positions,
            "decoder_input_tokens": np.concatenate([np.zeros((batch, 1), np.int32), tokens[:, :-1]], axis=1),
            "decoder_target_tokens": tokens, "decoder_loss_weights": ones, "decoder_segment_ids": ones,
            "decoder_positions": positions}


def run(name: str, base: ModelConfig, args: argparse.Namespace) -> dict[str, float | str]:
    config = base.replace(**VARIANTS[name])
    optimizer = OptimizerConfig(learning_rate=args.lr, end_learning_rate=args.lr, warmup_steps=30)
    trainer = Trainer(EncoderDecoderModel(config), make_optimizer(optimizer, args.steps), Partitioner())
    state, rng = trainer.init_state(), np.random.default_rng(0)
    row: dict[str, float | str] = {"variant": name}
    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        state, metrics = trainer.train_step(state, copy_batch(rng, args.batch, args.length, args.id_range))
        if step % args.every == 0:
            row[f"loss@{step}"] = float(jax.device_get(metrics["loss"]))
    row["s"] = time.perf_counter() - start
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated: " + ", ".join(VARIANTS))
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--every", type=int, default=100, help="loss columns every this many steps")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=24)
    parser.add_argument("--id_range", type=int, default=1000)
    parser.add_argument("--lr", type=float, default=2e-3)
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.variants.split(",") if n.strip()]
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variant(s) {unknown}: choose from {', '.join(VARIANTS)}")
    gin_config.parse(["models/alexatm_tiny.gin"])
    base = gin_config.call(ModelConfig)
    print(f"copy task: ids {args.id_range} (uniform over them: loss {np.log(args.id_range):.2f}; at init about "
          f"log(vocab_size)), length {args.length}, batch {args.batch}, Adam {args.lr:g}")
    print(format_table([run(name, base, args) for name in names]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
