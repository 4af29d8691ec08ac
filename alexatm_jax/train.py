"""`python -m alexatm_jax.train --gin_file=... --gin.NAME=VALUE`: T5X-style gin-configured (pre)training.

    python -m alexatm_jax.train --gin_file=gin/experiments/default_tiny.gin --gin.MODEL_DIR="'runs/tiny'"

Running again with the same MODEL_DIR and a larger TRAIN_STEPS resumes from the latest checkpoint. Multi-process:
add `--coordinator_address=HOST:PORT --process_count=N --process_id=I` (or the ALEXATM_* environment variables,
see `alexatm_jax.training.distributed`). Exit codes: 0 done, 1 non-finite loss, 2 configuration or data error,
143 SIGTERM (saved).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import logging
import os
from typing import Any

from absl import flags

from alexatm_jax import paths, prompting
from alexatm_jax.checkpoint import run_dir
from alexatm_jax.checkpoint.manager import CheckpointConfig, TrainCheckpointer
from alexatm_jax.checkpoint.params import restore_params
from alexatm_jax.cli import app
from alexatm_jax.errors import ConfigError
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel
from alexatm_jax.partitioning import Partitioner
from alexatm_jax.training import distributed
from alexatm_jax.training.loop import PREEMPTED_EXIT_CODE, NonFiniteLossError, TrainResult, run_training
from alexatm_jax.training.optimizers import OptimizerConfig, make_optimizer
from alexatm_jax.training.trainer import Trainer
from tasks.registry import TaskDataError, UnknownTaskError

log = logging.getLogger("alexatm_jax.train")


def train(
    *,
    model: EncoderDecoderModel,
    model_dir: str | os.PathLike,
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
    restore_data_iterator: bool = True,
) -> TrainResult:
    """Trains `model` on `train_dataset_cfg` (a `input_pipeline.DatasetConfig`) into `model_dir` (gin binds this).

    `initial_checkpoint` (a converted checkpoint or another run's MODEL_DIR) gives the starting parameters
    when `model_dir` has no checkpoint yet (fine-tuning); optimiser state then starts fresh. A resumed run
    restores the input position saved with the checkpoint; `restore_data_iterator=False` skips batches instead
    (for data streams changed since, e.g. another `num_shards`).
    """
    import jax

    from alexatm_jax.training import input_pipeline

    model_dir = paths.resolve(model_dir)
    config = model.config
    partitioner = partitioner or Partitioner()
    optimizer_cfg = optimizer_cfg or OptimizerConfig()
    checkpoint_cfg = checkpoint_cfg or CheckpointConfig()
    main = jax.process_index() == 0
    _check_run_settings(model_dir, train_steps)
    _check_lengths(config, train_dataset_cfg.task_feature_lengths)
    vocab_size = input_pipeline.vocabulary_size(train_dataset_cfg)
    if vocab_size > config.vocab_size:
        raise ConfigError(f"The task vocabulary has {vocab_size} pieces but the model's vocab_size is "
                         f"{config.vocab_size}: set --gin.config.ModelConfig.vocab_size={vocab_size} or use the "
                         "model gin file made for this vocabulary.")

    trainer = Trainer(model, make_optimizer(optimizer_cfg, train_steps), partitioner, seed=seed,
                      num_microbatches=num_microbatches, label_smoothing=label_smoothing, z_loss=z_loss)
    trainer.check_batch_size(train_dataset_cfg.batch_size)
    rows = distributed.process_rows(partitioner.batch_sharding, train_dataset_cfg.batch_size)
    start_token = config.decoder_start_token_id
    train_data = input_pipeline.SeqioBatches(train_dataset_cfg, decoder_start_token_id=start_token, rows=rows)
    eval_batches = None
    if eval_dataset_cfg is not None and eval_every_steps:
        trainer.check_batch_size(eval_dataset_cfg.batch_size)
        eval_rows = distributed.process_rows(partitioner.batch_sharding, eval_dataset_cfg.batch_size)
        eval_data = input_pipeline.SeqioBatches(eval_dataset_cfg, decoder_start_token_id=start_token,
                                               rows=eval_rows)
        eval_batches = lambda: _same_count_on_all_processes(eval_data.cached_batches())

    initial_dir = run_dir.find_checkpoint(paths.resolve(initial_checkpoint)) if initial_checkpoint else None
    if initial_dir is not None:
        _check_tokenization(initial_dir, input_pipeline.vocabulary_tokenization(train_dataset_cfg))
    # The configuration is valid (the checks above raise before anything is written): now MODEL_DIR is written.
    if main:
        model_dir.mkdir(parents=True, exist_ok=True)
        _write_run_files(model_dir, config, input_pipeline.vocabulary_path(train_dataset_cfg),
                         input_pipeline.vocabulary_tokenization(train_dataset_cfg),
                         dict(train_dataset_cfg.task_feature_lengths))
    checkpointer = TrainCheckpointer(model_dir, checkpoint_cfg)
    initial_params = None
    if initial_dir and checkpointer.latest_step() is None:
        log.info("Initialising parameters from %s", initial_dir)
        initial_params = restore_params(initial_dir, model.param_shapes(), shardings=trainer.param_shardings)
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
            restore_data_iterator=restore_data_iterator,
        )
    finally:
        checkpointer.close()
    if main and result.final_step == result.start_step and not result.preempted:
        # A rerun of a finished run (the main job's second run): the first run's summary stays as it was.
        print(f"{model_dir} is already trained to step {result.final_step} (TRAIN_STEPS={train_steps}): nothing to "
              "train. Pass a larger --gin.TRAIN_STEPS=... to train on from there.", flush=True)
    elif main:
        summary = {k: v for k, v in dataclasses.asdict(result).items() if k != "losses"}
        run_dir.train_summary_path(model_dir).write_text(json.dumps(summary, indent=2) + "\n")
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


def _check_run_settings(model_dir: Any, train_steps: Any) -> None:
    """TRAIN_STEPS and MODEL_DIR, before anything is built or written."""
    if isinstance(train_steps, bool) or not isinstance(train_steps, int) or train_steps < 1:
        raise ConfigError(f"TRAIN_STEPS={train_steps!r}: training needs at least one step; pass "
                          "--gin.TRAIN_STEPS=N with N >= 1 (a MODEL_DIR trained further than N is left as it is).")
    found = run_dir.kind(model_dir)
    if found is run_dir.DirKind.NOT_A_DIRECTORY:
        raise ConfigError(f"MODEL_DIR {model_dir} is a file: pass a directory (new, or a training run to resume).")
    if found in (run_dir.DirKind.CHECKPOINT, run_dir.DirKind.OFFICIAL):
        raise ConfigError(f"MODEL_DIR {model_dir} is a {found.value}: training would write its run files into it. "
                          "Pass a new MODEL_DIR and start from that checkpoint with "
                          f"--gin.train_script.train.initial_checkpoint=\"'{model_dir}'\".")
    if not paths.writable_directory(model_dir):
        raise ConfigError(f"MODEL_DIR {model_dir} cannot be written: choose a directory you can write to.")


def _check_tokenization(initial_dir: Any, task_tokenization: str | None) -> None:
    """Fine-tuning feeds the task's texts as the initial checkpoint was trained (e.g. `<s> y </s>` targets for a
    converted official checkpoint), or stops before anything is written."""
    wanted = prompting.checkpoint_tokenization(run_dir.read_metadata(initial_dir))
    given = task_tokenization or prompting.PROJECT_TOKENIZATION
    if wanted != given:
        raise ConfigError(f"The initial checkpoint {initial_dir} was trained with the {wanted!r} tokenization but "
                          f"the task's vocabulary tokenises the {given!r} way: register the task with "
                          f"`tasks.seqio_vocabulary.get_vocabulary(path, tokenization={wanted!r})` "
                          "(docs/EVALUATION.md).")


def _check_lengths(config: Any, lengths: Any) -> None:
    for key in ("inputs", "targets"):
        if key not in lengths:
            raise ConfigError(f"TASK_FEATURE_LENGTHS needs 'inputs' and 'targets', got {dict(lengths)}.")
        if lengths[key] > config.max_position_embeddings:
            raise ConfigError(f"TASK_FEATURE_LENGTHS[{key!r}]={lengths[key]} exceeds the model's "
                              f"max_position_embeddings={config.max_position_embeddings}: shorten it.")


def _write_run_files(model_dir: Any, config: Any, vocab_path: str | None, tokenization: str | None,
                     task_feature_lengths: dict[str, int]) -> None:
    run_dir.write_model_config(model_dir, config)
    run_dir.write_metadata(model_dir, **{run_dir.VOCAB_PATH_FIELD: vocab_path,
                                         run_dir.TOKENIZATION_FIELD: tokenization,
                                         run_dir.TASK_FEATURE_LENGTHS_FIELD: task_feature_lengths})
    try:
        from alexatm_jax.cli import gin_config
    except ImportError:  # called without gin (from Python): nothing to record
        return
    run_dir.operative_config_path(model_dir).write_text(gin_config.operative_config())


def _same_count_on_all_processes(batches: list) -> list:
    """Every process must run the same number of eval steps (they are collective)."""
    import jax

    if jax.process_count() == 1:
        return batches
    import numpy as np
    from jax.experimental import multihost_utils

    counts = multihost_utils.process_allgather(np.asarray(len(batches), np.int32))
    return batches[: int(np.min(counts))]


def _define_flags(fv: flags.FlagValues) -> None:
    flags.DEFINE_string("compilation_cache_dir", None, "Persistent XLA compilation cache directory.",
                        flag_values=fv)
    flags.DEFINE_string("tfds_data_dir", None, "Where prepared TFDS datasets (mC4, Wikipedia) live, for the "
                        "pretraining tasks.", flag_values=fv)


def _run(fv: flags.FlagValues, args: list[str]) -> int:
    del args
    from alexatm_jax.cli import gin_config

    if fv.compilation_cache_dir:
        import jax

        jax.config.update("jax_compilation_cache_dir", str(paths.resolve(fv.compilation_cache_dir)))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    if fv.tfds_data_dir:
        from tasks import registry  # Entry-point layer: the data side may be imported here.

        registry.set_tfds_data_dir(str(paths.resolve(fv.tfds_data_dir)))
    # The gin files bind `alexatm_jax.train.train`; under `python -m` this file is `__main__`, a second copy.
    this_module = importlib.import_module("alexatm_jax.train")
    gin_config.parse(fv.gin_file, fv.gin_bindings, fv.gin_search_paths)
    try:
        result = gin_config.call(this_module.train)
    except NonFiniteLossError as e:
        print(f"error: {e}", flush=True)
        return app.EXIT_FAILURE
    return PREEMPTED_EXIT_CODE if result.preempted else app.EXIT_OK


COMMAND = app.Command(name="train", doc=__doc__, run=_run, define_flags=_define_flags, uses_gin=True,
                      multi_process=True, user_errors=(UnknownTaskError, TaskDataError))


def main(argv: list[str] | None = None) -> int:
    return app.main(COMMAND, argv)


if __name__ == "__main__":
    app.run(COMMAND)
