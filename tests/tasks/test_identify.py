"""Language and intent identification by the corpus's own sentences (the demo's numbers rely on it)."""

import random

from tasks.corpus import generate, identify


def test_identifies_language_and_intent_of_held_out_sentences():
    sentences = generate("validation")
    random.Random(0).shuffle(sentences)
    sample = sentences[:300]
    languages = sum(identify.identify_language(u.text) == u.language for u in sample)
    intents = sum(identify.identify_intent(u.text, u.language) == u.intent for u in sample)
    assert languages >= 0.97 * len(sample) and intents >= 0.85 * len(sample)
    halves = sum(identify.identify_language(" ".join(u.text.split()[len(u.text.split()) // 2:]) or u.text) == u.language
                 for u in sample)
    assert halves >= 0.9 * len(sample)  # continuations are half sentences


def test_empty_text_has_no_language():
    assert identify.identify_language("  ") is None and identify.identify_intent("", "en") is None
