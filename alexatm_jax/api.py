"""The public Python API: `load()` a checkpoint and get a `Seq2SeqLM`.

`load` reads a directory written by the converter or a training `MODEL_DIR` (latest complete step); its model
config is stored beside the parameters, and keyword overrides change run-time fields such as `attention_impl`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from alexatm_jax import checkpoints
from alexatm_jax.config import ModelConfig
from alexatm_jax.models import EncoderDecoderModel


class Seq2SeqLM:
    """A loaded model: config, parameters and the calls users make (`logits`; decoding adds more)."""

    def __init__(self, config: ModelConfig, params: Any, *, vocab_path: str | None = None):
        self.config = config
        self.params = params
        self.vocab_path = vocab_path
        self.model = EncoderDecoderModel(config)

    @functools.cached_property
    def _logits_fn(self):
        return jax.jit(self.model.logits)

    def logits(self, encoder_input_tokens: Any, decoder_input_tokens: Any,
               encoder_mask: Any | None = None) -> np.ndarray:
        """Teacher-forced logits [batch, target_len, vocab] in float32.

        `encoder_mask` is 1 for real tokens and 0 for padding (default: all real). Token ids are used as given,
        whatever vocabulary produced them.
        """
        enc = _as_int_matrix(encoder_input_tokens, "encoder_input_tokens")
        dec = _as_int_matrix(decoder_input_tokens, "decoder_input_tokens")
        if enc.shape[0] != dec.shape[0]:
            raise ValueError(f"Batch sizes differ: encoder {enc.shape[0]} vs decoder {dec.shape[0]}.")
        for name, tokens in (("encoder", enc), ("decoder", dec)):
            if tokens.shape[1] > self.config.max_position_embeddings:
                raise ValueError(
                    f"{name} length {tokens.shape[1]} exceeds max_position_embeddings="
                    f"{self.config.max_position_embeddings}: truncate the input."
                )
            if tokens.size and (tokens.min() < 0 or tokens.max() >= self.config.vocab_size):
                raise ValueError(f"{name} token ids must lie in [0, {self.config.vocab_size}).")
        segment = np.ones(enc.shape, np.int32) if encoder_mask is None else (
            _as_int_matrix(encoder_mask, "encoder_mask") != 0).astype(np.int32)
        if segment.shape != enc.shape:
            raise ValueError(f"encoder_mask shape {segment.shape} differs from encoder_input_tokens {enc.shape}.")
        batch = {"encoder_input_tokens": enc, "decoder_input_tokens": dec, "encoder_segment_ids": segment}
        return np.asarray(self._logits_fn(self.params, batch), dtype=np.float32)


def load(path: str | Path, *, dtype: Any = None, **config_overrides: Any) -> Seq2SeqLM:
    """Loads a converted checkpoint directory or the latest step of a training `MODEL_DIR`.

    `dtype` (e.g. "bfloat16") sets the compute dtype and casts the parameters to it; other keywords override
    config fields (e.g. `attention_impl="pallas"`, `scan_layers=False`).
    """
    checkpoint_dir = checkpoints.find_checkpoint(path)
    config = ModelConfig.load(checkpoints.find_config_dir(checkpoint_dir))
    if dtype is not None:
        name = jnp.dtype(dtype).name
        config_overrides = {"dtype": name, "param_dtype": name, **config_overrides}
    config = config.replace(**config_overrides)
    params = checkpoints.restore_params(checkpoint_dir, config, dtype=config.weights_dtype)
    metadata = checkpoints.read_metadata(checkpoint_dir)
    return Seq2SeqLM(config, params, vocab_path=metadata.get("vocab_path"))


def _as_int_matrix(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must be a [batch, length] array of integer token ids, got {array.dtype} "
                         f"with shape {array.shape}.")
    return array.astype(np.int32)
