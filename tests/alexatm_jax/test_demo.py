"""Demo helpers: new text in few-shot outputs, the copy baseline (the demo end to end: tests/test_main_job.py)."""

import random

from alexatm_jax import demo


def test_new_text_is_more_than_a_piece_of_the_prompt():
    prompt = "Book a taxi to the airport. Get me a cab to the mall at 7 am."
    assert not demo.is_new_text("a cab to the Mall", prompt)  # case, spacing and punctuation do not count
    assert not demo.is_new_text("taxi to the airport. Get me", prompt)
    assert not demo.is_new_text(" . ", prompt)  # nothing written
    assert demo.is_new_text("Get me a cab to the station.", prompt)
    assert demo.is_new_text("空港までタクシー", prompt)


def test_copying_the_corrupted_input_is_the_baseline_to_beat():
    ids = list(range(20))
    corrupted = demo.drop_span(ids, 0.15, random.Random(0))
    assert len(corrupted) == 17 and set(corrupted) < set(ids)
    assert demo.token_similarity(ids, ids) == 1.0
    assert 0.9 < demo.token_similarity(ids, corrupted) < 1.0
