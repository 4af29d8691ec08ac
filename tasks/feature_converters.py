"""Feature converter from task examples ("inputs", "targets", optional "objective") to model batches.

Unlike `seqio.EncDecFeatureConverter`, it never infers padding from token values (our id 0 is `<s>`,
not padding) and always emits segment ids and positions, packed or not:

  encoder_input_tokens, encoder_segment_ids (1..n real, 0 padding), encoder_positions (0-based, per
  segment), decoder_input_tokens (targets shifted right, `decoder_start_token_id` first in every
  segment), decoder_target_tokens, decoder_loss_weights, decoder_segment_ids, decoder_positions,
  decoder_objective_ids (per target token: 0 denoise, 1 CLM, -1 other or padding).
"""

from __future__ import annotations

from collections.abc import Mapping

import seqio
import tensorflow as tf

from tasks import data_stats
from tasks.packing import pack_sequences
from tasks.preprocessors import OBJECTIVE_OTHER

_Spec = seqio.FeatureConverter.FeatureSpec
# Objective ids are stored +2 while packing/padding so that every real value is >= 1 and padding
# (0) reads back as -1 ("other").
_OBJECTIVE_SHIFT = 2


class AlexaTMFeatureConverter(seqio.FeatureConverter):
    """Encoder-decoder feature converter with explicit segment ids (see the module docstring).

    Args:
      decoder_start_token_id: first decoder input of every segment (the model config owns it).
      pack: pack consecutive examples into each row (greedy, in order) or pad one example per row.
      count_skipped: count examples dropped before packing (empty inputs or targets) in
        `tasks.data_stats` as `converter_skipped_empty`.
    """

    TASK_FEATURES = {
        "inputs": _Spec(dtype=tf.int32),
        "targets": _Spec(dtype=tf.int32),
    }
    MODEL_FEATURES = {
        "encoder_input_tokens": _Spec(dtype=tf.int32),
        "encoder_segment_ids": _Spec(dtype=tf.int32),
        "encoder_positions": _Spec(dtype=tf.int32),
        "decoder_input_tokens": _Spec(dtype=tf.int32),
        "decoder_target_tokens": _Spec(dtype=tf.int32),
        "decoder_loss_weights": _Spec(dtype=tf.int32),
        "decoder_segment_ids": _Spec(dtype=tf.int32),
        "decoder_positions": _Spec(dtype=tf.int32),
        "decoder_objective_ids": _Spec(dtype=tf.int32),
    }
    # Segment ids and positions are MODEL_FEATURES here (always emitted), so nothing packing-only.
    PACKING_FEATURE_DTYPES = {}

    def __init__(
        self,
        *,
        decoder_start_token_id: int,
        pack: bool = True,
        apply_length_check: bool = True,
        count_skipped: bool = True,
    ):
        super().__init__(pack=pack, apply_length_check=apply_length_check, bos_id=decoder_start_token_id)
        self._count_skipped = count_skipped

    @property
    def decoder_start_token_id(self) -> int:
        return self.bos_id

    # Plain TF ops: skip autograph's rewriting (see tasks.preprocessors).
    @tf.autograph.experimental.do_not_convert
    def _with_objective(self, ex: Mapping[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        objective = tf.cast(ex.get("objective", OBJECTIVE_OTHER), tf.int32)
        targets = tf.cast(ex["targets"], tf.int32)
        return {
            "inputs": tf.cast(ex["inputs"], tf.int32),
            "targets": targets,
            "objective": tf.fill(tf.shape(targets), objective + _OBJECTIVE_SHIFT),
        }

    def _convert_features(
        self, ds: tf.data.Dataset, task_feature_lengths: Mapping[str, int]
    ) -> tf.data.Dataset:
        enc_len, dec_len = task_feature_lengths["inputs"], task_feature_lengths["targets"]
        ds = ds.map(self._with_objective, num_parallel_calls=tf.data.AUTOTUNE)
        lengths = {"inputs": enc_len, "targets": dec_len, "objective": dec_len}
        if self.pack:
            # An empty side would shift that side's segment numbering against the other's.
            @tf.autograph.experimental.do_not_convert
            def nonempty(ex):
                empty = tf.logical_or(tf.size(ex["inputs"]) == 0, tf.size(ex["targets"]) == 0)
                if self._count_skipped:
                    empty = data_stats.count_if(empty, "converter_skipped_empty")
                return tf.logical_not(empty)

            ds = pack_sequences(ds.filter(nonempty), lengths)
        else:
            @tf.autograph.experimental.do_not_convert
            def add_segments(ex):
                out = dict(ex)
                for k in ("inputs", "targets"):
                    n = tf.size(ex[k][: lengths[k]])
                    out[f"{k}_segment_ids"] = tf.ones([n], tf.int32)
                    out[f"{k}_positions"] = tf.range(n, dtype=tf.int32)
                return out

            ds = ds.map(add_segments, num_parallel_calls=tf.data.AUTOTUNE)
            pad_lengths = dict(lengths)
            for k in ("inputs", "targets"):
                pad_lengths[f"{k}_segment_ids"] = pad_lengths[f"{k}_positions"] = lengths[k]
            ds = seqio.utils.trim_and_pad_dataset(ds, pad_lengths)
        return ds.map(self._to_model_features, num_parallel_calls=tf.data.AUTOTUNE)

    @tf.autograph.experimental.do_not_convert
    def _to_model_features(self, ex: Mapping[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        enc_seg, dec_seg = ex["inputs_segment_ids"], ex["targets_segment_ids"]
        dec_real = dec_seg > 0
        zeros = tf.zeros_like(ex["targets"])
        decoder_inputs = seqio.utils.make_autoregressive_inputs(
            ex["targets"], sequence_id=dec_seg, bos_id=self.decoder_start_token_id
        )
        return {
            "encoder_input_tokens": tf.where(enc_seg > 0, ex["inputs"], tf.zeros_like(ex["inputs"])),
            "encoder_segment_ids": enc_seg,
            "encoder_positions": ex["inputs_positions"],
            "decoder_input_tokens": tf.where(dec_real, decoder_inputs, zeros),
            "decoder_target_tokens": tf.where(dec_real, ex["targets"], zeros),
            "decoder_loss_weights": tf.cast(dec_real, tf.int32),
            "decoder_segment_ids": dec_seg,
            "decoder_positions": ex["targets_positions"],
            "decoder_objective_ids": tf.where(dec_real, ex["objective"] - _OBJECTIVE_SHIFT, OBJECTIVE_OTHER),
        }

    def get_model_feature_lengths(self, task_feature_lengths: Mapping[str, int]) -> dict[str, int]:
        enc_len, dec_len = task_feature_lengths["inputs"], task_feature_lengths["targets"]
        return {k: (enc_len if k.startswith("encoder_") else dec_len) for k in self.MODEL_FEATURES}
