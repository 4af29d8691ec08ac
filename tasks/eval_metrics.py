"""Evaluation metrics (0-100 scale) for Flores-101, XSum, MLSum, SQuAD v2 and SuperGLUE, as seqio metric fns.

Predict metrics take `(targets, predictions)` (strings after the task's postprocessor); score
metrics take `(targets, scores)` with `targets` the `CandidateTarget`s of `tasks.rank_classification`.
Choices (BLEU tokenizer, spBLEU model, score aggregation) are arguments: the task modules bind them from the
run's `EvalSettings` with `functools.partial`.

spBLEU is BLEU over text split by the Flores-101 SentencePiece model (sacrebleu's `flores101`
tokenizer). sacrebleu downloads that model on first use, which fails offline, so we encode with a
local copy (SPBLEU_MODEL_PATH, the environment variable of that name, or sacrebleu's own cache
`$SACREBLEU/models/sacrebleu_tokenizer_spm.model`) and score with `tokenize="none"`: the same
numbers. `bleu_tokenizer="13a"` opts into plain BLEU, reported as `bleu_13a_NOT_spBLEU`.
"""

from __future__ import annotations

import collections
import functools
import os
import re
import string
from collections.abc import Sequence

import numpy as np

from tasks.rank_classification import CandidateTarget, RankedExample, group_candidates

SPBLEU_MODEL_URL = "https://dl.fbaipublicfiles.com/fairseq/models/flores/sacrebleu_tokenizer_spm.model"
SPBLEU_MODEL_FILE = "sacrebleu_tokenizer_spm.model"
SPBLEU_ENV_VAR = "SPBLEU_MODEL_PATH"


# ----------------------------------------------------------------------------- translation


def _sacrebleu_cache_model() -> str:
    root = os.environ.get("SACREBLEU", os.path.join(os.path.expanduser("~"), ".sacrebleu"))
    return os.path.join(root, "models", SPBLEU_MODEL_FILE)


def spbleu_model_path(configured: str | None = None) -> str:
    """Path of the local Flores-101 SentencePiece model (`configured`, then the environment variable, then
    sacrebleu's cache); raises with where to put it when absent."""
    candidates = [configured, os.environ.get(SPBLEU_ENV_VAR), _sacrebleu_cache_model()]
    for path in candidates:
        if path and os.path.isfile(path):
            try:  # a damaged or wrong file fails here, when the eval checks its data, not after all the decoding
                _sentencepiece(path)
            except RuntimeError as e:
                raise ValueError(f"The spBLEU model {path} is not a SentencePiece model ({e}): fetch "
                                 f"{SPBLEU_MODEL_URL} again.") from None
            return path
    raise FileNotFoundError(
        "spBLEU needs the Flores-101 SentencePiece model and cannot download it offline. Fetch "
        f"{SPBLEU_MODEL_URL} and put it at {_sacrebleu_cache_model()} (sacrebleu's cache, "
        f"$SACREBLEU/models/{SPBLEU_MODEL_FILE}), or set {SPBLEU_ENV_VAR}=/path/to/{SPBLEU_MODEL_FILE}, or "
        f"pass --gin.SPBLEU_MODEL_PATH=\"'/path/to/{SPBLEU_MODEL_FILE}'\" to the eval entry point. To score "
        "without it, opt into BLEU with another tokenizer (--gin.BLEU_TOKENIZER=\"'13a'\"), reported as "
        "bleu_13a_NOT_spBLEU and not comparable to published spBLEU."
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


def translation_metrics(targets: Sequence[str], predictions: Sequence[str], *, bleu_tokenizer: str = "flores101",
                        spbleu_model: str | None = None) -> dict[str, float]:
    """spBLEU (or the BLEU of `bleu_tokenizer`, named accordingly) and chrF++."""
    import sacrebleu

    tokenizer = bleu_tokenizer
    if tokenizer in ("flores101", "spm"):
        bleu = spbleu(targets, predictions, spbleu_model_path(spbleu_model))
    else:
        bleu = float(sacrebleu.corpus_bleu(list(predictions), [list(targets)], tokenize=tokenizer).score)
    return {bleu_metric_name(tokenizer): bleu, "chrf++": chrf_pp(targets, predictions)}


# ----------------------------------------------------------------------------- summarisation

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
# Snowball stemmers (nltk, a dependency of rouge-score) for the MLSum languages.
SNOWBALL_LANGUAGES = {"de": "german", "es": "spanish", "fr": "french"}
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019\u00bb)\]]*\s+")


class UnicodeTokenizer:
    """A rouge-score tokenizer for languages beyond English: lower-cased Unicode words, optionally stemmed.

    rouge-score's default tokenizer keeps only [a-z0-9] and so drops every accented letter ("für" -> "f r");
    this one keeps letters of any script (`\\w` in Python's Unicode regex) and stems words longer than 3
    characters with the language's Snowball stemmer, as the default one does with Porter's.
    """

    def __init__(self, language: str | None = None):
        self.language = language
        self._stemmer = None
        if language is not None:
            from nltk.stem.snowball import SnowballStemmer

            self._stemmer = SnowballStemmer(SNOWBALL_LANGUAGES[language])

    def tokenize(self, text: str) -> list[str]:
        words = re.findall(r"\w+", text.lower())
        if self._stemmer is None:
            return words
        return [self._stemmer.stem(w) if len(w) > 3 else w for w in words]


def sentences_per_line(text: str) -> str:
    """One sentence per line (what ROUGE-Lsum compares), split after `.`, `!` or `?` and closing quotes."""
    return "\n".join(part.strip() for part in _SENTENCE_END.split(text.strip()) if part.strip())


def rouge_metrics(targets: Sequence[str], predictions: Sequence[str], *, language: str = "en") -> dict[str, float]:
    """Mean ROUGE-1/2/L/Lsum F-measure (rouge-score), 0-100.

    English: rouge-score's own tokenizer with Porter stemming (as published XSum numbers are computed); other
    languages: `UnicodeTokenizer` with the language's Snowball stemmer. ROUGE-Lsum reads one sentence per line.
    """
    from rouge_score import rouge_scorer

    if language == "en":
        scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    else:
        scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), tokenizer=UnicodeTokenizer(language))
    totals = collections.Counter()
    for target, prediction in zip(targets, predictions):
        for name, score in scorer.score(sentences_per_line(target), sentences_per_line(prediction)).items():
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


def _overlap_f1(gold_tokens: Sequence[str], pred_tokens: Sequence[str]) -> float:
    """F1 (0-1) of the bag-of-tokens overlap."""
    common = collections.Counter(gold_tokens) & collections.Counter(pred_tokens)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(pred_tokens), overlap / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def token_f1(gold: str, prediction: str) -> float:
    """SQuAD token-level F1 (0-1) of normalised strings (an empty side scores 0: ReCoRD's rule)."""
    return _overlap_f1(normalize_answer(gold).split(), normalize_answer(prediction).split())


def max_over_golds(metric, golds: Sequence[str], prediction: str) -> float:
    """Best value of `metric(gold, prediction)` over the gold answers (0 without golds)."""
    return max((metric(g, prediction) for g in golds), default=0.0)


def exact_match(gold: str, prediction: str) -> float:
    return float(normalize_answer(gold) == normalize_answer(prediction))


# ----------------------------------------------------------------------------- SuperGLUE score metrics


def _ranked(targets: Sequence[CandidateTarget], scores: Sequence[float], aggregation: str) -> list[RankedExample]:
    return group_candidates(targets, scores, normalization=aggregation)


def _gold(example: RankedExample) -> int:
    return example.correct[0] if example.correct else -1


def rank_accuracy(targets: Sequence[CandidateTarget], scores: Sequence[float], *,
                  aggregation: str = "sum") -> dict[str, float]:
    """Accuracy of rank classification (BoolQ, COPA, RTE, WiC, WSC)."""
    ranked = _ranked(targets, scores, aggregation)
    return {"accuracy": accuracy([True] * len(ranked), [r.is_right for r in ranked])}


def cb_metrics(targets: Sequence[CandidateTarget], scores: Sequence[float], *,
               aggregation: str = "sum") -> dict[str, float]:
    """CB: accuracy and macro-F1 over entailment / contradiction / neutral."""
    ranked = _ranked(targets, scores, aggregation)
    golds, preds = [_gold(r) for r in ranked], [r.predicted for r in ranked]
    return {"accuracy": accuracy(golds, preds), "macro_f1": macro_f1(golds, preds)}


def multirc_metrics(targets: Sequence[CandidateTarget], scores: Sequence[float], *,
                    aggregation: str = "sum") -> dict[str, float]:
    """MultiRC: F1a over all answer options (candidate 1 = correct) and exact match per question."""
    ranked = _ranked(targets, scores, aggregation)
    golds, preds = [_gold(r) for r in ranked], [r.predicted for r in ranked]
    per_question: dict[int, list[bool]] = collections.defaultdict(list)
    for r, g, p in zip(ranked, golds, preds):
        per_question[r.group_idx].append(g == p)
    em = 100.0 * float(np.mean([all(v) for v in per_question.values()])) if per_question else 0.0
    return {"f1a": f1_binary(golds, preds, positive=1), "exact_match": em}


def record_metrics(targets: Sequence[CandidateTarget], scores: Sequence[float], *,
                   aggregation: str = "sum") -> dict[str, float]:
    """ReCoRD: token F1 and exact match of the chosen entity, max over gold answers, mean over queries."""
    ranked = _ranked(targets, scores, aggregation)
    if not ranked:
        return {"f1": 0.0, "exact_match": 0.0}
    f1 = [max_over_golds(token_f1, r.answers, r.predicted_text) for r in ranked]
    em = [max_over_golds(exact_match, r.answers, r.predicted_text) for r in ranked]
    return {"f1": 100.0 * float(np.mean(f1)), "exact_match": 100.0 * float(np.mean(em))}


# ----------------------------------------------------------------------------- SQuAD v2


def squad_f1(gold: str, prediction: str) -> float:
    """`compute_f1` of the official SQuAD v2 script: an empty side scores 1 only when both are empty."""
    gold_tokens, pred_tokens = normalize_answer(gold).split(), normalize_answer(prediction).split()
    if not gold_tokens or not pred_tokens:
        return float(gold_tokens == pred_tokens)
    return _overlap_f1(gold_tokens, pred_tokens)


def squad_v2_metrics(targets: Sequence[Sequence[str]], predictions: Sequence[str]) -> dict[str, float]:
    """The official SQuAD v2 metric (`evaluate-v2.0.py` of the SQuAD site), 0-100.

    `targets`: the gold answer texts of each question (empty for an unanswerable one); `predictions`: the answer
    text, "" meaning "no answer". As the official script: gold answers that normalise to nothing are dropped and
    a question without gold answers has the single gold "" (so only an empty prediction scores); exact match and
    F1 are the maximum over the golds, averaged over all questions (`exact`, `f1`), over the answerable ones
    (`HasAns_exact`, `HasAns_f1`) and the unanswerable ones (`NoAns_exact`, `NoAns_f1`), with their counts. No
    no-answer probability thresholding: greedy generation gives none (the script's default threshold 1.0 with
    all probabilities 0 is the same thing).
    """
    if len(targets) != len(predictions):
        raise ValueError(f"{len(targets)} questions but {len(predictions)} predictions")
    exact, f1, has_answer = [], [], []
    for golds, prediction in zip(targets, predictions):
        golds = [g for g in golds if normalize_answer(g)] or [""]
        has_answer.append(golds != [""])
        exact.append(max(exact_match(g, prediction) for g in golds))  # `compute_exact`
        f1.append(max(squad_f1(g, prediction) for g in golds))

    def mean(values: list[float], keep: list[bool]) -> float:
        chosen = [v for v, k in zip(values, keep) if k]
        return 100.0 * float(np.mean(chosen)) if chosen else 0.0

    everything, no_answer = [True] * len(exact), [not h for h in has_answer]
    out = {"exact": mean(exact, everything), "f1": mean(f1, everything), "total": float(len(exact))}
    if any(has_answer):
        out.update(HasAns_exact=mean(exact, has_answer), HasAns_f1=mean(f1, has_answer),
                   HasAns_total=float(sum(has_answer)))
    if any(no_answer):
        out.update(NoAns_exact=mean(exact, no_answer), NoAns_f1=mean(f1, no_answer),
                   NoAns_total=float(sum(no_answer)))
    return out
