"""`python -m alexatm_jax.train --gin_file=... --gin.NAME=VALUE`: T5X-style gin-configured (pre)training.

    python -m alexatm_jax.train --gin_file=gin/experiments/default_tiny.gin --gin.MODEL_DIR="'/tmp/tiny'"

Running again with the same MODEL_DIR and a larger TRAIN_STEPS resumes from the latest checkpoint. Multi-process:
add `--coordinator_address=HOST:PORT --process_count=N --process_id=I` (or the ALEXATM_* environment variables,
see `alexatm_jax.distributed`). Exit codes: 0 done, 1 non-finite loss, 2 configuration error, 143 SIGTERM (saved).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from alexatm_jax import checkpoints, distributed
from alexatm_jax.checkpoint_manager import CheckpointConfig, TrainCheckpointer
from alexatm_jax.models import EncoderDecoderModel
from alexatm_jax.optimizers import OptimizerConfig, make_optimizer
from alexatm_jax.partitioning import Partitioner
from alexatm_jax.train_loop import PREEMPTED_EXIT_CODE, NonFiniteLossError, TrainResult, run_training
from alexatm_jax.trainer import Trainer

log = logging.getLogger("alexatm_jax.train")
SUMMARY_FILENAME = "train_summary.json"


def train(
    *,
    model: EncoderDecoderModel,
    model_dir: str,
    train_steps: int,
    train_dataset_cfg: Any,
    eval_dataset_cfg: Any = None,
    partitioner: Partitioner | None = None,
    optimizer_cfg: OptimizerConfig | None = None,
    checkpoint_cfg: CheckpointConfig | None = None,
    seed: int = 0,
    num_microbatches: int = 1,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    log_every_steps: int = 100,
    eval_every_steps: int | None = 1000,
    initial_checkpoint: str | None = None,
    peak_flops_per_device: float | None = None,
    progress_bar: bool = True,
    throttle_s: float = 0.0,
) -> TrainResult:
    """Trains `model` on `train_dataset_cfg` (a `data_pipeline.DatasetConfig`) into `model_dir` (gin binds this).

    `initial_checkpoint` (a converted checkpoint or another run's MODEL_DIR) gives the starting parameters
    when `model_dir` has no checkpoint yet (fine-tuning); optimiser state then starts fresh.
    """
    import jax

    from alexatm_jax import data_pipeline

    model_dir = str(Path(model_dir).expanduser().absolute())
    config = model.config
    partitioner = partitioner or Partitioner()
    optimizer_cfg = optimizer_cfg or OptimizerConfig()
    checkpoint_cfg = checkpoint_cfg or CheckpointConfig()
    main = jax.process_index() == 0
    _check_lengths(config, train_dataset_cfg.task_feature_lengths)
    vocab_size = data_pipeline.vocabulary_size(train_dataset_cfg)
    if vocab_size > config.vocab_size:
        raise ValueError(f"The task vocabulary has {vocab_size} pieces but the model's vocab_size is "
                         f"{config.vocab_size}: set --gin.config.ModelConfig.vocab_size={vocab_size} or use the "
                         "model gin file made for this vocabulary.")
    if main:
        Path(model_dir).mkdir(parents=True, exist_ok=True)
        _write_run_files(model_dir, config, data_pipeline.vocabulary_path(train_dataset_cfg))

    trainer = Trainer(model, make_optimizer(optimizer_cfg, train_steps), partitioner, seed=seed,
                      num_microbatches=num_microbatches, label_smoothing=label_smoothing, z_loss=z_loss)
    trainer.check_batch_size(train_dataset_cfg.batch_size)
    rows = distributed.process_rows(partitioner.batch_sharding, train_dataset_cfg.batch_size)
    start_token = config.decoder_start_token_id
    train_data = data_pipeline.SeqioBatches(train_dataset_cfg, decoder_start_token_id=start_token, rows=rows)
    eval_batches = None
    if eval_dataset_cfg is not None and eval_every_steps:
        trainer.check_batch_size(eval_dataset_cfg.batch_size)
        eval_rows = distributed.process_rows(partitioner.batch_sharding, eval_dataset_cfg.batch_size)
        eval_data = data_pipeline.SeqioBatches(eval_dataset_cfg, decoder_start_token_id=start_token,
                                               rows=eval_rows)
        eval_batches = lambda: _same_count_on_all_processes(eval_data.cached_batches())

    checkpointer = TrainCheckpointer(model_dir, checkpoint_cfg)
    initial_params = None
    if initial_checkpoint and checkpointer.latest_step() is None:
        log.info("Initialising parameters from %s", initial_checkpoint)
        initial_params = checkpoints.restore_params(initial_checkpoint, config, shardings=trainer.param_shardings)
    record = {
        "train_dataset": train_dataset_cfg.mixture_or_task_name,
        "batch_size": train_dataset_cfg.batch_size,
        "task_feature_lengths": dict(train_dataset_cfg.task_feature_lengths),
        "data_seed": train_dataset_cfg.seed,
        "num_shards": train_data.num_shards,
        "seed": seed,
        "num_microbatches": num_microbatches,
        "process_count": jax.process_count(),
    }
    try:
        result = run_training(
            trainer=trainer, checkpointer=checkpointer, model_dir=model_dir, train_steps=train_steps,
            train_batches=train_data.iterator, eval_batches=eval_batches, record=record,
            initial_params=initial_params, log_every_steps=log_every_steps, eval_every_steps=eval_every_steps,
            peak_flops_per_device=peak_flops_per_device, progress_bar=progress_bar, throttle_s=throttle_s,
        )
    finally:
        checkpointer.close()
    if main:
        summary = {k: v for k, v in dataclasses.asdict(result).items() if k != "losses"}
        (Path(model_dir) / SUMMARY_FILENAME).write_text(json.dumps(summary, indent=2) + "\n")
        print(format_summary(result), flush=True)
    return result


def format_summary(result: TrainResult) -> str:
    """The human-readable end-of-run summary."""
    def f(value, fmt):
        return "n/a" if value is None else format(value, fmt)

    lines = [
        f"steps {result.start_step} -> {result.final_step}" + (" (stopped by SIGTERM)" if result.preempted else ""),
        f"loss first {f(result.first_loss, '.4f')} last {f(result.last_loss, '.4f')}"
        + (f" (validation {result.last_eval_loss:.4f})" if result.last_eval_loss is not None else ""),
        f"throughput {f(result.tokens_per_s, ',.0f')} tokens/s, {f(result.step_time_s, '.3f')} s/step"
        + (f", MFU {result.mfu:.1%}" if result.mfu is not None else ""),
        f"compile {result.compile_s:.1f} s, training {result.train_s:.1f} s",
        f"checkpoint {result.checkpoint}",
    ]
    return "Training summary: " + "\n  ".join(lines)


def _check_lengths(config: Any, lengths: Any) -> None:
    for key in ("inputs", "targets"):
        if key not in lengths:
            raise ValueError(f"TASK_FEATURE_LENGTHS needs 'inputs' and 'targets', got {dict(lengths)}.")
        if lengths[key] > config.max_position_embeddings:
            raise ValueError(f"TASK_FEATURE_LENGTHS[{key!r}]={lengths[key]} exceeds the model's "
                             f"max_position_embeddings={config.max_position_embeddings}: shorten it.")


def _write_run_files(model_dir: str, config: Any, vocab_path: str | None) -> None:
    config.save(model_dir)
    checkpoints.write_metadata(model_dir, vocab_path=vocab_path)
    try:
        from alexatm_jax import gin_utils

        gin_utils.write_operative_config(model_dir)
    except ImportError:  # called without gin (from Python): nothing to record
        pass


def _same_count_on_all_processes(batches: list) -> list:
    """Every process must run the same number of eval steps (they are collective)."""
    import jax

    if jax.process_count() == 1:
        return batches
    import numpy as np
    from jax.experimental import multihost_utils

    counts = multihost_utils.process_allgather(np.asarray(len(batches), np.int32))
    return batches[: int(np.min(counts))]


def _parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    from alexatm_jax import gin_utils

    bindings, rest = gin_utils.split_gin_args(argv)
    parser = argparse.ArgumentParser(prog="python -m alexatm_jax.train", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gin_file", action="append", default=[], help="gin file(s), later ones override")
    parser.add_argument("--gin_bindings", action="append", default=[], help="NAME=VALUE (same as --gin.NAME=VALUE)")
    parser.add_argument("--gin_search_paths", action="append", default=[],
                        help="extra directories for gin files and includes (the repository's gin/ is built in)")
    parser.add_argument("--coordinator_address", default=None, help="HOST:PORT of process 0 (multi-process)")
    parser.add_argument("--process_count", type=int, default=None)
    parser.add_argument("--process_id", type=int, default=None)
    parser.add_argument("--distributed_auto", action="store_true",
                        help="let JAX detect the cluster (SLURM, Open MPI, Cloud TPU)")
    parser.add_argument("--compilation_cache_dir", default=None, help="persistent XLA compilation cache")
    parser.add_argument("--tfds_data_dir", default=None,
                        help="where prepared TFDS datasets (mC4, Wikipedia) live, for the pretraining tasks")
    parser.add_argument("--log_level", default="INFO")
    args = parser.parse_args(rest)
    return args, args.gin_bindings + bindings


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from alexatm_jax import gin_utils

    try:
        args, bindings = _parse_args(sys.argv[1:] if argv is None else argv)
    except gin_utils.GinConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alexatm_jax").setLevel(args.log_level.upper())
    distributed.initialize(args.coordinator_address, args.process_count, args.process_id,
                           auto=args.distributed_auto)
    if args.compilation_cache_dir:
        import jax

        jax.config.update("jax_compilation_cache_dir", args.compilation_cache_dir)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    if args.tfds_data_dir:
        from tasks import pretraining  # Entry-point layer: the data side may be imported here.

        pretraining.set_tfds_data_dir(args.tfds_data_dir)
    # The gin files bind `alexatm_jax.train.train`; under `python -m` this file is `__main__`, a second copy.
    this_module = importlib.import_module("alexatm_jax.train")
    try:
        gin_utils.parse(args.gin_file, bindings, args.gin_search_paths)
        result = gin_utils.call(this_module.train)
    except gin_utils.GinConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except NonFiniteLossError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return PREEMPTED_EXIT_CODE if result.preempted else 0


if __name__ == "__main__":
    sys.exit(main())
