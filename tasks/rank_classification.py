"""Rank classification: score every candidate answer, the most likely one wins (seqio has no helper).

Data side: a source yields one example per question,
    {"inputs": str, "candidates": [str], "is_correct": [bool], "idx": int32, "group_idx": int32,
     "answers": [str], optional "candidate_answers": [str]}
and `rank_classification` turns it into one example per candidate,
    {"inputs", "targets" (= the candidate), "idx", "candidate_idx", "group_idx", "is_correct", "answers",
     "candidate_answer"}.
`idx` numbers the questions of a task, `group_idx` groups questions for per-group metrics (MultiRC:
the answer options of one question; ReCoRD: a query; otherwise = idx), `answers` holds free-text
golds and `candidate_answer` the answer a candidate stands for (ReCoRD: the entity, whereas the
target is the entity plus the rest of the query; default: the candidate itself).

Metric side (seqio score metrics): the task's `postprocess_fn` is `rank_classification_target`, so a
score metric fn `fn(targets, scores)` receives one `CandidateTarget` per candidate and the scores the
evaluator's score fn returned for them (same order); `group_candidates` gives one `RankedExample`
per question.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

RANK_FEATURES = ("idx", "candidate_idx", "group_idx", "is_correct", "answers", "candidate_answer")


def rank_classification(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Expands each question into one (inputs, targets=candidate) example per candidate."""

    def expand(ex: Mapping[str, tf.Tensor]) -> tf.data.Dataset:
        n = tf.shape(ex["candidates"])[0]
        return tf.data.Dataset.from_tensor_slices(
            {
                "inputs": tf.fill([n], ex["inputs"]),
                "targets": ex["candidates"],
                "idx": tf.fill([n], tf.cast(ex["idx"], tf.int32)),
                "candidate_idx": tf.range(n, dtype=tf.int32),
                "group_idx": tf.fill([n], tf.cast(ex["group_idx"], tf.int32)),
                "is_correct": tf.cast(ex["is_correct"], tf.bool),
                "answers": tf.tile(ex["answers"][tf.newaxis], [n, 1]),
                "candidate_answer": ex.get("candidate_answers", ex["candidates"]),
            }
        )

    return dataset.flat_map(expand)


@dataclasses.dataclass(frozen=True)
class CandidateTarget:
    """What a score metric fn sees of one candidate."""

    idx: int
    candidate_idx: int
    group_idx: int
    is_correct: bool
    candidate: str  # the answer this candidate stands for (`candidate_answer`)
    answers: tuple[str, ...] = ()
    num_target_tokens: int = 0


@dataclasses.dataclass(frozen=True)
class RankedExample:
    """One question after ranking: the winning candidate and the gold ones."""

    idx: int
    group_idx: int
    predicted: int
    correct: tuple[int, ...]
    candidates: tuple[str, ...]
    answers: tuple[str, ...]
    scores: tuple[float, ...]

    @property
    def is_right(self) -> bool:
        return self.predicted in self.correct

    @property
    def predicted_text(self) -> str:
        return self.candidates[self.predicted]


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def rank_classification_target(
    output_or_target: Any, example: Mapping[str, Any] | None = None, is_target: bool = False
) -> Any:
    """seqio `postprocess_fn`: a target becomes a `CandidateTarget` built from its example's features."""
    if not is_target or example is None:
        return output_or_target
    targets = example.get("targets")
    return CandidateTarget(
        idx=int(example["idx"]),
        candidate_idx=int(example["candidate_idx"]),
        group_idx=int(example["group_idx"]),
        is_correct=bool(example["is_correct"]),
        candidate=_text(example.get("candidate_answer", output_or_target)),
        answers=tuple(_text(a) for a in np.asarray(example.get("answers", ())).reshape(-1)),
        num_target_tokens=int(np.size(targets)) if targets is not None else 0,
    )


def group_candidates(
    targets: Sequence[CandidateTarget], scores: Sequence[float], *, normalization: str = "sum"
) -> list[RankedExample]:
    """Groups candidates by question (`idx`); the highest score wins (first on ties).

    `normalization="mean"` divides each score by its number of target tokens.
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(targets) != len(scores):
        raise ValueError(f"{len(targets)} candidate targets but {len(scores)} scores")
    by_idx: dict[int, list[tuple[CandidateTarget, float]]] = {}
    for target, score in zip(targets, scores):
        if normalization == "mean":
            score = score / max(target.num_target_tokens, 1)
        by_idx.setdefault(target.idx, []).append((target, float(score)))
    ranked = []
    for idx in sorted(by_idx):
        cands = sorted(by_idx[idx], key=lambda ts: ts[0].candidate_idx)
        cand_scores = tuple(s for _, s in cands)
        first = cands[0][0]
        ranked.append(
            RankedExample(
                idx=idx,
                group_idx=first.group_idx,
                predicted=int(np.argmax(cand_scores)),
                correct=tuple(i for i, (t, _) in enumerate(cands) if t.is_correct),
                candidates=tuple(t.candidate for t, _ in cands),
                answers=first.answers,
                scores=cand_scores,
            )
        )
    return ranked
