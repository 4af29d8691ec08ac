"""The model configuration: one frozen dataclass (stored as JSON next to every checkpoint by
`alexatm_jax.checkpoint.run_dir`)."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax.numpy as jnp

from alexatm_jax.errors import ConfigError
from alexatm_jax.model.layers import INIT_STD

ATTENTION_IMPLS = ("xla", "pallas", "cudnn", "auto")
REMAT_POLICIES = ("none", "minimal", "full")
DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16, "float16": jnp.float16}


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Architecture and run-time choices of an AlexaTM encoder-decoder.

    Architecture fields mirror the official `AlexaTMSeq2SeqConfig`; the run-time fields (`dtype`,
    `scan_layers`, `remat_policy`, `attention_impl`, dropout rates) may be overridden at load time.
    """

    vocab_size: int = 32000
    d_model: int = 512
    num_encoder_layers: int = 6
    num_decoder_layers: int = 6
    num_encoder_heads: int = 8
    num_decoder_heads: int = 8
    encoder_ffn_dim: int = 2048
    decoder_ffn_dim: int = 2048
    max_position_embeddings: int = 1024
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    # Training from scratch: start the encoder's token-type table at zero and never train it. The official encoder
    # adds token type 0 to every input; a random vector common to all positions slows a tiny model's learning to
    # copy its input (docs/ARCHITECTURE.md, "Training from scratch"). The forward pass is unchanged (the table is
    # still added), so converted checkpoints and parity are unaffected.
    freeze_token_type_embedding: bool = False
    # Standard deviation of the normal initialiser of every weight matrix and embedding table. The official 0.02
    # (INIT_STD) suits wide models; at d_model 128 it starts attention's query-key products so small that a tiny model
    # takes thousands of steps to learn to copy, and about 1/sqrt(d_model) learns it in a few hundred
    # (docs/ARCHITECTURE.md, "Training from scratch"). Only initialisation reads it.
    init_std: float = INIT_STD
    # Dropout: residual/embedding, attention probabilities, FFN activations.
    dropout_rate: float = 0.0
    attention_dropout_rate: float = 0.0
    activation_dropout_rate: float = 0.0
    # Numerics and layout.
    dtype: str = "float32"
    param_dtype: str = "float32"
    scan_layers: bool = True
    remat_policy: str = "none"
    attention_impl: str = "xla"
    # Embedding sharing: AlexaTM 20B shares nothing (encoder embedding, decoder embedding, LM head).
    share_embeddings: bool = False
    tie_word_embeddings: bool = False
    # Special ids (official layout: <s>=0, <pad>=1, </s>=2).
    pad_token_id: int = 1
    bos_token_id: int = 0
    eos_token_id: int = 2
    decoder_start_token_id: int = 0

    def __post_init__(self) -> None:
        for heads, name in ((self.num_encoder_heads, "num_encoder_heads"),
                            (self.num_decoder_heads, "num_decoder_heads")):
            if heads <= 0 or self.d_model % heads:
                raise ConfigError(
                    f"d_model={self.d_model} is not divisible by {name}={heads}: choose a head count that "
                    f"divides d_model (e.g. {name}={_divisor_near(self.d_model, heads)})."
                )
        if self.attention_impl not in ATTENTION_IMPLS:
            raise ConfigError(f"attention_impl={self.attention_impl!r} is unknown: use one of {ATTENTION_IMPLS}.")
        if self.remat_policy not in REMAT_POLICIES:
            raise ConfigError(f"remat_policy={self.remat_policy!r} is unknown: use one of {REMAT_POLICIES}.")
        for field in ("dtype", "param_dtype"):
            if getattr(self, field) not in DTYPES:
                raise ConfigError(f"{field}={getattr(self, field)!r} is unknown: use one of {tuple(DTYPES)}.")
        if not self.init_std > 0:
            raise ConfigError(f"init_std must be positive, got {self.init_std}.")
        for field in ("vocab_size", "d_model", "num_encoder_layers", "num_decoder_layers",
                      "encoder_ffn_dim", "decoder_ffn_dim", "max_position_embeddings"):
            if getattr(self, field) <= 0:
                raise ConfigError(f"{field} must be positive, got {getattr(self, field)}.")

    @property
    def encoder_head_dim(self) -> int:
        return self.d_model // self.num_encoder_heads

    @property
    def decoder_head_dim(self) -> int:
        return self.d_model // self.num_decoder_heads

    @property
    def compute_dtype(self) -> Any:
        return DTYPES[self.dtype]

    @property
    def weights_dtype(self) -> Any:
        return DTYPES[self.param_dtype]

    def replace(self, **overrides: Any) -> ModelConfig:
        """A copy with some fields changed; unknown field names raise with the list of known ones."""
        _check_fields(overrides)
        return dataclasses.replace(self, **overrides)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ModelConfig:
        _check_fields(values)
        return cls(**values)


def _check_fields(values: dict[str, Any]) -> None:
    known = {f.name for f in dataclasses.fields(ModelConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"Unknown ModelConfig field(s) {unknown}; known fields: {sorted(known)}.")


def _divisor_near(n: int, target: int) -> int:
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    return min(divisors, key=lambda d: abs(d - max(target, 1)))
