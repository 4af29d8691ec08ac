"""What a pretraining task or mixture feeds the model, measured from its examples (for plots and checks).

* `objective_statistics`: per example, which objective; per denoising example, the dropped-token fraction and
  the dropped spans' lengths; per CLM example, the prefix fraction.
* `clipped_poisson_pmf`: the span-length distribution `preprocessors.drop_span_mask` draws from.
* `marked_denoising_text`: a denoising example to read, the dropped spans marked in the original text.
* `language_shares`: each language's share of a registered mixture's rate, per corpus (the alpha sampling).
* `packing_efficiency`: the share of real (non-padding) positions in model batches, packed and padded.

Denoising inputs carry no mask tokens (the input is the target with spans removed), so the dropped positions
are recovered by aligning the input inside the target with the fewest spans. The dropped count is exact; the
spans are exact unless repeated tokens let fewer spans explain the input (documents of distinct tokens are exact).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import seqio

from tasks import preprocessors as prep
from tasks.feature_converters import AlexaTMFeatureConverter
from tasks.pretraining import CORPORA, LANGUAGES, OBJECTIVES, task_name
from tasks.registry import get_mixture_or_task


def dropped_positions(inputs: Sequence[int], targets: Sequence[int]) -> np.ndarray:
    """Boolean mask over `targets`, True on the dropped tokens, for inputs = targets with spans removed.

    Of all ways to remove tokens from `targets` that leave `inputs`, the one with the fewest spans (dynamic
    programming over (target position, inputs matched), vectorised over the inputs): the sampled spans never
    touch, so fewer spans than sampled needs a coincidence of repeated tokens. Written here because no library
    aligns a subsequence this way. Raises ValueError when `inputs` is not a subsequence of `targets`.
    """
    inputs, targets = np.asarray(inputs), np.asarray(targets)
    n, m = len(targets), len(inputs)
    big = n + 1  # more spans than any alignment has
    kept = np.full(m + 1, big)  # kept[i]: fewest spans so far with i inputs matched, last target token kept
    dropped = np.full(m + 1, big)  # the same, last target token dropped
    kept[0] = 0
    kept_from_dropped = np.zeros((n, m + 1), bool)  # backtracking: which state each step came from
    dropped_from_kept = np.zeros((n, m + 1), bool)
    for j in range(n):
        match = np.concatenate([[False], inputs == targets[j]])  # match[i + 1]: input i equals target j
        before = np.concatenate([[big], np.minimum(kept, dropped)[:-1]])
        kept_from_dropped[j] = np.concatenate([[False], dropped[:-1] < kept[:-1]])
        new_kept = np.where(match, before, big)
        dropped_from_kept[j] = kept + 1 < dropped
        dropped = np.minimum(dropped, kept + 1)
        kept = new_kept
    if min(kept[m], dropped[m]) >= big:
        raise ValueError("The inputs are not the targets with spans removed: not a denoising example.")
    mask = np.zeros(n, bool)
    in_kept, i = bool(kept[m] <= dropped[m]), m
    for j in range(n - 1, -1, -1):
        if in_kept:
            in_kept, i = not kept_from_dropped[j, i], i - 1
        else:
            mask[j] = True
            in_kept = bool(dropped_from_kept[j, i])
    return mask


def span_lengths(mask: np.ndarray) -> np.ndarray:
    """Lengths of the runs of True in a boolean array, in order."""
    edges = np.diff(np.concatenate([[0], np.asarray(mask, np.int8), [0]]))
    return np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)


def clipped_poisson_pmf(mean: float, max_length: int) -> np.ndarray:
    """P(length = k) for k = 0..max_length of Poisson(mean) draws clipped to >= 1 (zeros become 1).

    The distribution of the spans `drop_span_mask` draws (its last span per sequence is cut to hit the exact
    dropped count, which makes measured spans slightly shorter).
    """
    pmf = np.array([math.exp(-mean) * mean**k / math.factorial(k) for k in range(max_length + 1)])
    pmf[1] += pmf[0]
    pmf[0] = 0.0
    return pmf


def marked_denoising_text(inputs: Sequence[int], targets: Sequence[int], vocabulary: seqio.SentencePieceVocabulary,
                          *, marks: tuple[str, str] = ("[[", "]]")) -> str:
    """The target text with the spans the input lacks between `marks`, e.g. "wake me [[up at]] seven".

    Pieces are joined as SentencePiece writes them ("▁" = a space), so a span starting mid-word stays visible.
    """
    inputs = _without_eos(np.asarray(inputs), vocabulary.eos_id)
    targets = _without_eos(np.asarray(targets), vocabulary.eos_id)
    mask = dropped_positions(inputs, targets)
    pieces, inside = [], False
    for token, dropped in zip(targets, mask):
        text = vocabulary.tokenizer.id_to_piece(int(token)).replace("\u2581", " ")
        if dropped and not inside:
            space = " " if text.startswith(" ") else ""  # a word's leading space stays outside the marks
            pieces.append(space + marks[0])
            text = text[len(space):]
        elif inside and not dropped:
            pieces.append(marks[1])
        inside = bool(dropped)
        pieces.append(text)
    if inside:
        pieces.append(marks[1])
    return "".join(pieces).strip()


@dataclasses.dataclass(frozen=True)
class ObjectiveStatistics:
    """Measurements over `num_examples` examples of a task or mixture (arrays for histograms)."""

    objectives: np.ndarray  # per example: 0 denoise, 1 CLM, -1 other
    dropped_fraction: np.ndarray  # per denoising example: dropped tokens / target tokens (EOS excluded)
    span_lengths: np.ndarray  # every dropped span of every denoising example
    prefix_fraction: np.ndarray  # per CLM example: prefix tokens / document tokens
    denoise_lengths: np.ndarray  # per denoising example: target tokens (the packed sequence, EOS excluded)

    def objective_shares(self) -> dict[str, float]:
        """The share of examples per objective name ("denoise", "clm", "other")."""
        names = {v: k for k, v in prep.OBJECTIVE_IDS.items()}
        values, counts = np.unique(self.objectives, return_counts=True)
        return {names.get(int(v), "other"): float(c) / len(self.objectives) for v, c in zip(values, counts)}


def _without_eos(tokens: np.ndarray, eos_id: int) -> np.ndarray:
    return tokens[:-1] if len(tokens) and tokens[-1] == eos_id else tokens


def objective_statistics(name: str, *, sequence_length: Mapping[str, int], num_examples: int = 1000,
                         split: str = "train", seed: int = 0) -> ObjectiveStatistics:
    """Statistics of `num_examples` shuffled examples of task or mixture `name` (its module imported first).

    `sequence_length` as the training run gives it (`TASK_FEATURE_LENGTHS`); the objectives cut documents to fit,
    so examples are measured whole.
    """
    if num_examples < 1:
        raise ValueError(f"num_examples={num_examples} must be >= 1.")
    provider = get_mixture_or_task(name)
    vocabulary = provider.output_features["inputs"].vocabulary
    dataset = provider.get_dataset(dict(sequence_length), split=split, shuffle=True, seed=seed, num_epochs=None)
    objectives, fractions, spans, prefixes, lengths = [], [], [], [], []
    for example in dataset.take(num_examples).as_numpy_iterator():
        objective = int(example.get("objective", prep.OBJECTIVE_OTHER))
        objectives.append(objective)
        inputs = _without_eos(example["inputs"], vocabulary.eos_id)
        targets = _without_eos(example["targets"], vocabulary.eos_id)
        if objective == prep.OBJECTIVE_IDS["denoise"]:
            mask = dropped_positions(inputs, targets)
            fractions.append(mask.mean() if len(mask) else 0.0)
            spans.extend(span_lengths(mask))
            lengths.append(len(targets))
        elif objective == prep.OBJECTIVE_IDS["clm"]:
            prefix = len(inputs) - (1 if len(inputs) and inputs[0] == vocabulary.clm_id else 0)
            prefixes.append(prefix / max(prefix + len(targets), 1))
    return ObjectiveStatistics(np.array(objectives, np.int32), np.array(fractions), np.array(spans, np.int32),
                               np.array(prefixes), np.array(lengths, np.int32))


def language_shares(mixture_name: str) -> dict[str, dict[str, float]]:
    """{corpus: {language: share}}: each language's part of the rate the mixture gives that corpus.

    For mixtures of the pretraining tasks (`alexatm_{corpus}_{language}_{objective}`); shares per corpus sum to 1.
    """
    mixture = get_mixture_or_task(mixture_name)
    if not isinstance(mixture, seqio.Mixture):
        raise ValueError(f"{mixture_name!r} is a task, not a mixture: give a mixture of the pretraining tasks.")
    known = {task_name(c, lang, o): (c, lang) for c in CORPORA for lang in LANGUAGES for o in OBJECTIVES}
    rates: dict[str, dict[str, float]] = {}
    for task in mixture.tasks:
        if task.name not in known:
            raise ValueError(f"Task {task.name!r} of {mixture_name!r} is not a pretraining task "
                             "(alexatm_{corpus}_{language}_{objective}): no language to attribute its rate to.")
        corpus, language = known[task.name]
        by_language = rates.setdefault(corpus, {})
        by_language[language] = by_language.get(language, 0.0) + mixture.get_rate(task)
    return {corpus: {lang: r / sum(by.values()) for lang, r in by.items()} for corpus, by in rates.items()}


def packing_efficiency(name: str, *, sequence_length: Mapping[str, int], num_batches: int = 8,
                       batch_size: int = 16, split: str = "train", seed: int = 0) -> dict[str, dict[str, float]]:
    """{"packed" | "padded": {"encoder", "decoder": share of real positions, "examples_per_row"}} of model batches.

    The batches are what training feeds the model (`AlexaTMFeatureConverter`), with and without packing.
    """
    out = {}
    for label, pack in (("packed", True), ("padded", False)):
        converter = AlexaTMFeatureConverter(decoder_start_token_id=0, pack=pack, count_skipped=False)
        dataset = seqio.get_dataset(name, dict(sequence_length), converter, dataset_split=split, shuffle=True,
                                    num_epochs=None, seed=seed, batch_size=batch_size, verbose=False)
        real: dict[str, list[float]] = {"encoder": [], "decoder": []}
        segments = []
        for batch in dataset.take(num_batches).as_numpy_iterator():
            for side in real:
                real[side].append(float(np.mean(batch[f"{side}_segment_ids"] > 0)))
            segments.append(float(np.mean(batch["decoder_segment_ids"].max(axis=1))))
        out[label] = {side: float(np.mean(v)) for side, v in real.items()}
        out[label]["examples_per_row"] = float(np.mean(segments))
    return out


def summary(stats: ObjectiveStatistics) -> dict[str, Any]:
    """The headline numbers of `objective_statistics` (shares, means), for a table next to the plots."""
    return {
        "examples": len(stats.objectives),
        **{f"share_{k}": v for k, v in stats.objective_shares().items()},
        "dropped_fraction_mean": float(stats.dropped_fraction.mean()) if stats.dropped_fraction.size else None,
        "span_length_mean": float(stats.span_lengths.mean()) if stats.span_lengths.size else None,
        "prefix_fraction_mean": float(stats.prefix_fraction.mean()) if stats.prefix_fraction.size else None,
    }
