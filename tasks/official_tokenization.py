"""The official AlexaTM tokenizer's ids and texts, reproduced in pure Python for any SentencePiece unigram model.

The official release (PyPI `alexa-teacher-models` 1.0.1, `tokenization_atm.AlexaTMTokenizerFast`, docs/PAPER.md)
does not tokenise with SentencePiece itself: transformers 4.29's `SpmConverter` turns the `.model` file into a
HuggingFace `tokenizers` 0.13 pipeline, and the official scripts load it with `from_pretrained`
(docs/STACK.md). Hand-written here because no library gives those ids: SentencePiece's own encoder differs (it
strips and collapses whitespace, merges the "▁" before `[CLM]`), and later `tokenizers` releases changed the
pipeline (byte fallback, Metaspace's prepend scheme); this module also needs neither transformers, tokenizers
nor protobuf, so the API keeps running on machines that lack them. The pipeline, stage by stage:

1. Special tokens: `from_pretrained` registers `<s>`, `</s>`, `<unk>`, `[PAD]`, `[MASK]` as special added
   tokens: they are cut out of the raw text first (leftmost-longest), each becomes its id, and every remaining
   segment is tokenised on its own. A special token missing from the model gets a new id, `len(pieces) + k`.
2. Normaliser: the model's precompiled character map applied the `spm_precompiled` way (per extended grapheme
   cluster: a cluster shorter than 6 UTF-8 bytes is replaced by the value of the shortest map key that prefixes
   it, otherwise each character by its own value), then runs of spaces become one. Leading and trailing spaces
   are kept (one at most); under nmt_nfkc "\\n" and "\\t" become spaces.
3. Pre-tokeniser: Metaspace("▁", add_prefix_space=True): every " " becomes "▁", "▁" is prepended unless the
   segment starts with one, and the segment is split before every "▁".
4. Model: a unigram Viterbi over *all* pieces (control, user-defined and byte pieces match their literal text,
   scored 0), per word; a character without a one-character piece is `<unk>` scored `min_score - 10`; the
   first-found of equal-score paths wins; consecutive unknowns fuse into one `<unk>`. No byte fallback.
5. Post-processor: `<s> $A </s>` (`tokenizer(text)`, and `tokenizer(text_target=text)` alike).
6. Decoding: ids -> pieces (unknown ids dropped), registered special tokens skipped on request, "▁" -> " " (the
   first piece loses its "▁"), then transformers' `clean_up_tokenization` (" ." -> ".", ...).

So `"[CLM] " + text` is `<s> ▁ [CLM] ▁word ... </s>`: the lone "▁" is Metaspace's prefix, which no piece merges
with. Established against the release by the research notes of this project and kept checked by the parity
tests in the official reference venv (`tests/tasks/test_official_tokenization.py`, marker `official`).
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import regex

SPACE = "\u2581"
UNK_PENALTY = 10.0  # tokenizers' Unigram scores an unknown character `min_score - 10`
# transformers' `all_special_tokens` of AlexaTMTokenizerFast (bos, eos, unk, sep = eos, pad, cls = bos, mask).
SPECIAL_TOKENS: tuple[str, ...] = ("<s>", "</s>", "<unk>", "[PAD]", "[MASK]")
BOS_TOKEN, EOS_TOKEN = "<s>", "</s>"
# SentencePiece's unigram model type (sentencepiece_model.proto).
UNIGRAM = 1
_MULTI_SPACE = re.compile(" {2,}")
_GRAPHEME = regex.compile(r"\X", regex.DOTALL)  # extended grapheme clusters, as Rust's unicode-segmentation


# ----------------------------------------------------------------------------- the .model file
def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes) -> Iterable[tuple[int, int, Any]]:
    """(field number, wire type, value) of a serialized protobuf message (a minimal reader: no protobuf package,
    whose versions the official conversion is picky about)."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            n, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + n], pos + n
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire} in a SentencePiece model")
        yield field, wire, value


def _int32(v: int) -> int:
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >= 1 << 63 else v


@dataclass(frozen=True)
class SpmModel:
    """What the official conversion reads from a SentencePiece `.model`."""

    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    model_type: int  # 1 unigram, 2 bpe, 3 word, 4 char
    unk_id: int
    precompiled_charsmap: bytes
    normalizer_name: str

    @classmethod
    def parse(cls, proto: bytes) -> SpmModel:
        pieces, scores = [], []
        model_type, unk_id, charsmap, name = UNIGRAM, 0, b"", ""
        unpack_f32 = struct.Struct("<f").unpack_from
        for field, wire, value in _fields(proto):
            if field == 1 and wire == 2:  # repeated SentencePiece pieces: a fast path for (piece, score, type)
                piece, score, q, m = "", 0.0, 0, len(value)
                while q < m:  # a 150K-piece model loads in seconds, not a minute
                    k = value[q]
                    if k == 0x0A:  # field 1: piece
                        ln, q = _varint(value, q + 1)
                        piece, q = value[q:q + ln].decode("utf-8"), q + ln
                    elif k == 0x15:  # field 2: score (float)
                        score, q = unpack_f32(value, q + 1)[0], q + 5
                    elif k == 0x18:  # field 3: type
                        _, q = _varint(value, q + 1)
                    else:  # anything else: the generic reader from here on
                        for f, w, v in _fields(value[q:]):
                            if f == 1:
                                piece = v.decode("utf-8")
                            elif f == 2 and w == 5:
                                score = struct.unpack("<f", v)[0]
                        break
                pieces.append(piece)
                scores.append(score)
            elif field == 2:  # TrainerSpec
                for f, _, v in _fields(value):
                    if f == 3:
                        model_type = v
                    elif f == 40:
                        unk_id = _int32(v)
            elif field == 3:  # NormalizerSpec
                for f, _, v in _fields(value):
                    if f == 1:
                        name = v.decode("utf-8")
                    elif f == 2:
                        charsmap = bytes(v)
        return cls(tuple(pieces), tuple(scores), model_type, unk_id, charsmap, name)


# ----------------------------------------------------------------------------- normaliser
class PrecompiledCharsmap:
    """spm_precompiled's reading of a precompiled character map: a Darts double array and a string blob."""

    def __init__(self, blob: bytes):
        (trie_size,) = struct.unpack_from("<I", blob, 0)
        n = trie_size // 4
        self.array = struct.unpack_from(f"<{n}I", blob, 4)
        self.normalized = blob[4 + 4 * n:]
        self._cache: dict[str, str | None] = {}

    def _common_prefix_search(self, key: bytes) -> list[int]:
        array = self.array
        unit = array[0]
        node = (unit >> 10) << ((unit & (1 << 9)) >> 6)
        results = []
        for c in key:
            if c == 0:
                break
            node ^= c
            unit = array[node]
            if unit & ((1 << 31) | 0xFF) != c:  # label
                return results
            node ^= (unit >> 10) << ((unit & (1 << 9)) >> 6)  # offset
            if (unit >> 8) & 1:  # has_leaf
                results.append(array[node] & ((1 << 31) - 1))  # value
        return results

    def transform(self, chunk: str) -> str | None:
        """The value of the *shortest* key prefixing `chunk` (spm_precompiled `Precompiled::transform`)."""
        if chunk in self._cache:
            return self._cache[chunk]
        results = self._common_prefix_search(chunk.encode("utf-8"))
        out = None
        if results:
            start = results[0]
            end = self.normalized.find(b"\0", start)
            out = self.normalized[start:end if end >= 0 else len(self.normalized)].decode("utf-8")
        self._cache[chunk] = out
        return out

    def normalize(self, text: str) -> str:
        out = []
        for grapheme in _GRAPHEME.findall(text):
            if len(grapheme.encode("utf-8")) < 6:
                norm = self.transform(grapheme)
                if norm is not None:
                    out.append(norm)
                    continue
            for ch in grapheme:
                norm = self.transform(ch)
                out.append(ch if norm is None else norm)
        return "".join(out)


# ----------------------------------------------------------------------------- the tokenizer
class OfficialTokenizer:
    """Ids and texts exactly as the official scripts' `AlexaTMTokenizerFast.from_pretrained(dir, vocab_file=...)`
    (transformers 4.29.2, tokenizers 0.13.3) gives them, for a SentencePiece unigram model.

    Args:
      model: path of a SentencePiece `.model`, its bytes, or a `sentencepiece.SentencePieceProcessor`.
    """

    def __init__(self, model: Any):
        self.spm = SpmModel.parse(_model_bytes(model))
        if self.spm.model_type != UNIGRAM:
            raise ValueError(f"SentencePiece model_type {self.spm.model_type}: the official tokenization is "
                             "reproduced for unigram models only (the official vocabulary is one).")
        self.pieces = self.spm.pieces
        self.piece_to_id: dict[str, int] = {}
        for i, p in enumerate(self.pieces):
            self.piece_to_id[p] = i  # tokenizers' HashMap: a later duplicate would win
        self.unk_id = self.spm.unk_id
        self.unk_score = min(self.spm.scores) - UNK_PENALTY
        self._prefixes = frozenset(p[:k] for p in self.pieces for k in range(1, len(p)))
        self.charsmap = PrecompiledCharsmap(self.spm.precompiled_charsmap) if self.spm.precompiled_charsmap else None
        self.bos_id = self.piece_to_id.get(BOS_TOKEN, self.unk_id)
        self.eos_id = self.piece_to_id.get(EOS_TOKEN, self.unk_id)
        self.added: dict[str, int] = {}
        next_id = len(self.pieces)
        for token in SPECIAL_TOKENS:
            if token in self.piece_to_id:
                self.added[token] = self.piece_to_id[token]
            else:
                self.added[token] = next_id
                next_id += 1
        self.added_id_to_token = {i: t for t, i in self.added.items()}
        self._added_re = re.compile("|".join(re.escape(t) for t in sorted(self.added, key=len, reverse=True)))
        self._word_cache: dict[str, list[int]] = {}

    def __len__(self) -> int:
        """`len(tokenizer)`: the pieces plus the special tokens the model lacks."""
        return max(len(self.pieces), *(i + 1 for i in self.added.values()))

    @property
    def pad_id(self) -> int:
        """`tokenizer.pad_token_id` (the "[PAD]" token)."""
        return self.added["[PAD]"]

    # --- stages -------------------------------------------------------------------------------------------
    def normalize(self, text: str) -> str:
        if self.charsmap is not None:
            text = self.charsmap.normalize(text)
        return _MULTI_SPACE.sub(" ", text)

    @staticmethod
    def pre_tokenize(normalized: str) -> list[str]:
        """Metaspace("▁", add_prefix_space=True): words, each starting with "▁"."""
        if not normalized:
            return []
        s = normalized.replace(" ", SPACE)
        if not s.startswith(SPACE):
            s = SPACE + s
        starts = [0] + [i for i in range(1, len(s)) if s[i] == SPACE]
        return [s[a:b] for a, b in zip(starts, starts[1:] + [len(s)])]

    def _viterbi(self, word: str) -> list[int]:
        """tokenizers 0.13.3 `Unigram::encode_optimized` + `tokenize` (fuse_unk=True)."""
        cached = self._word_cache.get(word)
        if cached is not None:
            return cached
        n = len(word)
        scores, piece_to_id, prefixes = self.spm.scores, self.piece_to_id, self._prefixes
        best_score = [0.0] * (n + 1)
        best_start: list[int | None] = [None] * (n + 1)
        best_id = [0] * (n + 1)
        for start in range(n):
            till_here = best_score[start]
            has_single = False
            pos = start
            while pos < n:
                pos += 1
                piece = word[start:pos]
                pid = piece_to_id.get(piece)
                if pid is not None:  # candidates in increasing length, as tokenizers' trie yields them
                    cand = scores[pid] + till_here
                    if best_start[pos] is None or cand > best_score[pos]:
                        best_score[pos], best_start[pos], best_id[pos] = cand, start, pid
                    if pos == start + 1:
                        has_single = True
                if piece not in prefixes:
                    break
            if not has_single:
                cand = self.unk_score + till_here
                if best_start[start + 1] is None or cand > best_score[start + 1]:
                    best_score[start + 1], best_start[start + 1], best_id[start + 1] = cand, start, self.unk_id
        tokens: list[str] = []  # backtrack, fusing consecutive unknown nodes
        unk_run: list[str] = []
        end = n
        while end > 0:
            start = best_start[end]
            if best_id[end] == self.unk_id:
                unk_run.append(word[start:end])
            else:
                if unk_run:
                    tokens.append("".join(reversed(unk_run)))
                    unk_run = []
                tokens.append(word[start:end])
            end = start
        if unk_run:
            tokens.append("".join(reversed(unk_run)))
        ids = [piece_to_id.get(t, self.unk_id) for t in reversed(tokens)]
        if len(self._word_cache) < 200_000:
            self._word_cache[word] = ids
        return ids

    # --- encoding -----------------------------------------------------------------------------------------
    def tokenize_ids(self, text: str) -> list[int]:
        """Ids of `text` without `<s>` / `</s>`."""
        ids: list[int] = []
        pos = 0
        for match in [*self._added_re.finditer(text), None]:
            segment = text[pos:match.start() if match else len(text)]
            for word in self.pre_tokenize(self.normalize(segment)) if segment else ():
                ids.extend(self._viterbi(word))
            if match:
                ids.append(self.added[match.group()])
                pos = match.end()
        return ids

    def encode(self, text: str, *, add_bos: bool = True, add_eos: bool = True,
               max_length: int | None = None) -> list[int]:
        """`tokenizer(text)["input_ids"]` (also `tokenizer(text_target=text)`); with `max_length`, as
        `tokenizer(text, max_length=max_length, truncation=True)`."""
        ids = self.tokenize_ids(text)
        if max_length is not None:
            keep = max_length - int(add_bos) - int(add_eos)
            if keep < 0:
                raise ValueError(f"max_length={max_length} leaves no room for the special tokens")
            ids = ids[:keep]
        return ([self.bos_id] if add_bos else []) + ids + ([self.eos_id] if add_eos else [])

    # --- decoding -----------------------------------------------------------------------------------------
    def id_to_token(self, i: int) -> str | None:
        if i in self.added_id_to_token:
            return self.added_id_to_token[i]
        return self.pieces[i] if 0 <= i < len(self.pieces) else None

    def decode(self, ids: Iterable[int], *, skip_special_tokens: bool = False,
               clean_up_tokenization_spaces: bool = True) -> str:
        """`tokenizer.decode(ids, skip_special_tokens=..., clean_up_tokenization_spaces=...)`."""
        tokens = []
        for i in ids:
            token = self.id_to_token(int(i))
            if token is None or (skip_special_tokens and token in self.added):
                continue  # tokenizers drops ids it cannot map
            tokens.append(token)
        text = "".join(t.replace(SPACE, "") if k == 0 else t.replace(SPACE, " ") for k, t in enumerate(tokens))
        return clean_up_tokenization(text) if clean_up_tokenization_spaces else text


def clean_up_tokenization(text: str) -> str:
    """transformers' `PreTrainedTokenizerBase.clean_up_tokenization` (4.29.2)."""
    return (text.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",").replace(" ' ", "'")
            .replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s").replace(" 've", "'ve")
            .replace(" 're", "'re"))


def _model_bytes(model: Any) -> bytes:
    if isinstance(model, (bytes, bytearray)):
        return bytes(model)
    if isinstance(model, (str, os.PathLike)):
        with open(model, "rb") as f:
            return f.read()
    if hasattr(model, "serialized_model_proto"):  # sentencepiece.SentencePieceProcessor
        return model.serialized_model_proto()
    raise TypeError(f"expected a .model path, its bytes or a SentencePieceProcessor, got {type(model).__name__}")
