"""`seqio.Vocabulary` for AlexaTM SentencePiece models (imports seqio and TensorFlow)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import seqio
import tensorflow as tf

from tasks.vocabulary import (
    DEFAULT_3K_SPM_PATH,
    DEFAULT_SPM_PATH,
    PROJECT_TOKENIZATION,
    REQUIRED_PIECES,
    SentencePieceTokenizer,
    get_tokenizer,
)


class AlexaTMVocabulary(seqio.SentencePieceVocabulary):
    """SentencePiece vocabulary with the AlexaTM special pieces, ids used unchanged, in a tokenization convention.

    `pad_id` stays seqio's 0 (seqio pads with 0; nothing downstream infers padding from token values);
    the model's own pad id is `tokenizer_pad_id`. Constructing one checks that `required_pieces` exist.
    In the official convention (`tasks.vocabulary`) `encode` gives `<s>` and the text's official ids (seqio's
    `append_eos` adds `</s>`), and `decode` is the official scripts' (special tokens skipped, spaces cleaned up);
    TensorFlow calls go through `tf.py_function` (the official rules are Python).
    """

    def __init__(self, sentencepiece_model_file: str, required_pieces: Sequence[str] = REQUIRED_PIECES,
                 tokenization: str = PROJECT_TOKENIZATION):
        # Validate eagerly (the seqio parent loads lazily) and keep a TF-free tokenizer for the special ids.
        self._required_pieces = tuple(required_pieces)
        self._tokenization = tokenization
        self._alexatm_tokenizer = get_tokenizer(sentencepiece_model_file, required_pieces=self._required_pieces,
                                                tokenization=tokenization)
        super().__init__(sentencepiece_model_file)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_alexatm_tokenizer", None)  # rebuilt from the file
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        self._alexatm_tokenizer = get_tokenizer(self.sentencepiece_model_file, required_pieces=self._required_pieces,
                                                tokenization=self._tokenization)

    def __eq__(self, other) -> bool:
        return super().__eq__(other) and getattr(other, "tokenization", PROJECT_TOKENIZATION) == self.tokenization

    def __hash__(self) -> int:
        return hash((self.sentencepiece_model_file, self.tokenization))

    @property
    def alexatm_tokenizer(self) -> SentencePieceTokenizer:
        """The TF-free tokenizer of the same model and convention."""
        return self._alexatm_tokenizer

    @property
    def tokenization(self) -> str:
        return self._tokenization

    @property
    def adds_bos(self) -> bool:
        """Whether `encode` starts with `<s>` (the official convention)."""
        return self._alexatm_tokenizer.adds_bos

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
        tokenizer = self._alexatm_tokenizer
        return tokenizer.encode_target(s, add_eos=False) if tokenizer.adds_bos else tokenizer.encode(s)

    def _decode(self, ids) -> str:
        if not self.adds_bos:
            return super()._decode(ids)
        return self._alexatm_tokenizer.decode([int(i) for i in ids], stop_at_eos=False)

    # Plain TF ops: skip autograph's rewriting (see tasks.preprocessors).
    @tf.autograph.experimental.do_not_convert
    def _decode_tf(self, ids: tf.Tensor) -> tf.Tensor:
        if not self.adds_bos:
            return super()._decode_tf(ids)
        ids = tf.convert_to_tensor(ids)
        rows = tf.reshape(ids, [-1, tf.shape(ids)[-1]]) if ids.shape.rank else tf.reshape(ids, [1, -1])
        texts = tf.py_function(lambda x: tf.constant([self._decode(r) for r in x.numpy()], tf.string), [rows],
                               tf.string)
        return tf.reshape(texts, tf.shape(ids)[:-1])

    @tf.autograph.experimental.do_not_convert
    def _encode_tf(self, s: tf.Tensor) -> tf.Tensor | tf.RaggedTensor:
        if self.adds_bos:
            return self._official_encode_tf(s)
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

    @tf.autograph.experimental.do_not_convert
    def _official_encode_tf(self, s: tf.Tensor) -> tf.Tensor | tf.RaggedTensor:
        """The official ids of a string or a 1-D batch of strings (ragged), through `tf.py_function`."""
        s = tf.convert_to_tensor(s)

        def encode(strings):
            ids = [self._encode(v.decode("utf-8")) for v in strings.numpy()]
            return tf.constant([i for row in ids for i in row], tf.int32), tf.constant(list(map(len, ids)), tf.int64)

        values, lengths = tf.py_function(encode, [tf.reshape(s, [-1])], (tf.int32, tf.int64))
        values.set_shape([None])
        lengths.set_shape([None])
        ragged = tf.RaggedTensor.from_row_lengths(values, lengths)
        return ragged[0] if s.shape.rank == 0 else ragged

    def __str__(self) -> str:
        return (f"AlexaTMVocabulary(file={self.sentencepiece_model_file}, vocab_size={self.vocab_size}, "
                f"tokenization={self.tokenization})")


def get_vocabulary(
    path: str | os.PathLike | None = None, *, required_pieces: Sequence[str] = REQUIRED_PIECES,
    tokenization: str = PROJECT_TOKENIZATION,
) -> AlexaTMVocabulary:
    """The `seqio.Vocabulary` for `path` (default: the project's default vocabulary) in a tokenization convention."""
    return AlexaTMVocabulary(os.fspath(path or DEFAULT_SPM_PATH), required_pieces=required_pieces,
                             tokenization=tokenization)


def default_vocabulary() -> AlexaTMVocabulary:
    """The project's default vocabulary (`tasks/data/default_spm.model`, 7,000 pieces, 12 languages)."""
    return get_vocabulary(DEFAULT_SPM_PATH)


def default_3k_vocabulary() -> AlexaTMVocabulary:
    """The default corpus's 3,000-piece vocabulary (`tasks/data/default_spm_3k.model`): the CPU main job's."""
    return get_vocabulary(DEFAULT_3K_SPM_PATH)


def generation_features(vocabulary: seqio.Vocabulary) -> dict[str, seqio.Feature]:
    """`inputs` and `targets` with EOS: the output features of the generation eval tasks (Flores-101, XSum,
    MLSum, SQuAD v2)."""
    return {
        "inputs": seqio.Feature(vocabulary, add_eos=True),
        "targets": seqio.Feature(vocabulary, add_eos=True),
    }
