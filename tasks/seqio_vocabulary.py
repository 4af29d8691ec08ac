"""`seqio.Vocabulary` for AlexaTM SentencePiece models (imports seqio and TensorFlow)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import seqio
import tensorflow as tf

from tasks.vocabulary import DEFAULT_SPM_PATH, REQUIRED_PIECES, SentencePieceTokenizer, get_tokenizer


class AlexaTMVocabulary(seqio.SentencePieceVocabulary):
    """SentencePiece vocabulary with the AlexaTM special pieces, ids used unchanged.

    `pad_id` stays seqio's 0 (seqio pads with 0; nothing downstream infers padding from token values);
    the model's own pad id is `tokenizer_pad_id`. Constructing one checks that `required_pieces` exist.
    """

    def __init__(self, sentencepiece_model_file: str, required_pieces: Sequence[str] = REQUIRED_PIECES):
        # Validate eagerly (the seqio parent loads lazily) and keep a TF-free tokenizer for the special ids.
        self._required_pieces = tuple(required_pieces)
        self._alexatm_tokenizer = get_tokenizer(sentencepiece_model_file, required_pieces=self._required_pieces)
        super().__init__(sentencepiece_model_file)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_alexatm_tokenizer", None)  # rebuilt from the file; keeps __eq__ about the file only
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        self._alexatm_tokenizer = get_tokenizer(self.sentencepiece_model_file,
                                                required_pieces=self._required_pieces)

    @property
    def alexatm_tokenizer(self) -> SentencePieceTokenizer:
        """The TF-free tokenizer of the same model."""
        return self._alexatm_tokenizer

    @property
    def clm_id(self) -> int:
        return self._alexatm_tokenizer.clm_id

    @property
    def doc_id(self) -> int:
        return self._alexatm_tokenizer.doc_id

    @property
    def mask_id(self) -> int:
        return self._alexatm_tokenizer.mask_id

    @property
    def tokenizer_pad_id(self) -> int | None:
        return self._alexatm_tokenizer.pad_id

    def _encode(self, s: str) -> list[int]:
        return self._alexatm_tokenizer.encode(s)

    # Plain TF ops: skip autograph's rewriting (see tasks.preprocessors).
    @tf.autograph.experimental.do_not_convert
    def _encode_tf(self, s: tf.Tensor) -> tf.Tensor | tf.RaggedTensor:
        ids = super()._encode_tf(s)
        space_id = self._alexatm_tokenizer.space_id
        specials = sorted(self._alexatm_tokenizer.special_piece_ids)
        if space_id is None or not specials:
            return ids
        # Same rule as SentencePieceTokenizer.encode: drop a lone "\u2581" right before a special piece.
        rt = ids if isinstance(ids, tf.RaggedTensor) else tf.RaggedTensor.from_tensor(ids[tf.newaxis])
        flat = rt.flat_values
        rows = rt.value_rowids()
        nxt = tf.concat([flat[1:], tf.fill([1], tf.constant(-1, flat.dtype))], 0)
        same_row = tf.concat([tf.equal(rows[1:], rows[:-1]), [False]], 0)
        next_special = tf.reduce_any(tf.equal(nxt[:, None], tf.constant(specials, flat.dtype)[None, :]), -1)
        keep = tf.logical_not(tf.equal(flat, space_id) & next_special & same_row)
        rt = tf.ragged.boolean_mask(rt, rt.with_flat_values(keep))
        return rt if isinstance(ids, tf.RaggedTensor) else rt[0]

    def __str__(self) -> str:
        return f"AlexaTMVocabulary(file={self.sentencepiece_model_file}, vocab_size={self.vocab_size})"


def get_vocabulary(
    path: str | os.PathLike | None = None, *, required_pieces: Sequence[str] = REQUIRED_PIECES
) -> AlexaTMVocabulary:
    """The `seqio.Vocabulary` for `path` (default: the project's default vocabulary)."""
    return AlexaTMVocabulary(os.fspath(path or DEFAULT_SPM_PATH), required_pieces=required_pieces)


def default_vocabulary() -> AlexaTMVocabulary:
    """The project's default vocabulary (`tasks/data/default_spm.model`, 7,000 pieces, 12 languages)."""
    return get_vocabulary(DEFAULT_SPM_PATH)
