"""Evaluation of a checkpoint on seqio tasks (Flores-101, SuperGLUE, XSum, MLSum, SQuAD v2, ...) with
`seqio.Evaluator`.

`evaluate(...)` (bound by `gin/runs/eval.gin`, run by `python -m alexatm_jax.eval`):
1. reads the checkpoint's config and metadata: its vocabulary (or VOCAB_PATH; none is an error, never a silent
   default) and its tokenization convention (`tasks.vocabulary`: the official one for converted official
   checkpoints), and checks that the vocabulary fits the model;
2. builds one `EvalSettings` from its arguments and registers every evaluation family of the tasks registry
   (`tasks.registry.eval_families()`) with that vocabulary and those settings, so prompts are tokenised exactly as
   the model was trained;
3. checks every family's data and builds every dataset before loading the model (missing data fails in
   seconds, not after a 20B restore);
4. runs each task through `seqio.Evaluator` (the unpacked `AlexaTMFeatureConverter`, `sequence_length=None`)
   with a `Predictor`: greedy continuations for generation tasks, teacher-forced scores for rank
   classification; generation defaults follow the convention (official checkpoints: the official scripts'
   banned sequences and length);
5. writes per-task metrics and predictions (`outputs`) and `metrics.json`; the eval entry point then writes the
   results report (`results_report`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import seqio

import tasks.all  # noqa: F401  registers every task and evaluation family
from alexatm_jax import console, paths, prompting
from alexatm_jax.checkpoint import run_dir
from alexatm_jax.errors import ConfigError
from alexatm_jax.evaluation import outputs
from alexatm_jax.evaluation.predictors import ModelPredictor, Predictor, make_predict_fn, make_score_fn
from alexatm_jax.model.config import ModelConfig
from tasks import registry
from tasks.eval_settings import EvalSettings, Scoring
from tasks.feature_converters import AlexaTMFeatureConverter
from tasks.seqio_vocabulary import get_vocabulary

log = logging.getLogger("alexatm_jax.evaluation")


class EvalSetupError(ConfigError):
    """The evaluation cannot start (checkpoint, vocabulary, split, data); the message says how to fix it."""


def eval_split_for(task: seqio.Task, override: str | None = None) -> str:
    """The split a task is scored on: `override`, its family's split, `validation`, or its only split."""
    if override is None:
        family = registry.eval_family_of(task.name)
        override = family.eval_split if family else None
    if override is None:
        override = "validation" if "validation" in task.splits or len(task.splits) != 1 else task.splits[0]
    if override not in task.splits:
        raise EvalSetupError(f"Task {task.name} has no split {override!r} (it has {list(task.splits)}): pass "
                             f"--gin.EVAL_SPLIT=\"'{task.splits[0]}'\".")
    return override


def checkpoint_vocabulary(checkpoint_dir: Path, vocab_path: str | None) -> str:
    """VOCAB_PATH when given, else the vocabulary the checkpoint names; neither is an error (no silent default)."""
    if vocab_path:
        if "://" not in vocab_path and not os.path.isfile(vocab_path):
            raise EvalSetupError(f"VOCAB_PATH {vocab_path} not found: pass the SentencePiece .model the checkpoint "
                                 "was trained with.")
        return vocab_path
    stored = run_dir.read_metadata(checkpoint_dir).get(run_dir.VOCAB_PATH_FIELD)
    if not stored:
        raise EvalSetupError(f"The checkpoint {checkpoint_dir} records no vocabulary, so its prompts cannot be "
                             "tokenised: pass the SentencePiece .model it was trained with, "
                             "--gin.VOCAB_PATH=\"'/path/to/spm.model'\" (the released AlexaTM 20B: "
                             "20b_tokenizer.model).")
    if "://" not in stored and not os.path.isfile(stored):
        raise EvalSetupError(f"The checkpoint names the vocabulary {stored}, which is not here: pass "
                             "--gin.VOCAB_PATH=\"'/path/to/spm.model'\".")
    return stored


def _check_vocabulary(task: seqio.Task, config: ModelConfig) -> None:
    vocabulary = task.output_features["targets"].vocabulary
    problem = prompting.vocabulary_size_problem(vocabulary.vocab_size, config.vocab_size)
    if problem:
        raise EvalSetupError(f"Task {task.name}: the vocabulary {vocabulary} {problem} Pass the checkpoint's "
                             "vocabulary with --gin.VOCAB_PATH=\"'/path/to/spm.model'\".")
    if vocabulary.eos_id != config.eos_token_id:
        raise EvalSetupError(f"Task {task.name}'s vocabulary has EOS id {vocabulary.eos_id} but the model's "
                             f"eos_token_id is {config.eos_token_id}: pass the checkpoint's vocabulary with "
                             "--gin.VOCAB_PATH=\"'/path/to/spm.model'\".")


def registered_tasks(mixture_or_task_name: str, vocabulary: seqio.Vocabulary, settings: EvalSettings,
                     config: ModelConfig) -> list[seqio.Task]:
    """Registers every evaluation family for this run, then returns the tasks of `mixture_or_task_name`, their
    vocabulary checked against the model and their data checked (before any model is loaded)."""
    for family in registry.eval_families():
        family.register(vocabulary, settings)
    # By name: a mixture holds the Task objects of its creation, maybe registered with another vocabulary.
    tasks = [seqio.get_mixture_or_task(t.name) for t in seqio.get_subtasks(
        registry.get_mixture_or_task(mixture_or_task_name))]
    for task in tasks:
        _check_vocabulary(task, config)
    by_family: dict[str, tuple[registry.EvalFamily, list[str]]] = {}
    for task in tasks:
        family = registry.eval_family_of(task.name)
        if family:
            by_family.setdefault(family.name, (family, []))[1].append(task.name)
    for family, names in by_family.values():
        _data_step(f"{family.name} data", family.check_data, settings, names)
    return tasks


def _data_step(what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """`fn(...)`, with a data problem (a missing file, a file in the wrong layout) reported as a setup error."""
    try:
        return fn(*args, **kwargs)
    except (FileNotFoundError, ValueError) as e:
        raise EvalSetupError(f"{what}: {e}") from e


def _resolved(path: str | None) -> str | None:
    resolved = paths.resolve_optional(path)
    return None if resolved is None else str(resolved)


def evaluate(
    *,
    checkpoint_path: str,
    mixture_or_task_name: str,
    output_dir: str,
    flores101_dir: str | None = None,
    superglue_jsonl_dir: str | None = None,
    mlsum_dir: str | None = None,
    squad_v2_json: str | None = None,
    max_eval_examples: int | None = None,
    batch_size: int = 32,
    max_decode_length: int | None = None,
    banned_sequences: Sequence[Sequence[int]] | None = None,
    vocab_path: str | None = None,
    tokenization: str | None = None,
    eval_split: str | None = None,
    dtype: str | None = None,
    spbleu_model_path: str | None = None,
    bleu_tokenizer: str = "flores101",
    shot_selection: str = "official",
    shot_seed: int = 0,
    superglue_mode: str = "clm",
    superglue_scored: str = "answer",
    superglue_aggregation: str = "sum",
    partitioner: Any = None,
    predictor: Predictor | None = None,
) -> dict[str, dict[str, Any]]:
    """Evaluates a checkpoint on every task of `mixture_or_task_name`; returns {task: {metric: value}}.

    `checkpoint_path`: a converted checkpoint directory or a training MODEL_DIR (latest step). `vocab_path` and
    `tokenization` override what the checkpoint records. Generation is greedy, at most `max_decode_length` new
    tokens, never emitting `banned_sequences` (None: the defaults of the checkpoint's tokenization convention,
    `prompting.generation_defaults`; `[]`: none). `predictor` replaces the model (e.g.
    `predictors.ReferencePredictor` to check the wiring).
    """
    try:
        settings = EvalSettings(
            flores101_dir=_resolved(flores101_dir), superglue_jsonl_dir=_resolved(superglue_jsonl_dir),
            mlsum_dir=_resolved(mlsum_dir), squad_v2_json=_resolved(squad_v2_json),
            max_eval_examples=max_eval_examples, spbleu_model_path=_resolved(spbleu_model_path),
            bleu_tokenizer=bleu_tokenizer, shot_selection=shot_selection, shot_seed=shot_seed,
            superglue_scoring=Scoring(mode=superglue_mode, scored=superglue_scored, aggregation=superglue_aggregation))
    except ValueError as e:
        raise EvalSetupError(str(e)) from e
    checkpoint_dir = run_dir.find_checkpoint(paths.resolve(checkpoint_path))
    config = run_dir.read_model_config(run_dir.config_dir(checkpoint_dir))
    vocab_path = checkpoint_vocabulary(checkpoint_dir, _resolved(vocab_path))
    try:
        tokenization = prompting.checkpoint_tokenization(run_dir.read_metadata(checkpoint_dir), tokenization)
    except ValueError as e:
        raise EvalSetupError(str(e)) from e
    vocabulary = get_vocabulary(vocab_path, tokenization=tokenization, required_pieces=())
    tasks = registered_tasks(mixture_or_task_name, vocabulary, settings, config)
    splits = {task.name: eval_split_for(task, eval_split) for task in tasks}
    output_dir = str(paths.resolve(output_dir))
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    max_new_tokens, default_banned = prompting.generation_defaults(vocabulary.alexatm_tokenizer, tokenization)
    max_new_tokens = max_decode_length or max_new_tokens
    banned = default_banned if banned_sequences is None else [list(s) for s in banned_sequences]
    run_settings = {"vocab_path": vocab_path, "tokenization": tokenization, "max_new_tokens": max_new_tokens,
                    "banned_sequences": banned, "superglue_scoring": vars(settings.superglue_scoring),
                    "bleu_tokenizer": settings.bleu_tokenizer, "max_eval_examples": settings.max_eval_examples}
    writer = outputs.OutputWriter(output_dir, checkpoint=str(checkpoint_dir), splits=splits, settings=run_settings)
    step = int(checkpoint_dir.name) if checkpoint_dir.name.isdigit() else None  # a training MODEL_DIR's step
    converter = AlexaTMFeatureConverter(decoder_start_token_id=config.decoder_start_token_id, pack=False,
                                        count_skipped=False)

    # Build every dataset before loading the model: missing data fails in seconds, not after a 20B restore.
    evaluators = []
    for task in tasks:
        family = registry.eval_family_of(task.name)
        evaluator = _data_step(
            f"task {task.name}", seqio.Evaluator,
            mixture_or_task_name=task.name, feature_converter=converter, eval_split=splits[task.name],
            sequence_length=None, num_examples=None if family and family.caps_examples else max_eval_examples,
            logger_cls=(lambda output_dir: writer,), log_dir=output_dir, async_compute_metrics=False,
        )
        if evaluator.eval_tasks:
            evaluators.append((task, evaluator))
        else:
            log.warning("Task %s has no metric or no %r split: skipped.", task.name, splits[task.name])
    if not evaluators:
        raise EvalSetupError(f"Nothing to evaluate in {mixture_or_task_name!r}: its tasks have no metric fns.")

    if predictor is None:
        from alexatm_jax.api import load

        log.info("Loading %s", checkpoint_dir)
        lm = load(checkpoint_dir, dtype=dtype, partitioner=partitioner, vocab_path=vocab_path,
                  tokenization=tokenization)
        predictor = ModelPredictor(lm, max_new_tokens=max_new_tokens, banned_sequences=banned,
                                   batch_size=batch_size)
    prefix = vocabulary.alexatm_tokenizer.clm_prefix_ids()
    common = dict(max_input_length=config.max_position_embeddings, prefix=prefix)
    bar = console.progress_bar(total=len(evaluators), desc="eval", unit="task", enabled=jax.process_index() == 0)
    for task, evaluator in evaluators:
        bar.set_postfix(task=task.name)
        start = time.perf_counter()
        metrics, _ = evaluator.evaluate(
            compute_metrics=True, step=step,
            predict_fn=make_predict_fn(predictor, eos_id=config.eos_token_id, pad_id=config.pad_token_id,
                                       task_name=task.name, **common),
            score_fn=make_score_fn(predictor, task_name=task.name, **common),
        )
        metrics.result()
        log.info("%s (%s, %d examples, %.1f s): %s", task.name, splits[task.name],
                 writer.num_examples.get(task.name, 0), time.perf_counter() - start, writer.results.get(task.name))
        evaluator.close()
        bar.update()
    bar.close()
    outputs.write_summary(output_dir, writer.results, writer.num_examples, checkpoint=str(checkpoint_dir))
    return writer.results
