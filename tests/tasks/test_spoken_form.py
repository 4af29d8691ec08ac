"""Spoken form: lowercase and no punctuation, per script; TF and pure-python versions agree."""

import pytest
import tensorflow as tf

from tasks.spoken_form import spoken_form_py, spoken_form_tf

CASES = [
    ("Hello, World! Don't «stop» — OK?", "hello world dont stop ok"),  # Latin
    ("Ça va? Très BIEN; merci.", "ça va très bien merci"),
    ("مرحبا، كيف حالك؟ جيد؛ شكرا", "مرحبا كيف حالك جيد شكرا"),  # Arabic comma, question mark, semicolon
    ("नमस्ते। आप कैसे हैं॥ ठीक", "नमस्ते आप कैसे हैं ठीक"),  # Devanagari danda, double danda
    ("வணக்கம், நண்பரே!", "வணக்கம் நண்பரே"),  # Tamil
    ("నమస్కారం, మిత్రమా!", "నమస్కారం మిత్రమా"),  # Telugu
    ("東京へ行きます。「はい」、『本』！？", "東京へ行きますはい本"),  # Japanese: no word breaks added
    ("  ...  ", ""),
]


@pytest.mark.parametrize("written,spoken", CASES)
def test_spoken_form_per_script(written, spoken):
    assert spoken_form_py(written) == spoken
    assert spoken_form_tf(tf.constant(written)).numpy().decode() == spoken


def test_tf_and_python_agree_on_mixed_text():
    texts = ["a'b'c d'  ' e\u00a0f\u3000g", "rock'n'roll L'ÉTÉ", "ÄÖÜ ẞ İstanbul (1999) - [x] {y}", "x.y,z"]
    got = [t.decode() for t in spoken_form_tf(tf.constant(texts)).numpy()]
    assert got == [spoken_form_py(t) for t in texts]
