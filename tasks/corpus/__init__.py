"""The project's own multilingual corpus of voice-assistant requests, for offline pretraining.

Written for this project (no external text): templates for 22 intents in the 12 AlexaTM languages
(`lang_<code>.py`), expanded deterministically into a train split and a disjoint validation split.
Standard library only, so it imports on any machine.
"""

from tasks.corpus.common import INTENTS, LANGUAGE_NAMES, LANGUAGES
from tasks.corpus.few_shot import few_shot_intent_examples, few_shot_intent_prompt, shown_intent_prompt
from tasks.corpus.generation import SPLITS, Utterance, documents, generate, write_text

__all__ = [
    "INTENTS",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "SPLITS",
    "Utterance",
    "documents",
    "few_shot_intent_examples",
    "few_shot_intent_prompt",
    "generate",
    "shown_intent_prompt",
    "write_text",
]
