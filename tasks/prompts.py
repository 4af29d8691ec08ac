"""Prompt text for AlexaTM's two modes and its few-shot formats (pure Python: no seqio, no TF).

AlexaTM reads an input in one of two modes (official release, `scripts/generate_outputs.py`, `repl.py`):
- CLM mode: the input starts with `[CLM] ` and the decoder *continues* it (few-shot prompting);
- denoising mode: no prefix, the decoder *rewrites* the (possibly corrupted) input.

The few-shot formats below are the official script's text, character for character:
- translation: `Sentence:  {src}; Translation in {Language}: {tgt}; ` per shot, then
  `Sentence:  {src}; Translation in {Language}:` (note the TWO spaces after `Sentence:`);
- summarisation: `Article: {doc} ==> Short summary: {summary} <br><br><br> ` per shot, then
  `Article: {doc} ==> Short summary:`.
Both are `[CLM] `-prefixed. The official scripts have no question-answering prompt; `squad_prompt` follows the
summarisation format: `Context: {context} Question: {question} Answer: {answer} <br><br><br> ` per shot, then
`Context: {context} Question: {question} Answer:`. Newlines in the texts become one space: the official
SentencePiece model drops them, and a one-line prompt is what the model saw.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tasks.vocabulary import CLM_PREFIX

# Newline runs (and the blanks around them) become one space; `tasks.xsum` uses the same pattern in TF.
NEWLINE_PATTERN = r"[ \t]*[\r\n]+[ \t]*"

FLORES_LANGUAGE_NAMES: dict[str, str] = {
    "ara": "Arabic",
    "deu": "German",
    "eng": "English",
    "fra": "French",
    "hin": "Hindi",
    "ita": "Italian",
    "jpn": "Japanese",
    "mar": "Marathi",
    "por": "Portuguese",  # not in the official script's list (it has 11 languages); same pattern
    "spa": "Spanish",
    "tam": "Tamil",
    "tel": "Telugu",
}

TRANSLATION_INPUT_PREFIX = "Sentence:  "  # two spaces, as in the official script
TRANSLATION_SEPARATOR = "; "
SUMMARY_INPUT_PREFIX = "Article: "
SUMMARY_OUTPUT_PREFIX = " ==> Short summary:"
SUMMARY_END = "<br><br><br>"
SUMMARY_SEPARATOR = f" {SUMMARY_END} "


def one_line(text: str) -> str:
    """Replaces newlines (and the blanks around them) by one space."""
    return re.sub(NEWLINE_PATTERN, " ", text)


def clm_prompt(text: str) -> str:
    """CLM-mode input: `[CLM] ` + text (the decoder continues it)."""
    return CLM_PREFIX + one_line(text)


def denoising_prompt(text: str) -> str:
    """Denoising-mode input: the text as is, no prefix (the decoder rewrites it)."""
    return one_line(text)


def is_clm(text: str) -> bool:
    """Whether an input is in CLM mode."""
    return text.startswith(CLM_PREFIX.strip())


def build_kshot_prompt(
    shots: Sequence[tuple[str, str]],
    query: str,
    *,
    input_prefix: str,
    output_prefix: str,
    separator: str,
    clm: bool = True,
) -> str:
    """k-shot prompt: `{input_prefix}{x}{output_prefix} {y}{separator}` per shot, then the query.

    The query reads `{input_prefix}{query}{output_prefix}` (no trailing space: the model writes
    ` {answer}`). With `clm` the prompt starts with `[CLM] `.
    """
    parts = [f"{input_prefix}{one_line(x)}{output_prefix} {one_line(y)}{separator}" for x, y in shots]
    parts.append(f"{input_prefix}{one_line(query)}{output_prefix}")
    return (CLM_PREFIX if clm else "") + "".join(parts)


def language_name(code: str) -> str:
    """English name of a Flores-101 language code (`eng` -> `English`)."""
    try:
        return FLORES_LANGUAGE_NAMES[code]
    except KeyError:
        known = sorted(FLORES_LANGUAGE_NAMES)
        raise ValueError(f"unknown Flores-101 language code {code!r}; known: {known}") from None


def translation_prompt(shots: Sequence[tuple[str, str]], source: str, target_language: str) -> str:
    """Official few-shot translation prompt; `target_language` is a Flores code or an English name."""
    name = FLORES_LANGUAGE_NAMES.get(target_language, target_language)
    return build_kshot_prompt(
        shots,
        source,
        input_prefix=TRANSLATION_INPUT_PREFIX,
        output_prefix=f"; Translation in {name}:",
        separator=TRANSLATION_SEPARATOR,
    )


def cut_translation(text: str) -> str:
    """The translation in a CLM continuation: text before the first `;` (or ` Translation`), stripped.

    The official script also cuts before `Translation`; unlike it, a continuation without `;` keeps
    its last character (the script's `find(';') % len` drops it).
    """
    for stop in (";", "Translation", "</s>"):
        cut = text.find(stop)
        if cut >= 0:
            text = text[:cut]
    return text.strip()


def summarization_prompt(shots: Sequence[tuple[str, str]], article: str) -> str:
    """Official few-shot summarisation prompt (XSum)."""
    return build_kshot_prompt(
        shots,
        article,
        input_prefix=SUMMARY_INPUT_PREFIX,
        output_prefix=SUMMARY_OUTPUT_PREFIX,
        separator=SUMMARY_SEPARATOR,
    )


def cut_summary(text: str) -> str:
    """The summary in a CLM continuation: text before the first `<br><br><br>`, stripped."""
    for stop in (SUMMARY_END, "</s>"):
        cut = text.find(stop)
        if cut >= 0:
            text = text[:cut]
    return text.strip()


SQUAD_INPUT_PREFIX = "Context: "
SQUAD_QUESTION = " Question: "
SQUAD_OUTPUT_PREFIX = " Answer:"


def squad_prompt(shots: Sequence[tuple[str, str, str]], context: str, question: str) -> str:
    """k-shot question-answering prompt: shots are (context, question, answer) triples."""
    return build_kshot_prompt(
        [(f"{c}{SQUAD_QUESTION}{one_line(q)}", a) for c, q, a in shots],
        f"{context}{SQUAD_QUESTION}{one_line(question)}",
        input_prefix=SQUAD_INPUT_PREFIX,
        output_prefix=SQUAD_OUTPUT_PREFIX,
        separator=SUMMARY_SEPARATOR,
    )
