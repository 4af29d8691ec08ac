"""Evaluation of a checkpoint on seqio tasks (Flores-101, SuperGLUE, XSum, ...) with `seqio.Evaluator`.

`evaluate(...)` (bound by `gin/runs/eval.gin`, run by `python -m alexatm_jax.eval`) sets the data locations
(`tasks.eval_settings`), builds one `seqio.Evaluator` per task of the mixture on that task's eval split with the
unpacked `AlexaTMFeatureConverter` and `sequence_length=None` (seqio would cut the END of longer inputs, i.e.
the query; inputs longer than the model's positions are cut from the LEFT here, `[CLM]` kept first, with a
warning), then runs predict tasks (greedy continuations) and score tasks (rank classification) through a
`Predictor`. It writes, under the output directory, `<task>-metrics.json`, `<task>-predictions.jsonl`,
`metrics.json`, `results.md` and, for Flores-101 tasks, `flores101_summary.md`.

Two seqio 0.0.20 pitfalls are avoided here: the Evaluator calls `np.array` on predictions, which fails for
ragged lists under numpy 2 (predictions are fixed-length rows, padded after EOS), and TFDS sources without
`dataset_info` raise on `num_input_examples` (nothing here asks for it; sizes are capped by MAX_EVAL_EXAMPLES
through `tasks.eval_settings`, never by the Evaluator's `num_examples`, which would cut a question's candidates).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import seqio
import tensorflow as tf

from alexatm_jax import paths
from alexatm_jax.checkpoint import run_dir
from alexatm_jax.errors import ConfigError
from alexatm_jax.model.config import ModelConfig
from tasks import eval_metrics, eval_settings, flores101, registry, superglue, xsum
from tasks.feature_converters import AlexaTMFeatureConverter
from tasks.vocabulary import DEFAULT_SPM_PATH

log = logging.getLogger("alexatm_jax.evaluation")

# The split each eval family is scored on (task-name prefix -> split); other tasks: `validation` or their only one.
FAMILY_SPLITS = {"flores101_": flores101.EVAL_SPLIT, "super_glue_": superglue.EVAL_SPLIT, "xsum": xsum.EVAL_SPLIT}
# The official release's banned sequences, ids of ITS 150K vocabulary (id 0 is `<s>`); ours needs none.
OFFICIAL_BANNED_SEQUENCES = ((0,), (2012, 2006))
METRICS_FILENAME = "metrics.json"
TABLE_FILENAME = "results.md"
FLORES_TABLE_FILENAME = "flores101_summary.md"


class EvalSetupError(ConfigError):
    """The evaluation cannot start (checkpoint, vocabulary, split); the message says how to fix it."""


# ----------------------------------------------------------------------------- predictors


@dataclasses.dataclass(frozen=True)
class EvalExample:
    """One example of a model dataset: prompt tokens (padding removed, EOS included) and target tokens."""

    index: int
    inputs: list[int]
    targets: list[int]


class Predictor(Protocol):
    """What the evaluator asks of a model."""

    def predict(self, examples: Sequence[EvalExample]) -> list[list[int]]:
        """Generated continuation tokens per example (decoder output only; EOS optional)."""

    def score(self, examples: Sequence[EvalExample]) -> list[float]:
        """Sum of the target tokens' log-probabilities per example (teacher forcing)."""


class ModelPredictor:
    """Greedy decoding and teacher-forced scoring with a loaded `Seq2SeqLM` (token ids in, token ids out)."""

    def __init__(self, lm: Any, *, max_decode_length: int = 64,
                 banned_sequences: Sequence[Sequence[int]] | None = None, batch_size: int = 32):
        self.lm = lm
        self.max_decode_length = max_decode_length
        self.banned_sequences = [list(s) for s in banned_sequences or ()]
        self.batch_size = batch_size

    def predict(self, examples: Sequence[EvalExample]) -> list[list[int]]:
        inputs = self._full_batches([ex.inputs for ex in examples])
        order = _longest_first(inputs)  # similar lengths share a batch: less padding, fewer shapes
        outputs = self.lm.generate([inputs[i] for i in order], max_new_tokens=self.max_decode_length, mode=None,
                                   banned_sequences=self.banned_sequences, batch_size=self.batch_size)
        return _unsort(order, outputs)[:len(examples)]

    def score(self, examples: Sequence[EvalExample]) -> list[float]:
        inputs = self._full_batches([ex.inputs for ex in examples])
        targets = self._full_batches([ex.targets for ex in examples])
        order = _longest_first(inputs)
        scores = self.lm.score([inputs[i] for i in order], [targets[i] for i in order], mode=None,
                               batch_size=self.batch_size)
        return _unsort(order, [float(s) for s in np.atleast_1d(scores)])[:len(examples)]

    def _full_batches(self, rows: list[list[int]]) -> list[list[int]]:
        """`rows` repeated at the end up to a multiple of the batch size: every batch has one shape (one compile)."""
        return rows + rows[-1:] * (-len(rows) % self.batch_size) if rows else rows


class ReferencePredictor:
    """Checks the wiring without a model: predictions are the references, every candidate scores 0."""

    def __init__(self, eos_id: int):
        self.eos_id = eos_id

    def predict(self, examples: Sequence[EvalExample]) -> list[list[int]]:
        return [[t for t in ex.targets if t != self.eos_id] for ex in examples]

    def score(self, examples: Sequence[EvalExample]) -> list[float]:
        return [0.0 for _ in examples]


def _longest_first(inputs: Sequence[Sequence[int]]) -> list[int]:
    return sorted(range(len(inputs)), key=lambda i: -len(inputs[i]))


def _unsort(order: list[int], values: Sequence[Any]) -> list[Any]:
    out: list[Any] = [None] * len(order)
    for position, i in enumerate(order):
        out[i] = values[position]
    return out


# ----------------------------------------------------------------------------- seqio adapters


def truncate_left(ids: Sequence[int], limit: int, keep_first: Sequence[int] = ()) -> list[int]:
    """The last tokens of `ids` that fit in `limit`; a first token in `keep_first` (e.g. `[CLM]`) stays first."""
    ids = list(ids)
    if len(ids) <= limit:
        return ids
    head = ids[:1] if ids[0] in keep_first and limit > 1 else []
    return head + ids[len(ids) - (limit - len(head)):]


def model_examples(dataset: tf.data.Dataset, *, max_input_length: int, keep_first: Sequence[int] = (),
                   task_name: str = "") -> list[EvalExample]:
    """The examples of an enumerated model dataset (padding removed; inputs cut from the left to fit)."""
    examples, truncated = [], 0
    for index, ex in dataset.as_numpy_iterator():
        inputs = ex["encoder_input_tokens"][ex["encoder_segment_ids"] > 0].tolist()
        targets = ex["decoder_target_tokens"][ex["decoder_loss_weights"] > 0].tolist()
        if len(inputs) > max_input_length:
            truncated += 1
            inputs = truncate_left(inputs, max_input_length, keep_first)
        examples.append(EvalExample(int(index), inputs, targets))
    if truncated:
        log.warning("%s: %d of %d inputs are longer than the model's %d positions; kept their last tokens "
                    "(the query), [CLM] first.", task_name, truncated, len(examples), max_input_length)
    return examples


def fixed_length_rows(outputs: Sequence[Sequence[int]], *, eos_id: int, pad_id: int,
                      min_length: int = 1) -> list[np.ndarray]:
    """Each output with EOS appended (when not already there), padded with `pad_id` to one common length."""
    ended = [list(o) if o and o[-1] == eos_id else [*o, eos_id] for o in outputs]
    length = max([min_length, *map(len, ended)])
    rows = np.full((len(ended), length), pad_id, np.int32)
    for row, tokens in enumerate(ended):
        rows[row, :len(tokens)] = tokens
    return list(rows)


def make_predict_fn(predictor: Predictor, *, eos_id: int, pad_id: int, max_input_length: int,
                    keep_first: Sequence[int] = (), output_length: int = 1, task_name: str = "") -> Callable:
    """A seqio predict fn: enumerated model dataset -> [(index, fixed-length token row)]."""

    def predict_fn(dataset: tf.data.Dataset, model_feature_shapes: Any = None) -> list[tuple[int, np.ndarray]]:
        del model_feature_shapes
        examples = model_examples(dataset, max_input_length=max_input_length, keep_first=keep_first,
                                  task_name=task_name)
        outputs = predictor.predict(examples)
        rows = fixed_length_rows(outputs, eos_id=eos_id, pad_id=pad_id, min_length=output_length)
        return [(ex.index, row) for ex, row in zip(examples, rows)]

    return predict_fn


def make_score_fn(predictor: Predictor, *, max_input_length: int, keep_first: Sequence[int] = (),
                  task_name: str = "") -> Callable:
    """A seqio score fn: enumerated model dataset -> [(index, summed target log-likelihood)]."""

    def score_fn(dataset: tf.data.Dataset, model_feature_shapes: Any = None) -> list[tuple[int, float]]:
        del model_feature_shapes
        examples = model_examples(dataset, max_input_length=max_input_length, keep_first=keep_first,
                                  task_name=task_name)
        scores = predictor.score(examples)
        return [(ex.index, float(s)) for ex, s in zip(examples, scores)]

    return score_fn


# ----------------------------------------------------------------------------- outputs


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _metric_value(value: Any) -> Any:
    value = getattr(value, "value", value)
    return float(value) if isinstance(value, (int, float, np.number)) else _jsonable(value)


# Task features copied to each predictions row when present.
_ROW_FEATURES = ("inputs_pretokenized", "targets_pretokenized", "idx", "candidate_idx", "group_idx", "is_correct")


class OutputWriter(seqio.Logger):
    """A seqio logger writing `<task>-metrics.json` and `<task>-predictions.jsonl`; keeps every task's metrics."""

    def __init__(self, output_dir: str, *, checkpoint: str = "", splits: Mapping[str, str] | None = None):
        super().__init__(output_dir)
        self.checkpoint = checkpoint
        self.splits = dict(splits or {})
        self.results: dict[str, dict[str, Any]] = {}
        self.num_examples: dict[str, int] = {}

    def __call__(self, task_name: str, step: int | None, metrics: Mapping[str, Any], dataset: tf.data.Dataset | None,
                 inferences: Mapping[str, Sequence[Any]] | None, targets: Sequence[Any] | None) -> None:
        values = {k: _metric_value(v) for k, v in metrics.items()}
        rows = []
        for i, ex in enumerate(dataset.as_numpy_iterator() if dataset is not None else ()):
            row: dict[str, Any] = {"index": i}
            row.update({k.removesuffix("_pretokenized"): _jsonable(ex[k]) for k in _ROW_FEATURES if k in ex})
            if targets is not None and i < len(targets) and _jsonable(targets[i]) != row.get("targets"):
                row["reference"] = _jsonable(targets[i])  # the postprocessed target, when it differs
            for key, column in (inferences or {}).items():
                if i < len(column):
                    row[key] = _jsonable(column[i])
            rows.append(row)
        self.results[task_name] = values
        self.num_examples[task_name] = len(rows)
        out = Path(self.output_dir)
        record = {"task": task_name, "split": self.splits.get(task_name), "checkpoint": self.checkpoint,
                  "num_examples": len(rows), "metrics": values}
        if step is not None:
            record["step"] = step
        (out / f"{task_name}-metrics.json").write_text(json.dumps(record, indent=2) + "\n")
        with open(out / f"{task_name}-predictions.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def results_table(results: Mapping[str, Mapping[str, Any]], num_examples: Mapping[str, int] | None = None) -> str:
    """Markdown table: one row per task, one column per metric name (blank where a task lacks it)."""
    names = list(dict.fromkeys(k for metrics in results.values() for k in metrics))
    lines = ["| task | examples | " + " | ".join(names) + " |", "|---|---:|" + "---:|" * len(names)]
    for task, metrics in results.items():
        cells = [f"{metrics[n]:.2f}" if isinstance(metrics.get(n), float) else str(metrics.get(n, ""))
                 for n in names]
        lines.append(f"| {task} | {(num_examples or {}).get(task, '')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_summary(output_dir: str | Path, results: Mapping[str, Mapping[str, Any]],
                  num_examples: Mapping[str, int], *, checkpoint: str = "") -> None:
    """`metrics.json` (every task), `results.md` and, with Flores-101 tasks, `flores101_summary.md`."""
    out = Path(output_dir)
    record = {"checkpoint": checkpoint, "tasks": {t: {"num_examples": num_examples.get(t), "metrics": m}
                                                  for t, m in results.items()}}
    (out / METRICS_FILENAME).write_text(json.dumps(record, indent=2) + "\n")
    text = f"# Evaluation of {checkpoint}\n\n{results_table(results, num_examples)}\n"
    (out / TABLE_FILENAME).write_text(text)
    flores = {t: m for t, m in results.items() if t.startswith("flores101_")}
    if flores:
        metric_names = list(dict.fromkeys(k for m in flores.values() for k in m))
        tables = [flores101.flores101_summary_table(flores, metric=name) for name in metric_names]
        (out / FLORES_TABLE_FILENAME).write_text("# Flores-101 1-shot\n\n" + "\n\n".join(tables) + "\n")


# ----------------------------------------------------------------------------- the run


def use_vocabulary(vocab_path: str | None) -> seqio.Vocabulary:
    """Registers the eval families (again: milliseconds) with `vocab_path`, None meaning the project's default."""
    vocabulary = eval_settings.resolve_vocabulary(vocab_path or DEFAULT_SPM_PATH)
    flores101.register_flores101_tasks(vocabulary)
    superglue.register_superglue_tasks(vocabulary)
    xsum.register_xsum_tasks(vocabulary)
    return vocabulary


def eval_split_for(task: seqio.Task, override: str | None = None) -> str:
    """The split a task is scored on: `override`, its family's split, `validation`, or its only split."""
    if override is None:
        override = next((split for prefix, split in FAMILY_SPLITS.items() if task.name.startswith(prefix)), None)
    if override is None:
        override = "validation" if "validation" in task.splits or len(task.splits) != 1 else task.splits[0]
    if override not in task.splits:
        raise EvalSetupError(f"Task {task.name} has no split {override!r} (it has {list(task.splits)}): pass "
                             f"--gin.EVAL_SPLIT=\"'{task.splits[0]}'\".")
    return override


def _family_task(name: str) -> bool:
    return any(name.startswith(prefix) for prefix in FAMILY_SPLITS)


def _checkpoint_vocab(checkpoint_dir: Path, vocab_path: str | None) -> str | None:
    if vocab_path:
        if "://" not in vocab_path and not os.path.isfile(vocab_path):
            raise EvalSetupError(f"VOCAB_PATH {vocab_path} not found: pass the SentencePiece .model the checkpoint "
                                 "was trained with.")
        return vocab_path
    stored = run_dir.read_metadata(checkpoint_dir).get("vocab_path")
    if stored and "://" not in stored and not os.path.isfile(stored):
        raise EvalSetupError(f"The checkpoint names the vocabulary {stored}, which is not here: pass "
                             "--gin.VOCAB_PATH=\"'/path/to/spm.model'\".")
    return stored


def _check_vocabulary(task: seqio.Task, config: ModelConfig) -> None:
    vocabulary = task.output_features["targets"].vocabulary
    if vocabulary.vocab_size > config.vocab_size:
        raise EvalSetupError(f"Task {task.name}'s vocabulary {vocabulary} has {vocabulary.vocab_size} pieces but "
                             f"the model only {config.vocab_size}: pass the checkpoint's vocabulary with "
                             "--gin.VOCAB_PATH=\"'/path/to/spm.model'\".")
    if vocabulary.eos_id != config.eos_token_id:
        raise EvalSetupError(f"Task {task.name}'s vocabulary has EOS id {vocabulary.eos_id} but the model's "
                             f"eos_token_id is {config.eos_token_id}: pass the checkpoint's vocabulary with "
                             "--gin.VOCAB_PATH=\"'/path/to/spm.model'\".")


def evaluate(
    *,
    checkpoint_path: str,
    mixture_or_task_name: str,
    output_dir: str,
    flores101_dir: str | None = None,
    superglue_jsonl_dir: str | None = None,
    max_eval_examples: int | None = None,
    batch_size: int = 32,
    max_decode_length: int = 64,
    banned_sequences: Sequence[Sequence[int]] | None = None,
    vocab_path: str | None = None,
    eval_split: str | None = None,
    dtype: str | None = None,
    spbleu_model_path: str | None = None,
    bleu_tokenizer: str = "flores101",
    partitioner: Any = None,
    predictor: Predictor | None = None,
) -> dict[str, dict[str, Any]]:
    """Evaluates a checkpoint on every task of `mixture_or_task_name`; returns {task: {metric: value}}.

    `checkpoint_path`: a converted checkpoint directory or a training MODEL_DIR (latest step). Data locations,
    `max_eval_examples` and the BLEU choice go to `tasks.eval_settings`. Decoding is greedy, at most
    `max_decode_length` tokens, never emitting `banned_sequences` (official vocabulary:
    `OFFICIAL_BANNED_SEQUENCES`). `predictor` replaces the model (e.g. `ReferencePredictor` to check the wiring).
    """
    flores101_dir, superglue_jsonl_dir, spbleu_model_path, vocab_path = (
        None if p is None else str(p) for p in map(paths.resolve_optional, (
            flores101_dir, superglue_jsonl_dir, spbleu_model_path, vocab_path)))
    eval_settings.configure(flores101_dir=flores101_dir, superglue_jsonl_dir=superglue_jsonl_dir,
                            max_eval_examples=max_eval_examples, spbleu_model_path=spbleu_model_path,
                            bleu_tokenizer=bleu_tokenizer)
    checkpoint_dir = run_dir.find_checkpoint(paths.resolve(checkpoint_path))
    config = run_dir.read_model_config(run_dir.config_dir(checkpoint_dir))
    vocab_path = _checkpoint_vocab(checkpoint_dir, vocab_path)
    use_vocabulary(vocab_path)
    # By name: a mixture holds the Task objects of its creation, maybe registered with another vocabulary.
    tasks = [seqio.get_mixture_or_task(t.name) for t in seqio.get_subtasks(
        registry.get_mixture_or_task(mixture_or_task_name))]
    for task in tasks:
        _check_vocabulary(task, config)
    if any(t.name.startswith("flores101_") for t in tasks) and not os.path.isdir(flores101_dir or ""):
        flores101.read_split("eng", flores101.SHOT_SPLIT)  # raises the layout help (before the spBLEU check)
    splits = {task.name: eval_split_for(task, eval_split) for task in tasks}
    output_dir = str(paths.resolve(output_dir))
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    writer = OutputWriter(output_dir, checkpoint=str(checkpoint_dir), splits=splits)
    step = int(checkpoint_dir.name) if checkpoint_dir.name.isdigit() else None  # a training MODEL_DIR's step
    converter = AlexaTMFeatureConverter(decoder_start_token_id=config.decoder_start_token_id, pack=False,
                                        count_skipped=False)

    # Build every dataset before loading the model: missing data fails in seconds, not after a 20B restore.
    evaluators = []
    for task in tasks:
        try:
            evaluator = seqio.Evaluator(
                mixture_or_task_name=task.name, feature_converter=converter, eval_split=splits[task.name],
                sequence_length=None, num_examples=None if _family_task(task.name) else max_eval_examples,
                logger_cls=(lambda output_dir: writer,), log_dir=output_dir, async_compute_metrics=False,
            )
        except FileNotFoundError as e:
            if "spBLEU" not in str(e):
                raise
            raise EvalSetupError(f"{e} With the eval entry point: --gin.SPBLEU_MODEL_PATH=\"'/path/to/"
                                 f"{eval_metrics.SPBLEU_MODEL_FILE}'\" or --gin.BLEU_TOKENIZER=\"'13a'\".") from e
        if evaluator.eval_tasks:
            evaluators.append((task, evaluator))
        else:
            log.warning("Task %s has no metric or no %r split: skipped.", task.name, splits[task.name])
    if not evaluators:
        raise EvalSetupError(f"Nothing to evaluate in {mixture_or_task_name!r}: its tasks have no metric fns.")

    if predictor is None:
        from alexatm_jax.api import load

        log.info("Loading %s", checkpoint_dir)
        lm = load(checkpoint_dir, dtype=dtype, partitioner=partitioner, vocab_path=vocab_path or DEFAULT_SPM_PATH)
        predictor = ModelPredictor(lm, max_decode_length=max_decode_length, banned_sequences=banned_sequences,
                                   batch_size=batch_size)
    for task, evaluator in evaluators:
        start = time.perf_counter()
        clm_id = getattr(task.output_features["inputs"].vocabulary, "clm_id", None)
        keep_first = [] if clm_id is None else [clm_id]
        common = dict(max_input_length=config.max_position_embeddings, keep_first=keep_first, task_name=task.name)
        metrics, _ = evaluator.evaluate(
            compute_metrics=True, step=step,
            predict_fn=make_predict_fn(predictor, eos_id=config.eos_token_id, pad_id=config.pad_token_id,
                                       **common),
            score_fn=make_score_fn(predictor, **common),
        )
        metrics.result()
        log.info("%s (%s, %d examples, %.1f s): %s", task.name, splits[task.name],
                 writer.num_examples.get(task.name, 0), time.perf_counter() - start, writer.results.get(task.name))
        evaluator.close()
    write_summary(output_dir, writer.results, writer.num_examples, checkpoint=str(checkpoint_dir))
    return writer.results
