"""Text in and out of the model at the API level: the vocabulary and its tokenization convention, the two
prompting modes, stop strings, and the generation defaults of a convention.

AlexaTM reads an input in one of two modes (official release): CLM mode, where the input starts with
`[CLM] ` and the decoder continues it, and denoising mode, where the decoder rewrites the input. String inputs
are tokenised with the checkpoint's SentencePiece model (TF-free, `tasks.vocabulary.SentencePieceTokenizer`,
which also defines the `[CLM] ` prefix) in the convention the checkpoint was trained with (its metadata names
it): `text </s>` for the project's own models, `<s> text </s>` with the official tokenizer's rules for converted
official checkpoints.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from alexatm_jax.checkpoint import run_dir
from tasks.vocabulary import CLM_PREFIX, OFFICIAL_TOKENIZATION, PROJECT_TOKENIZATION, TOKENIZATIONS, get_tokenizer

MODES = ("clm", "denoising", None)
# A model's embedding table may have more rows than its vocabulary has pieces, up to the next multiple of this:
# the released AlexaTM 20B has 150016 rows for its 150K-piece vocabulary (docs/PAPER.md). More rows than that, or
# fewer rows than pieces, means the vocabulary is not the model's.
VOCAB_PADDING_MULTIPLE = 128
# The official scripts' generation settings (docs/PAPER.md): `max_length=64` counts the decoder start token,
# so at most 63 tokens are generated; `bad_words_ids=[[0], [2012, 2006]]` are ids of the released 150K vocabulary,
# whose id 0 is `<unk>` (its `<s>` is 1 and `</s>` 2, the SentencePiece default layout; docs/PAPER.md). What pieces
# 2012 and 2006 are is documented nowhere, so the pair applies to the released vocabulary only.
OFFICIAL_MAX_LENGTH = 64
OFFICIAL_BAD_WORDS_IDS = ((0,), (2012, 2006))
RELEASED_ID0_PIECE = "<unk>"
RELEASED_VOCAB_MIN_PIECES = 150_000  # the released vocabulary's size: a vocabulary this large is taken to be it
PROJECT_MAX_NEW_TOKENS = 64


def load_tokenizer(vocab_path: str | os.PathLike, tokenization: str = PROJECT_TOKENIZATION) -> Any:
    """The TF-free SentencePiece tokenizer of `vocab_path` in a tokenization convention (cached)."""
    if "://" not in os.fspath(vocab_path) and not os.path.exists(vocab_path):
        raise FileNotFoundError(f"Vocabulary {vocab_path} not found: pass vocab_path=... to load() (the "
                                "SentencePiece .model the checkpoint was trained with), or use token-id inputs.")
    return get_tokenizer(vocab_path, required_pieces=(), tokenization=tokenization)


def checkpoint_tokenization(metadata: Mapping[str, Any], override: str | None = None) -> str:
    """The tokenization convention to feed a checkpoint with: `override`, else the one its metadata records,
    else the project's (what checkpoints written before the field existed were trained with, converted ones
    aside: pass `tokenization="official"` for a checkpoint converted before then)."""
    value = override or metadata.get(run_dir.TOKENIZATION_FIELD) or PROJECT_TOKENIZATION
    if value not in TOKENIZATIONS:
        raise ValueError(f"tokenization={value!r} is unknown: use one of {TOKENIZATIONS} ('official' for converted "
                         "official checkpoints, 'project' for the project's own pretraining).")
    return value


def vocabulary_size_problem(pieces: int, vocab_size: int) -> str | None:
    """Why a vocabulary of `pieces` pieces cannot be a model's with `vocab_size` embedding rows, or None.

    It fits when `pieces <= vocab_size <= pieces` rounded up to a multiple of `VOCAB_PADDING_MULTIPLE`.
    """
    padded = -(-pieces // VOCAB_PADDING_MULTIPLE) * VOCAB_PADDING_MULTIPLE
    if pieces <= vocab_size <= padded:
        return None
    return (f"has {pieces} pieces but the model's vocab_size is {vocab_size} (a model's embedding table has as many "
            f"rows as pieces, padded at most to the next multiple of {VOCAB_PADDING_MULTIPLE}: {padded}).")


def generation_defaults(tokenizer: Any, tokenization: str) -> tuple[int, list[list[int]]]:
    """(max new tokens, banned sequences) of greedy few-shot generation in a convention.

    Official: the official scripts' settings, their banned ids resolved against `tokenizer`: the released
    vocabulary (150K pieces or more) takes them as they are; another one bans its own `<unk>` (what the released
    id 0 is) and drops the pair (2012, 2006), which means nothing there. Project: 64 new tokens, nothing banned.
    """
    if tokenization != OFFICIAL_TOKENIZATION:
        return PROJECT_MAX_NEW_TOKENS, []
    if tokenizer.vocab_size >= RELEASED_VOCAB_MIN_PIECES:
        return OFFICIAL_MAX_LENGTH - 1, [list(ids) for ids in OFFICIAL_BAD_WORDS_IDS]
    unk = tokenizer.piece_to_id(RELEASED_ID0_PIECE) if tokenizer.has_piece(RELEASED_ID0_PIECE) else None
    return OFFICIAL_MAX_LENGTH - 1, [] if unk is None else [[unk]]


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
    """Model inputs of prompts in `mode` (the checkpoint's convention: `text </s>` or `<s> text </s>`); an empty
    prompt raises (it has nothing to condition on)."""
    if mode == "clm" and not tokenizer.has_piece(CLM_PREFIX.strip()):
        raise ValueError(f"The vocabulary {tokenizer.model_file} has no {CLM_PREFIX.strip()} piece: use "
                         "mode='denoising' or None.")
    out = []
    for index, text in enumerate(texts):
        if not text.strip():
            raise ValueError(f"Input {index} is empty: give every input some text.")
        out.append(tokenizer.encode_input(apply_mode(text, mode)))
    return out


def encode_targets(tokenizer: Any, texts: Sequence[str], *, add_eos: bool) -> list[list[int]]:
    """Decoder targets of texts to score (the convention's: `text [</s>]` or `<s> text [</s>]`)."""
    return [tokenizer.encode_target(text, add_eos=add_eos) for text in texts]


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


def kept_prefix_length(ids: Sequence[int], limit: int, prefix: Sequence[int] = ()) -> int:
    """How many leading tokens `truncate_left` keeps: the CLM prefix when `ids` starts with it and it fits."""
    prefix = list(prefix)
    return len(prefix) if prefix and list(ids[:len(prefix)]) == prefix and limit > len(prefix) else 0


def truncate_left(ids: Sequence[int], limit: int, prefix: Sequence[int] = ()) -> list[int]:
    """The last tokens of `ids` that fit in `limit`; when `ids` starts with `prefix` (the tokens that put the model
    in CLM mode: `SentencePieceTokenizer.clm_prefix_ids()`), the prefix stays first."""
    ids = list(ids)
    if len(ids) <= limit:
        return ids
    head = kept_prefix_length(ids, limit, prefix)
    return ids[:head] + ids[len(ids) - (limit - head):]
