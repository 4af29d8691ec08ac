"""Demo helpers: the generated utterance, the copy baseline (the demo end to end: tests/test_main_job.py)."""

import random

from alexatm_jax import demo


def test_first_utterance_stops_at_the_prompt_separators():
    assert demo.first_utterance(" Book a taxi to the airport. | Call mum ; Intent: x") == "Book a taxi to the airport."
    assert demo.first_utterance("Wake me up at 7 ; Intent") == "Wake me up at 7"


def test_copying_the_corrupted_input_is_the_baseline_to_beat():
    ids = list(range(20))
    corrupted = demo.drop_span(ids, 0.15, random.Random(0))
    assert len(corrupted) == 17 and set(corrupted) < set(ids)
    assert demo.token_similarity(ids, ids) == 1.0
    assert 0.9 < demo.token_similarity(ids, corrupted) < 1.0
