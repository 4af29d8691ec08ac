"""SentencePiece vocabularies with the AlexaTM special tokens.

Two layers, so that the model side runs without TensorFlow:

* `SentencePieceTokenizer` (here): pure python (sentencepiece only) encode/decode of strings and the ids of the
  special pieces. Safe to import on GPU machines with no TensorFlow or seqio.
* `AlexaTMVocabulary` (`tasks.seqio_vocabulary`): the `seqio.Vocabulary` used by tasks, built on this one.

Id layout of the vocabularies we train (`tasks.train_vocab`), the official one for the first three:
`<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3, `[CLM]`=4, `[DOC]`=5, `[MASK]`=6. The official 150K file
(`20b_tokenizer.model`) is used unchanged: special pieces are looked up by name.

Two tokenization conventions, so that a model is fed text exactly as it was trained (a checkpoint's metadata
names its convention; `alexatm_jax.load` and the eval entry point read it):

* `PROJECT_TOKENIZATION` ("project"): what the project's SeqIO tasks feed its own pretraining: SentencePiece
  ids, a lone "▁" right before a special piece dropped (so "[CLM] text" starts with the `[CLM]` id), `</s>`
  appended to inputs and targets, no `<s>`.
* `OFFICIAL_TOKENIZATION` ("official"): what the official release feeds AlexaTM 20B (`tasks.official_tokenization`:
  the official tokenizer's whitespace and special-token rules), `<s> ... </s>` around inputs and around targets
  (`tokenizer(text_target=...)`); decoding skips the special tokens and cleans up spaces as the scripts do.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence
from typing import Any

import sentencepiece as spm

from tasks.official_tokenization import OfficialTokenizer

PROJECT_TOKENIZATION = "project"
OFFICIAL_TOKENIZATION = "official"
TOKENIZATIONS: tuple[str, ...] = (PROJECT_TOKENIZATION, OFFICIAL_TOKENIZATION)
CLM_PIECE = "[CLM]"  # starts a causal-LM input
CLM_PREFIX = CLM_PIECE + " "  # how a text prompt asks for CLM mode (the official scripts' `"[CLM] " + text`)
DOC_PIECE = "[DOC]"  # separates packed documents
MASK_PIECE = "[MASK]"
BOS_PIECE, PAD_PIECE, EOS_PIECE, UNK_PIECE = "<s>", "<pad>", "</s>", "<unk>"
SPACE_PIECE = "\u2581"
SPECIAL_PIECES: tuple[str, ...] = (CLM_PIECE, DOC_PIECE, MASK_PIECE)
# What the objectives insert ([CLM] before CLM inputs, [DOC] between packed documents); checked when a
# vocabulary is loaded. [MASK] is optional (BART-style denoising inserts no mask): `mask_id` raises if absent.
REQUIRED_PIECES: tuple[str, ...] = (CLM_PIECE, DOC_PIECE)
# Ids the trainer assigns (tasks.train_vocab); the official file is looked up by name instead.
TRAINED_LAYOUT: dict[str, int] = {
    BOS_PIECE: 0, PAD_PIECE: 1, EOS_PIECE: 2, UNK_PIECE: 3, CLM_PIECE: 4, DOC_PIECE: 5, MASK_PIECE: 6,
}

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
DEFAULT_SPM_PATH = os.path.join(DATA_DIR, "default_spm.model")
# The same corpus in 3,000 pieces, for the CPU main job's tiny model: its LM head (vocab x d_model) is the largest
# GEMM of the tiny step, and with 3,000 rows the step runs ~1.6x faster (benchmarks/RESULTS.md, "A 3,000-piece
# vocabulary") while sentences grow ~20% in tokens.
DEFAULT_3K_SPM_PATH = os.path.join(DATA_DIR, "default_spm_3k.model")


def _read_bytes(path: str | os.PathLike) -> bytes:
    path = os.fspath(path)
    if "://" in path:  # gs://, s3://...: only TensorFlow's filesystems know these.
        import tensorflow as tf

        with tf.io.gfile.GFile(path, "rb") as f:
            return f.read()
    with open(path, "rb") as f:
        return f.read()


def drop_space_before_special(ids: list[int], space_id: int | None, special_ids: frozenset[int]) -> list[int]:
    """Removes a lone "▁" piece that directly precedes a special piece."""
    if space_id is None:
        return ids
    return [i for k, i in enumerate(ids) if not (i == space_id and k + 1 < len(ids) and ids[k + 1] in special_ids)]


class SentencePieceTokenizer:
    """TF-free SentencePiece tokenizer that knows the AlexaTM special pieces.

    Args:
      model_file: path of a `.model` file (local, or any TF filesystem path).
      model_proto: serialized model instead of a file.
      required_pieces: special pieces that must exist; a missing one raises `ValueError` naming it.
      tokenization: `PROJECT_TOKENIZATION` or `OFFICIAL_TOKENIZATION` (see the module docstring).
    """

    def __init__(
        self,
        model_file: str | os.PathLike | None = None,
        *,
        model_proto: bytes | None = None,
        required_pieces: Sequence[str] = REQUIRED_PIECES,
        tokenization: str = PROJECT_TOKENIZATION,
    ):
        if (model_file is None) == (model_proto is None):
            raise ValueError("Pass exactly one of model_file or model_proto.")
        if tokenization not in TOKENIZATIONS:
            raise ValueError(f"tokenization={tokenization!r} is unknown: use one of {TOKENIZATIONS}.")
        self.tokenization = tokenization
        self.model_file = None if model_file is None else os.fspath(model_file)
        self.model_proto = model_proto if model_proto is not None else _read_bytes(self.model_file)
        self.sp = spm.SentencePieceProcessor()
        self.sp.LoadFromSerializedProto(self.model_proto)
        self.required_pieces = tuple(required_pieces)
        missing = [p for p in self.required_pieces if not self.has_piece(p)]
        if missing:
            raise ValueError(
                f"SentencePiece model {self.model_file or '<proto>'} lacks the required piece(s) {missing}. "
                "Train a vocabulary with `python -m tasks.train_vocab` (it reserves "
                f"{list(SPECIAL_PIECES)}), or pass required_pieces=... without them."
            )
        self.official = OfficialTokenizer(self.model_proto) if tokenization == OFFICIAL_TOKENIZATION else None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["sp"], state["official"]
        for cached in ("space_id", "special_piece_ids"):
            state.pop(cached, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.sp = spm.SentencePieceProcessor()
        self.sp.LoadFromSerializedProto(self.model_proto)
        self.official = OfficialTokenizer(self.model_proto) if self.tokenization == OFFICIAL_TOKENIZATION else None

    def __repr__(self) -> str:
        return (f"SentencePieceTokenizer({self.model_file!r}, vocab_size={self.vocab_size}, "
                f"tokenization={self.tokenization!r})")

    # --- pieces and ids -------------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return self.sp.GetPieceSize()

    def has_piece(self, piece: str) -> bool:
        """Whether `piece` is in the vocabulary (sentencepiece maps unknown pieces to unk)."""
        i = self.sp.PieceToId(piece)
        return self.sp.IdToPiece(i) == piece

    def piece_to_id(self, piece: str) -> int:
        """Id of `piece`; `KeyError` (naming the piece) if the vocabulary lacks it."""
        if not self.has_piece(piece):
            raise KeyError(f"Piece {piece!r} is not in the SentencePiece model {self.model_file or '<proto>'}.")
        return self.sp.PieceToId(piece)

    def id_to_piece(self, i: int) -> str:
        return self.sp.IdToPiece(int(i))

    def _special_id(self, own: int, piece: str) -> int | None:
        if own >= 0:
            return own
        return self.sp.PieceToId(piece) if self.has_piece(piece) else None

    @property
    def bos_id(self) -> int | None:
        return self._special_id(self.sp.bos_id(), BOS_PIECE)

    @property
    def pad_id(self) -> int | None:
        """The model's own pad id (1 in our layout); note seqio pads with 0 regardless."""
        return self._special_id(self.sp.pad_id(), PAD_PIECE)

    @property
    def eos_id(self) -> int | None:
        return self._special_id(self.sp.eos_id(), EOS_PIECE)

    @property
    def unk_id(self) -> int | None:
        return self._special_id(self.sp.unk_id(), UNK_PIECE)

    @property
    def clm_id(self) -> int:
        return self.piece_to_id(CLM_PIECE)

    @property
    def doc_id(self) -> int:
        return self.piece_to_id(DOC_PIECE)

    @property
    def mask_id(self) -> int:
        return self.piece_to_id(MASK_PIECE)

    def special_ids(self) -> dict[str, int]:
        """Name -> id for every special piece present (control tokens and the AlexaTM pieces)."""
        out = {}
        for name, i in (("bos", self.bos_id), ("pad", self.pad_id), ("eos", self.eos_id), ("unk", self.unk_id)):
            if i is not None:
                out[name] = i
        for name, piece in (("clm", CLM_PIECE), ("doc", DOC_PIECE), ("mask", MASK_PIECE)):
            if self.has_piece(piece):
                out[name] = self.sp.PieceToId(piece)
        return out

    # --- strings ----------------------------------------------------------------------------------------
    @functools.cached_property
    def space_id(self) -> int | None:
        """Id of the lone word-boundary piece "▁", if the model has one."""
        return self.sp.PieceToId(SPACE_PIECE) if self.has_piece(SPACE_PIECE) else None

    @functools.cached_property
    def special_piece_ids(self) -> frozenset[int]:
        return frozenset(self.sp.PieceToId(p) for p in SPECIAL_PIECES if self.has_piece(p))

    def encode(self, text: str, *, add_eos: bool = False) -> list[int]:
        """Token ids of the text alone (no `<s>`), `</s>` appended with `add_eos`; special pieces written in the
        text (e.g. "[CLM] ...") map to their ids.

        Project convention: SentencePiece's dummy prefix turns "[CLM] text" into "▁", "[CLM]", ...: that lone "▁"
        before a special piece is dropped (here and in `AlexaTMVocabulary`), so text prompts match the ids the
        preprocessors insert. Official convention: the official tokenizer's ids (which keep it).
        """
        if self.official is not None:
            ids = self.official.tokenize_ids(text)
        else:
            ids = drop_space_before_special(self.sp.EncodeAsIds(text), self.space_id, self.special_piece_ids)
        return ids + [self.eos_id] if add_eos else ids

    def encode_input(self, text: str) -> list[int]:
        """The model input for `text`: `text </s>` (project) or `<s> text </s>` (official, `tokenizer(text)`)."""
        return self._with_bos(self.encode(text, add_eos=True))

    def encode_target(self, text: str, *, add_eos: bool = True) -> list[int]:
        """The decoder target for `text`: `text [</s>]` (project) or `<s> text [</s>]` (official,
        `tokenizer(text_target=text)`)."""
        return self._with_bos(self.encode(text, add_eos=add_eos))

    def _with_bos(self, ids: list[int]) -> list[int]:
        return [self.official.bos_id, *ids] if self.official is not None else ids

    @property
    def adds_bos(self) -> bool:
        """Whether inputs and targets start with `<s>` (the official convention)."""
        return self.official is not None

    def clm_prefix_ids(self) -> list[int]:
        """The ids that start every CLM-mode input before its text (`[CLM]`; official: `<s> ▁ [CLM]`); [] when
        the vocabulary has no `[CLM]` piece. Truncating a long input from the left keeps them first."""
        if not self.has_piece(CLM_PIECE):
            return []
        ids = self.encode_input(CLM_PREFIX + "x")
        return ids[:ids.index(self.clm_id) + 1]

    def encode_batch(self, texts: Iterable[str], *, add_eos: bool = False) -> list[list[int]]:
        return [self.encode(t, add_eos=add_eos) for t in texts]

    def decode(self, ids: Iterable[int], *, stop_at_eos: bool = True, skip_ids: Iterable[int] = ()) -> str:
        """Text of `ids`, up to the first EOS when `stop_at_eos`; ids >= vocab_size decode as unk (project) or are
        dropped (official, which also drops its special tokens and cleans up spaces, as the official scripts'
        `decode(..., skip_special_tokens=True)`)."""
        out = []
        skip = set(int(i) for i in skip_ids)
        for i in ids:
            i = int(i)
            if stop_at_eos and i == self.eos_id:
                break
            if i in skip:
                continue
            out.append(i if 0 <= i < self.vocab_size or self.official is not None else self.unk_id)
        if self.official is not None:
            return self.official.decode(out, skip_special_tokens=True)
        return self.sp.DecodeIds(out)


@functools.lru_cache(maxsize=16)
def _cached_tokenizer(path: str, required_pieces: tuple[str, ...], tokenization: str) -> SentencePieceTokenizer:
    return SentencePieceTokenizer(path, required_pieces=required_pieces, tokenization=tokenization)


def get_tokenizer(
    path: str | os.PathLike | None = None, *, required_pieces: Sequence[str] = REQUIRED_PIECES,
    tokenization: str = PROJECT_TOKENIZATION,
) -> SentencePieceTokenizer:
    """TF-free tokenizer for `path` (default: the project's default vocabulary) in a tokenization convention;
    cached per path and convention."""
    return _cached_tokenizer(os.fspath(path or DEFAULT_SPM_PATH), tuple(required_pieces), tokenization)
