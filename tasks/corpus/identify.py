"""Which language, and which intent, a piece of generated text most resembles (for the demo's numbers).

Character-trigram naive Bayes over the corpus's own train split: a language profile per language and an
intent profile per (language, intent). Trigrams work for every script, for text without spaces (Japanese) and
for the broken words a small model writes. Standard library only.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Iterable

from tasks.corpus.common import INTENTS, LANGUAGES
from tasks.corpus.generation import intent_pool

# Train sentences per (language, intent) in the profiles: enough to tell the classes apart, fast to build.
SENTENCES_PER_INTENT = 120


def trigrams(text: str) -> list[str]:
    padded = f" {' '.join(text.lower().split())} "
    return [padded[i:i + 3] for i in range(len(padded) - 2)]


class NaiveBayes:
    """Add-one smoothed multinomial naive Bayes over character trigrams."""

    def __init__(self, examples: dict[str, Iterable[str]]):
        self.counts = {label: Counter(g for text in texts for g in trigrams(text)) for label, texts in examples.items()}
        self.totals = {label: sum(c.values()) for label, c in self.counts.items()}
        self.vocab = len(set().union(*self.counts.values())) + 1

    def scores(self, text: str) -> dict[str, float]:
        grams = trigrams(text)
        return {label: sum(math.log((counts[g] + 1) / (self.totals[label] + self.vocab)) for g in grams)
                for label, counts in self.counts.items()}

    def classify(self, text: str) -> str | None:
        """The best label, or None for text without a single character."""
        if not text.strip():
            return None
        scores = self.scores(text)
        return max(scores, key=scores.get)


@functools.cache
def _pool(language: str, intent: str, seed: int) -> tuple[str, ...]:
    return intent_pool(language, intent, seed)["train"][:SENTENCES_PER_INTENT]


@functools.cache
def language_classifier(seed: int = 0) -> NaiveBayes:
    return NaiveBayes({lang: [t for intent in INTENTS for t in _pool(lang, intent, seed)] for lang in LANGUAGES})


@functools.cache
def intent_classifier(language: str, seed: int = 0) -> NaiveBayes:
    return NaiveBayes({intent: _pool(language, intent, seed) for intent in INTENTS})


def identify_language(text: str, seed: int = 0) -> str | None:
    """The corpus language whose train sentences `text` resembles most (None for empty text)."""
    return language_classifier(seed).classify(text)


def identify_intent(text: str, language: str, seed: int = 0) -> str | None:
    """The intent of `language` whose train sentences `text` resembles most (None for empty text)."""
    return intent_classifier(language, seed).classify(text)
