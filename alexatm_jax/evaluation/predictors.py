"""What the evaluator asks of a model (`Predictor`), the model-backed and reference predictors, and the adapters
that turn them into seqio predict / score functions.

Two seqio 0.0.20 pitfalls are avoided here (docs/STACK.md): the Evaluator calls `np.array` on predictions, which
fails for ragged lists under numpy 2 (predictions are fixed-length rows, padded after EOS); and seqio would cut
the END of inputs longer than its sequence length, i.e. the query (inputs are cut from the LEFT here, `[CLM]`
kept first).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import tensorflow as tf

from alexatm_jax.prompting import truncate_left

log = logging.getLogger("alexatm_jax.evaluation")


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
    """Greedy decoding and teacher-forced scoring with a loaded `Seq2SeqLM` (token ids in, token ids out).

    `max_new_tokens` bounds each continuation; `banned_sequences` (token ids) are never generated.
    """

    def __init__(self, lm: Any, *, max_new_tokens: int = 64, banned_sequences: Sequence[Sequence[int]] | None = None,
                 batch_size: int = 32):
        self.lm = lm
        self.max_new_tokens = max_new_tokens
        self.banned_sequences = [list(s) for s in banned_sequences or ()]
        self.batch_size = batch_size

    def predict(self, examples: Sequence[EvalExample]) -> list[list[int]]:
        inputs = self._full_batches([ex.inputs for ex in examples])
        order = _longest_first(inputs)  # similar lengths share a batch: less padding, fewer shapes
        outputs = self.lm.generate([inputs[i] for i in order], max_new_tokens=self.max_new_tokens, mode=None,
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


def model_examples(dataset: tf.data.Dataset, *, max_input_length: int, prefix: Sequence[int] = (),
                   task_name: str = "") -> list[EvalExample]:
    """The examples of an enumerated model dataset (padding removed; inputs cut from the left to fit)."""
    examples, truncated = [], 0
    for index, ex in dataset.as_numpy_iterator():
        inputs = ex["encoder_input_tokens"][ex["encoder_segment_ids"] > 0].tolist()
        targets = ex["decoder_target_tokens"][ex["decoder_loss_weights"] > 0].tolist()
        if len(inputs) > max_input_length:
            truncated += 1
            inputs = truncate_left(inputs, max_input_length, prefix)
        examples.append(EvalExample(int(index), inputs, targets))
    if truncated:
        log.warning("%s: %d of %d inputs are longer than the model's %d positions; kept their last tokens "
                    "(the query), the CLM prefix %s first.", task_name, truncated, len(examples),
                    max_input_length, list(prefix))
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
                    prefix: Sequence[int] = (), output_length: int = 1, task_name: str = "") -> Callable:
    """A seqio predict fn: enumerated model dataset -> [(index, fixed-length token row)]."""

    def predict_fn(dataset: tf.data.Dataset, model_feature_shapes: Any = None) -> list[tuple[int, np.ndarray]]:
        del model_feature_shapes
        examples = model_examples(dataset, max_input_length=max_input_length, prefix=prefix,
                                  task_name=task_name)
        outputs = predictor.predict(examples)
        rows = fixed_length_rows(outputs, eos_id=eos_id, pad_id=pad_id, min_length=output_length)
        return [(ex.index, row) for ex, row in zip(examples, rows)]

    return predict_fn


def make_score_fn(predictor: Predictor, *, max_input_length: int, prefix: Sequence[int] = (),
                  task_name: str = "") -> Callable:
    """A seqio score fn: enumerated model dataset -> [(index, summed target log-likelihood)]."""

    def score_fn(dataset: tf.data.Dataset, model_feature_shapes: Any = None) -> list[tuple[int, float]]:
        del model_feature_shapes
        examples = model_examples(dataset, max_input_length=max_input_length, prefix=prefix,
                                  task_name=task_name)
        scores = predictor.score(examples)
        return [(ex.index, float(s)) for ex, s in zip(examples, scores)]

    return score_fn
