"""Small models and checkpoints for the decoding, API and inference tests (built without compiling `init`)."""

from __future__ import annotations

from pathlib import Path

import flax.linen as nn
import jax
import numpy as np
import sentencepiece as spm

from alexatm_jax.checkpoint import params as checkpoints
from alexatm_jax.model.config import ModelConfig
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel

REPO = Path(__file__).resolve().parents[2]
VOCAB_PATH = REPO / "tasks" / "data" / "default_spm.model"
VOCAB_SIZE = spm.SentencePieceProcessor(model_file=str(VOCAB_PATH)).GetPieceSize()  # The model matches it.


def small_config(**overrides) -> ModelConfig:
    values = dict(vocab_size=VOCAB_SIZE, d_model=32, num_encoder_layers=2, num_decoder_layers=2,
                  num_encoder_heads=4, num_decoder_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=48,
                  max_position_embeddings=64, decoder_start_token_id=0)
    return ModelConfig(**{**values, **overrides})


def random_params(model: EncoderDecoderModel, seed: int = 0, *, scale: float = 1.0) -> dict:
    """Random numpy parameters shaped like `model.init`'s: N(0, 0.02 * scale) weights, layer-norm scales near 1,
    small non-zero biases (so every parameter matters)."""
    rng = np.random.default_rng(seed)
    abstract = nn.meta.unbox(model.abstract_params())

    def make(path, x):
        name = path[-1].key
        if name == "scale":
            value = 1.0 + 0.1 * rng.standard_normal(x.shape)
        elif name in ("bias", "final_logits_bias"):
            value = 0.02 * rng.standard_normal(x.shape)
        else:
            value = 0.02 * scale * rng.standard_normal(x.shape)
        return value.astype(np.float32)

    return jax.tree_util.tree_map_with_path(make, abstract)


def save_checkpoint(directory: Path, config: ModelConfig | None = None, *, seed: int = 0, scale: float = 1.0,
                    vocab_path: Path | None = VOCAB_PATH) -> tuple[Path, dict]:
    """A checkpoint directory `load()` reads, with random parameters; returns (directory, params)."""
    config = config or small_config()
    params = random_params(EncoderDecoderModel(config), seed, scale=scale)
    checkpoints.save_params(directory, params, config, vocab_path=None if vocab_path is None else str(vocab_path))
    return directory, params
