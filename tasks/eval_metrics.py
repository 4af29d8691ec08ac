"""Evaluation metrics (0-100 scale) for Flores-101, XSum and SuperGLUE, as seqio metric fns.

Predict metrics take `(targets, predictions)` (strings after the task's postprocessor); score
metrics take `(targets, scores)` with `targets` the `CandidateTarget`s of `tasks.rank_classification`.

spBLEU is BLEU over text split by the Flores-101 SentencePiece model (sacrebleu's `flores101`
tokenizer). sacrebleu downloads that model on first use, which fails offline, so we encode with a
local copy (`SPBLEU_MODEL_PATH`, `tasks.eval_settings.set_spbleu_model_path`, or sacrebleu's own cache
`$SACREBLEU/models/sacrebleu_tokenizer_spm.model`) and score with `tokenize="none"`: the same
numbers. `set_bleu_tokenizer("13a")` opts into plain BLEU, reported as `bleu_13a_NOT_spBLEU`.
"""

from __future__ import annotations

import collections
import functools
import os
import re
import string
from collections.abc import Sequence

import numpy as np

from tasks.eval_settings import SETTINGS
from tasks.rank_classification import CandidateTarget, RankedExample, group_candidates

SPBLEU_MODEL_URL = "https://dl.fbaipublicfiles.com/fairseq/models/flores/sacrebleu_tokenizer_spm.model"
SPBLEU_MODEL_FILE = "sacrebleu_tokenizer_spm.model"
SPBLEU_ENV_VAR = "SPBLEU_MODEL_PATH"


# ----------------------------------------------------------------------------- translation


def _sacrebleu_cache_model() -> str:
    root = os.environ.get("SACREBLEU", os.path.join(os.path.expanduser("~"), ".sacrebleu"))
    return os.path.join(root, "models", SPBLEU_MODEL_FILE)


def spbleu_model_path() -> str:
    """Path of the local Flores-101 SentencePiece model; raises with where to put it when absent."""
    candidates = [SETTINGS.spbleu_model_path, os.environ.get(SPBLEU_ENV_VAR), _sacrebleu_cache_model()]
    for path in candidates:
        if path and os.path.isfile(path):
            return path
    raise FileNotFoundError(
        "spBLEU needs the Flores-101 SentencePiece model and cannot download it offline. Fetch "
        f"{SPBLEU_MODEL_URL} and put it at {_sacrebleu_cache_model()} (sacrebleu's cache, "
        f"$SACREBLEU/models/{SPBLEU_MODEL_FILE}), or set {SPBLEU_ENV_VAR}=/path/to/{SPBLEU_MODEL_FILE}, or "
        "call tasks.eval_settings.set_spbleu_model_path(path). To score without it, opt into BLEU "
        "with another tokenizer (set_bleu_tokenizer('13a')), reported as bleu_13a_NOT_spBLEU "
        "and not comparable to published spBLEU."
        + (f" (looked at: {[p for p in candidates if p]})" if any(candidates) else "")
    )


@functools.lru_cache(maxsize=4)
def _sentencepiece(path: str):
    import sentencepiece as spm

    return spm.SentencePieceProcessor(model_file=path)


def spm_tokenize(lines: Sequence[str], model_path: str) -> list[str]:
    """Lines split into SentencePiece pieces joined by spaces, as sacrebleu's `flores101` does."""
    sp = _sentencepiece(model_path)
    return [" ".join(sp.encode(line, out_type=str)) for line in lines]


def spbleu(targets: Sequence[str], predictions: Sequence[str], model_path: str | None = None) -> float:
    """Corpus spBLEU (BLEU over Flores-101 SentencePiece pieces)."""
    import sacrebleu

    path = model_path or spbleu_model_path()
    hyps = spm_tokenize(predictions, path)
    refs = spm_tokenize(targets, path)
    return float(sacrebleu.corpus_bleu(hyps, [refs], tokenize="none").score)


def chrf_pp(targets: Sequence[str], predictions: Sequence[str]) -> float:
    """Corpus chrF++ (character 6-grams + word bigrams)."""
    import sacrebleu

    return float(sacrebleu.corpus_chrf(list(predictions), [list(targets)], word_order=2).score)


def bleu_metric_name(tokenizer: str) -> str:
    """`spbleu` for the Flores-101 tokenizer, else e.g. `bleu_13a_NOT_spBLEU`."""
    return "spbleu" if tokenizer in ("flores101", "spm") else f"bleu_{tokenizer}_NOT_spBLEU"


def translation_metrics(targets: Sequence[str], predictions: Sequence[str]) -> dict[str, float]:
    """spBLEU (or the opted-into BLEU, named accordingly) and chrF++."""
    import sacrebleu

    tokenizer = SETTINGS.bleu_tokenizer
    if tokenizer in ("flores101", "spm"):
        bleu = spbleu(targets, predictions)
    else:
        bleu = float(sacrebleu.corpus_bleu(list(predictions), [list(targets)], tokenize=tokenizer).score)
    return {bleu_metric_name(tokenizer): bleu, "chrf++": chrf_pp(targets, predictions)}


# ----------------------------------------------------------------------------- summarisation

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")


def rouge_metrics(targets: Sequence[str], predictions: Sequence[str]) -> dict[str, float]:
    """Mean ROUGE-1/2/L F-measure with Porter stemming (rouge-score), 0-100."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    totals = collections.Counter()
    for target, prediction in zip(targets, predictions):
        for name, score in scorer.score(target, prediction).items():
            totals[name] += score.fmeasure
    n = max(len(targets), 1)
    return {name: 100.0 * totals[name] / n for name in ROUGE_TYPES}


# ----------------------------------------------------------------------------- classification math


def accuracy(golds: Sequence, predictions: Sequence) -> float:
    """Percentage of exact matches."""
    if not golds:
        return 0.0
    return 100.0 * float(np.mean([g == p for g, p in zip(golds, predictions)]))


def f1_binary(golds: Sequence[int], predictions: Sequence[int], positive: int = 1) -> float:
    """F1 of the positive class (0 when it is never predicted nor gold)."""
    tp = sum(g == positive and p == positive for g, p in zip(golds, predictions))
    fp = sum(g != positive and p == positive for g, p in zip(golds, predictions))
    fn = sum(g == positive and p != positive for g, p in zip(golds, predictions))
    return 100.0 * (2 * tp / (2 * tp + fp + fn) if tp else 0.0)


def macro_f1(golds: Sequence[int], predictions: Sequence[int]) -> float:
    """Mean per-class F1 over the classes seen in golds or predictions (sklearn's `average='macro'`)."""
    labels = sorted(set(golds) | set(predictions))
    if not labels:
        return 0.0
    return float(np.mean([f1_binary(golds, predictions, positive=c) for c in labels]))


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def token_f1(gold: str, prediction: str) -> float:
    """SQuAD token-level F1 (0-1) of normalised strings."""
    gold_tokens, pred_tokens = normalize_answer(gold).split(), normalize_answer(prediction).split()
    common = collections.Counter(gold_tokens) & collections.Counter(pred_tokens)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(pred_tokens), overlap / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def max_over_golds(metric, golds: Sequence[str], prediction: str) -> float:
    """Best value of `metric(gold, prediction)` over the gold answers (0 without golds)."""
    return max((metric(g, prediction) for g in golds), default=0.0)


def exact_match(gold: str, prediction: str) -> float:
    return float(normalize_answer(gold) == normalize_answer(prediction))


# ----------------------------------------------------------------------------- SuperGLUE score metrics


def _ranked(targets: Sequence[CandidateTarget], scores: Sequence[float]) -> list[RankedExample]:
    return group_candidates(targets, scores, normalization=SETTINGS.score_normalization)


def _gold(example: RankedExample) -> int:
    return example.correct[0] if example.correct else -1


def rank_accuracy(targets: Sequence[CandidateTarget], scores: Sequence[float]) -> dict[str, float]:
    """Accuracy of rank classification (BoolQ, COPA, RTE, WiC, WSC)."""
    ranked = _ranked(targets, scores)
    return {"accuracy": accuracy([True] * len(ranked), [r.is_right for r in ranked])}


def cb_metrics(targets: Sequence[CandidateTarget], scores: Sequence[float]) -> dict[str, float]:
    """CB: accuracy and macro-F1 over entailment / contradiction / neutral."""
    ranked = _ranked(targets, scores)
    golds, preds = [_gold(r) for r in ranked], [r.predicted for r in ranked]
    return {"accuracy": accuracy(golds, preds), "macro_f1": macro_f1(golds, preds)}


def multirc_metrics(targets: Sequence[CandidateTarget], scores: Sequence[float]) -> dict[str, float]:
    """MultiRC: F1a over all answer options (candidate 1 = correct) and exact match per question."""
    ranked = _ranked(targets, scores)
    golds, preds = [_gold(r) for r in ranked], [r.predicted for r in ranked]
    per_question: dict[int, list[bool]] = collections.defaultdict(list)
    for r, g, p in zip(ranked, golds, preds):
        per_question[r.group_idx].append(g == p)
    em = 100.0 * float(np.mean([all(v) for v in per_question.values()])) if per_question else 0.0
    return {"f1a": f1_binary(golds, preds, positive=1), "exact_match": em}


def record_metrics(targets: Sequence[CandidateTarget], scores: Sequence[float]) -> dict[str, float]:
    """ReCoRD: token F1 and exact match of the chosen entity, max over gold answers, mean over queries."""
    ranked = _ranked(targets, scores)
    if not ranked:
        return {"f1": 0.0, "exact_match": 0.0}
    f1 = [max_over_golds(token_f1, r.answers, r.predicted_text) for r in ranked]
    em = [max_over_golds(exact_match, r.answers, r.predicted_text) for r in ranked]
    return {"f1": 100.0 * float(np.mean(f1)), "exact_match": 100.0 * float(np.mean(em))}
