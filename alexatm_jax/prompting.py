"""Text in and out of the model at the API level: the vocabulary, the two prompting modes, stop strings.

AlexaTM reads an input in one of two modes (official release): CLM mode, where the input starts with
`[CLM] ` and the decoder continues it, and denoising mode, where the decoder rewrites the input. String inputs
are tokenised with the checkpoint's SentencePiece model (TF-free, `tasks.vocabulary.SentencePieceTokenizer`,
which also defines the `[CLM] ` prefix) and get EOS appended, as the training pipeline's
`seqio.Feature(add_eos=True)` does.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from tasks.vocabulary import CLM_PREFIX, get_tokenizer

MODES = ("clm", "denoising", None)


def load_tokenizer(vocab_path: str | os.PathLike) -> Any:
    """The TF-free SentencePiece tokenizer of `vocab_path` (cached per path)."""
    if "://" not in os.fspath(vocab_path) and not os.path.exists(vocab_path):
        raise FileNotFoundError(f"Vocabulary {vocab_path} not found: pass vocab_path=... to load() (the "
                                "SentencePiece .model the checkpoint was trained with), or use token-id inputs.")
    return get_tokenizer(vocab_path, required_pieces=())


def apply_mode(text: str, mode: str | None) -> str:
    """Adds the `[CLM] ` prefix in CLM mode (unless present); checks that a denoising input has none."""
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} is unknown: use 'clm' (continue the input), 'denoising' (rewrite it) or "
                         "None (use the input as given).")
    has_prefix = text.startswith(CLM_PREFIX.strip())
    if mode == "clm" and not has_prefix:
        return CLM_PREFIX + text
    if mode == "denoising" and has_prefix:
        raise ValueError(f"Input {text[:40]!r} starts with [CLM] but mode='denoising': drop the prefix, or use "
                         "mode='clm' to continue the input.")
    return text


def encode_inputs(tokenizer: Any, texts: Sequence[str], mode: str | None) -> list[list[int]]:
    """Token ids of prompts in `mode`, EOS appended; an empty prompt raises (it has nothing to condition on)."""
    if mode == "clm" and not tokenizer.has_piece(CLM_PREFIX.strip()):
        raise ValueError(f"The vocabulary {tokenizer.model_file} has no {CLM_PREFIX.strip()} piece: use "
                         "mode='denoising' or None.")
    out = []
    for index, text in enumerate(texts):
        if not text.strip():
            raise ValueError(f"Input {index} is empty: give every input some text.")
        out.append(tokenizer.encode(apply_mode(text, mode), add_eos=True))
    return out


def encode_sequences(tokenizer: Any | None, sequences: Iterable[str | Sequence[int]] | None, *, name: str,
                     both_spacings: bool = False) -> list[list[int]]:
    """Token sequences from strings (no EOS) or id lists; `both_spacings` also adds the tokenisation without
    SentencePiece's leading word-boundary piece, as the string may occur mid-word."""
    out: list[list[int]] = []
    for seq in sequences or ():
        if isinstance(seq, str):
            if tokenizer is None:
                raise ValueError(f"{name} holds the string {seq!r} but the model has no vocabulary: pass token-id "
                                 "lists, or load() with vocab_path=...")
            ids = tokenizer.encode(seq)
            if not ids:
                raise ValueError(f"{name} holds {seq!r}, which tokenises to nothing: drop it.")
            out.append(ids)
            if both_spacings:
                for alt in _without_word_boundary(tokenizer, ids):
                    if alt not in out:
                        out.append(alt)
        else:
            out.append([int(t) for t in seq])
    return out


def _without_word_boundary(tokenizer: Any, ids: list[int]) -> list[list[int]]:
    """`ids` with the leading "▁" marker removed (a lone "▁" piece dropped, or "▁x" replaced by "x")."""
    first = tokenizer.id_to_piece(ids[0])
    if first == "\u2581":
        return [ids[1:]] if len(ids) > 1 else []
    if first.startswith("\u2581") and tokenizer.has_piece(first[1:]):
        return [[tokenizer.piece_to_id(first[1:])] + ids[1:]]
    return []


def truncate_at_stop_strings(text: str, stop_strings: Sequence[str] | None) -> str:
    """`text` up to (not including) the first occurrence of any stop string."""
    cut = len(text)
    for stop in stop_strings or ():
        if stop:
            found = text.find(stop)
            if found != -1:
                cut = min(cut, found)
    return text[:cut]
