"""Expands the per-language templates into utterances, documents and text files.

Every (language, intent) pool is sampled with its own seeded `random.Random`, so asking for one
language gives exactly the sentences it has in the full corpus. The train/validation split is a
function of the sentence text alone (a CRC32 bucket), so validation sentences never appear in
train, whatever the seeds of the two calls.
"""

from __future__ import annotations

import functools
import importlib
import itertools
import math
import os
import random
import string
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tasks.corpus.common import INTENTS, LANGUAGE_NAMES, LANGUAGES, SHARED_SLOTS

SPLITS: tuple[str, ...] = ("train", "validation")
# Sentences sampled per (language, intent) before the split; about 10% land in validation.
UTTERANCES_PER_INTENT = 300
VALIDATION_PERCENT = 10
DEFAULT_UTTERANCES_PER_DOCUMENT = 6


@dataclass(frozen=True, slots=True)
class Utterance:
    """One voice-assistant request: its language code, intent name and text."""

    language: str
    intent: str
    text: str


@dataclass(frozen=True)
class _Template:
    text: str
    fields: tuple[str, ...]  # slot names in the template, e.g. ("item", "item2")
    values: tuple[tuple[str, ...], ...]  # the values of each field's slot ("item2" uses "item")
    bases: tuple[str, ...]  # the slot each field draws from; one base twice means distinct values
    positional: str  # the text with fields numbered, for a fast str.format(*combo)


def check_choice(kind: str, value: str, choices: Sequence[str]) -> None:
    """Raises ValueError naming the valid choices when `value` is not one of them."""
    if value not in choices:
        raise ValueError(f"unknown {kind} {value!r}: choose one of {', '.join(choices)}")


def check_choices(kind: str, values: Iterable[str] | None, choices: tuple[str, ...]) -> tuple[str, ...]:
    """Validates an optional subset (None means all), keeping the canonical order of `choices`."""
    if values is None:
        return choices
    if isinstance(values, str):
        values = (values,)
    wanted = set(values)
    for value in wanted:
        check_choice(kind, value, choices)
    return tuple(c for c in choices if c in wanted)


def _split_values(values: str | Sequence[str]) -> tuple[str, ...]:
    items = values.split("|") if isinstance(values, str) else values
    return tuple(v.strip() for v in items if v.strip())


@functools.cache
def language_data(language: str) -> dict[str, tuple[_Template, ...]]:
    """Parses `lang_<language>.py` into templates per intent, checking every slot is defined."""
    check_choice("language", language, LANGUAGES)
    module = importlib.import_module(f"{__package__}.lang_{language}")
    slots = {name: _split_values(v) for name, v in {**SHARED_SLOTS, **module.SLOTS}.items()}
    missing = set(INTENTS) - set(module.TEMPLATES)
    if missing:
        raise ValueError(f"lang_{language}.py has no templates for intents {sorted(missing)}")
    parsed = {}
    for intent in INTENTS:
        templates = []
        for text in module.TEMPLATES[intent]:
            fields = tuple(dict.fromkeys(f for _, f, _, _ in string.Formatter().parse(text) if f))
            bases = tuple(f if f in slots else f.rstrip("0123456789") for f in fields)
            unknown = [f for f, b in zip(fields, bases) if b not in slots]
            if unknown:
                raise ValueError(f"lang_{language}.py template {text!r} uses undefined slots {unknown}")
            positional = "".join(
                lit.replace("{", "{{").replace("}", "}}") + ("" if f is None else f"{{{fields.index(f)}}}")
                for lit, f, _, _ in string.Formatter().parse(text)
            )
            templates.append(_Template(text, fields, tuple(slots[b] for b in bases), bases, positional))
        parsed[intent] = tuple(templates)
    return parsed


def _quotas(capacities: list[int], total: int) -> list[int]:
    """Spreads `total` over templates as evenly as their number of distinct fillings allows."""
    quotas = [0] * len(capacities)
    remaining = total
    order = sorted(range(len(capacities)), key=lambda i: capacities[i])
    for k, i in enumerate(order):
        quotas[i] = min(capacities[i], math.ceil(remaining / (len(order) - k)))
        remaining -= quotas[i]
    return quotas


def _decode(index: int, template: _Template) -> tuple[str, ...]:
    """Maps a mixed-radix index to one value per field (the last field varies fastest)."""
    combo = []
    for values in reversed(template.values):
        index, digit = divmod(index, len(values))
        combo.append(values[digit])
    return tuple(reversed(combo))


def _fillings(template: _Template, quota: int, rng: random.Random) -> list[tuple[str, ...]]:
    capacity = math.prod(len(v) for v in template.values)
    if capacity <= quota:
        combos: Iterable[tuple[str, ...]] = itertools.product(*template.values)
    else:
        # A few spare draws replace fillings that repeat a value ("milk and milk").
        draws = rng.sample(range(capacity), min(capacity, quota + quota // 4 + 4))
        combos = (_decode(i, template) for i in draws)
    repeated_base = len(set(template.bases)) < len(template.bases)
    out = []
    for combo in combos:
        if repeated_base and len({(b, v) for b, v in zip(template.bases, combo)}) < len(combo):
            continue  # "{item} and {item2}" must name two different items
        out.append(combo)
        if len(out) == quota:
            break
    return out


def is_validation(text: str) -> bool:
    """The split is a pure function of the text, so the two splits can never share a sentence."""
    return zlib.crc32(text.encode("utf-8")) % 100 < VALIDATION_PERCENT


@functools.cache
def intent_pool(language: str, intent: str, seed: int = 0) -> dict[str, tuple[str, ...]]:
    """Distinct sentences of one (language, intent), keyed by split, in sampling order."""
    templates = language_data(language)[intent]
    rng = random.Random(f"{seed}/{language}/{intent}")
    capacities = [math.prod(len(v) for v in t.values) for t in templates]
    texts: dict[str, None] = {}  # insertion-ordered set
    for template, quota in zip(templates, _quotas(capacities, UTTERANCES_PER_INTENT)):
        fmt = template.positional.format
        texts.update(dict.fromkeys(fmt(*combo) for combo in _fillings(template, quota, rng)))
    pool: dict[str, list[str]] = {split: [] for split in SPLITS}
    for text in texts:
        pool["validation" if is_validation(text) else "train"].append(text)
    return {split: tuple(v) for split, v in pool.items()}


def generate(
    split: str = "train",
    *,
    languages: Iterable[str] | None = None,
    intents: Iterable[str] | None = None,
    seed: int = 0,
) -> list[Utterance]:
    """Utterances of one split, grouped by language (in LANGUAGES order), shuffled within each.

    The same seed always gives the same list; a different seed samples other slot fillings.
    """
    check_choice("split", split, SPLITS)
    languages = check_choices("language", languages, LANGUAGES)
    intents = check_choices("intent", intents, INTENTS)
    out: list[Utterance] = []
    for language in languages:
        items = [
            Utterance(language, intent, text)
            for intent in intents
            for text in intent_pool(language, intent, seed)[split]
        ]
        random.Random(f"{seed}/{language}/order").shuffle(items)
        out.extend(items)
    return out


def documents(
    split: str = "train",
    *,
    seed: int = 0,
    utterances_per_document: int = DEFAULT_UTTERANCES_PER_DOCUMENT,
    languages: Iterable[str] | None = None,
) -> list[dict[str, str]]:
    """Short single-language paragraphs ({"text", "language"}) for the pretraining objectives.

    Six utterances make about 30-60 words (80-150 characters in Japanese), long enough for the
    denoising spans and for a CLM prefix/continuation split. Languages are interleaved (shuffled).
    """
    if utterances_per_document < 1:
        raise ValueError(f"utterances_per_document must be >= 1, got {utterances_per_document}")
    docs = []
    for language in check_choices("language", languages, LANGUAGES):
        texts = [u.text for u in generate(split, languages=(language,), seed=seed)]
        for start in range(0, len(texts), utterances_per_document):
            text = " ".join(texts[start : start + utterances_per_document])
            docs.append({"text": text, "language": language})
    random.Random(f"{seed}/documents").shuffle(docs)
    return docs


def write_text(path: str | os.PathLike[str], split: str = "train", seed: int = 0) -> int:
    """Writes one sentence per line (UTF-8), e.g. to train a SentencePiece vocabulary; returns the count."""
    lines = [u.text for u in generate(split, seed=seed)]
    directory = os.path.dirname(os.fspath(path))
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return len(lines)


__all__ = [
    "INTENTS",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "SPLITS",
    "Utterance",
    "documents",
    "generate",
    "write_text",
]
