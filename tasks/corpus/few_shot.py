"""Few-shot intent prompts, in two forms.

Unseen intent (`few_shot_intent_prompt`, the seqio few-shot task): example utterances of a few intents, then a
new intent to generate from its name alone. The prompt is

    [CLM] Intent: get_weather; Utterances: <u1> | <u2> ; Intent: play_music; Utterances: <u1> | <u2> ;
    Intent: set_alarm; Utterances: <u1> | <u2> ; Intent: book_taxi; Utterances:

(on one line) and the target is one utterance of the last intent, in the same language. Only a model that has
learnt what intent names mean can answer it; the project's corpus never names intents.

Shown intent (`shown_intent_prompt`, the main job's demo): a few utterances of the intent to generate, joined
by spaces as the corpus's documents join utterances, for a causal LM to continue with another. This is data
generation from a handful of examples of the wanted intent.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from tasks.corpus.common import INTENTS, LANGUAGES
from tasks.corpus.generation import SPLITS, check_choice, intent_pool
from tasks.vocabulary import CLM_PREFIX

NUM_SHOT_INTENTS = 3


def _prompt(
    language: str,
    target_intent: str,
    shot_intents: Sequence[str] | None,
    shots_per_intent: int,
    split: str,
    seed: int,
    rng: random.Random,
    prefix: str,
) -> dict[str, str]:
    check_choice("split", split, SPLITS)
    check_choice("language", language, LANGUAGES)
    check_choice("intent", target_intent, INTENTS)
    if shots_per_intent < 1:
        raise ValueError(f"shots_per_intent must be >= 1, got {shots_per_intent}")
    if shot_intents is None:
        shot_intents = rng.sample([i for i in INTENTS if i != target_intent], NUM_SHOT_INTENTS)
    if not shot_intents:
        raise ValueError("shot_intents is empty: name at least one intent to show as examples")
    for intent in shot_intents:
        check_choice("intent", intent, INTENTS)
    if target_intent in shot_intents:
        raise ValueError(f"target_intent {target_intent!r} is in shot_intents; the target must be unseen")
    blocks = []
    for intent in shot_intents:
        pool = intent_pool(language, intent, seed)[split]
        examples = rng.sample(pool, min(shots_per_intent, len(pool)))
        blocks.append(f"Intent: {intent}; Utterances: " + " | ".join(examples))
    blocks.append(f"Intent: {target_intent}; Utterances:")
    return {
        "inputs": prefix + " ; ".join(blocks),
        "targets": rng.choice(intent_pool(language, target_intent, seed)[split]),
        "language": language,
        "target_intent": target_intent,
    }


def few_shot_intent_prompt(
    language: str,
    target_intent: str,
    *,
    shot_intents: Sequence[str] | None = None,
    shots_per_intent: int = 2,
    split: str = "train",
    seed: int = 0,
    prefix: str = CLM_PREFIX,
) -> dict[str, str]:
    """One prompt {"inputs", "targets", "language", "target_intent"} (format in the module docstring).

    Without `shot_intents`, three other intents are drawn with `seed`. Pass `prefix=""` when the task
    adds the [CLM] mode token itself.
    """
    rng = random.Random(f"{seed}/few-shot/{language}/{target_intent}")
    return _prompt(language, target_intent, shot_intents, shots_per_intent, split, seed, rng, prefix)


def few_shot_intent_examples(
    split: str = "train",
    *,
    seed: int = 0,
    num_examples: int | None = None,
    shots_per_intent: int = 2,
    prefix: str = CLM_PREFIX,
) -> list[dict[str, str]]:
    """Prompts cycling over languages (fastest) and target intents; by default one per pair (264)."""
    check_choice("split", split, SPLITS)
    if num_examples is None:
        num_examples = len(LANGUAGES) * len(INTENTS)
    out = []
    for i in range(num_examples):
        language = LANGUAGES[i % len(LANGUAGES)]
        target = INTENTS[(i // len(LANGUAGES)) % len(INTENTS)]
        rng = random.Random(f"{seed}/few-shot-examples/{i}")
        out.append(_prompt(language, target, None, shots_per_intent, split, seed, rng, prefix))
    return out


def shown_intent_prompt(
    language: str, intent: str, *, shots: int = 2, split: str = "validation", seed: int = 0
) -> dict[str, object]:
    """{"inputs", "shots", "language", "target_intent"}: `shots` distinct utterances of `intent`, space-joined.

    `inputs` has no mode token: the caller asks for a causal-LM continuation (the `[CLM]` mode).
    """
    check_choice("split", split, SPLITS)
    check_choice("language", language, LANGUAGES)
    check_choice("intent", intent, INTENTS)
    if shots < 1:
        raise ValueError(f"shots must be >= 1, got {shots}")
    rng = random.Random(f"{seed}/shown-intent/{language}/{intent}/{split}")
    pool = intent_pool(language, intent, seed)[split]
    examples = rng.sample(pool, min(shots, len(pool)))
    return {"inputs": " ".join(examples), "shots": examples, "language": language, "target_intent": intent}
