"""Spoken form of written text: lowercase, no punctuation (AlexaTM pretrains on 7 spoken : 3 written).

Script-aware: punctuation of space-delimited scripts (Latin, Arabic ، ؟ ؛, Devanagari । ॥, Tamil,
Telugu, ...) becomes a word break; CJK/full-width punctuation (。、「」『』！？ ...) is deleted without a
break, since Japanese writes no spaces; an apostrophe inside a word is deleted ("don't" -> "dont").
`spoken_form_py` (pure python, for inference on machines without TensorFlow) and `spoken_form_tf`
(tf.strings, RE2) implement the same rules.
"""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = "'\u2019\u02bc"  # ' ’ ʼ


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def _is_letter_or_mark(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LM"


# Punctuation of the CJK Symbols and Punctuation, Katakana and Halfwidth/Fullwidth Forms blocks.
_CJK_RANGES = ((0x3000, 0x3040), (0x30A0, 0x3100), (0xFF00, 0xFFF0))
CJK_PUNCTUATION: frozenset[str] = frozenset(
    chr(c) for lo, hi in _CJK_RANGES for c in range(lo, hi) if _is_punct(chr(c))
)
_CJK_CLASS = "".join(f"\\x{{{ord(c):04X}}}" for c in sorted(CJK_PUNCTUATION))
_APOS_CLASS = "".join(f"\\x{{{ord(c):04X}}}" for c in _APOSTROPHES)

# RE2 patterns for tf.strings.regex_replace, applied in this order.
_TF_RULES: tuple[tuple[str, str], ...] = (
    (rf"([\pL\pM])[{_APOS_CLASS}](\pL)", r"\1\2"),  # intra-word apostrophe...
    (rf"([\pL\pM])[{_APOS_CLASS}](\pL)", r"\1\2"),  # ...twice: RE2 matches do not overlap ("a'b'c")
    (rf"[{_CJK_CLASS}]", ""),  # CJK punctuation: no word break
    (r"\pP", " "),  # any other punctuation: word break
    (r"[\s\pZ]+", " "),  # collapse whitespace (RE2's \s is ASCII only)
    (r"^ | $", ""),
)


def spoken_form_py(text: str) -> str:
    """Lowercases `text` and strips punctuation (pure python; same rules as `spoken_form_tf`)."""
    text = text.lower()
    out = []
    n = len(text)
    for i, ch in enumerate(text):
        if ch in _APOSTROPHES and 0 < i < n - 1 and _is_letter_or_mark(text[i - 1]) and (
            unicodedata.category(text[i + 1]).startswith("L")
        ):
            continue
        if ch in CJK_PUNCTUATION:
            continue
        out.append(" " if _is_punct(ch) else ch)
    return re.sub(r"\s+", " ", "".join(out)).strip()


def spoken_form_tf(text):
    """`spoken_form_py` with tf.strings ops on a string tensor of any shape."""
    import tensorflow as tf

    text = tf.strings.lower(text, encoding="utf-8")
    for pattern, rewrite in _TF_RULES:
        text = tf.strings.regex_replace(text, pattern, rewrite)
    return text
