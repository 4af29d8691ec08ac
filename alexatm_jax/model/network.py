"""The AlexaTM encoder-decoder as Flax modules, layer by layer as in the official release.

Encoder layer (pre-LN): `x + attn(LN(x))`, then `h + mlp(LN(h))`; a final LN after the stack. The encoder
embeds tokens + token type 0 + learned positions from 0. Decoder layer: self-attention (causal), cross-attention
over the encoder output, MLP, each pre-LN with a residual; a final LN; learned positions with an offset of 2.
Logits: `lm_head(h) + final_logits_bias`.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from alexatm_jax.model.attention import MultiHeadAttention
from alexatm_jax.model.config import ModelConfig
from alexatm_jax.model.layers import INIT_STD, MLP, AlexaTMLayerNorm, Embed, normal_init

EMBED_AXES = ("batch", "length", "embed")
# The official decoder reads position p from row p + 2 of its table (a fairseq/BART legacy).
DECODER_POSITION_OFFSET = 2


def _ones_if_none(segment_ids: jax.Array | None, tokens: jax.Array) -> jax.Array:
    return jnp.ones(tokens.shape, jnp.int32) if segment_ids is None else segment_ids


def _positions_if_none(positions: jax.Array | None, tokens: jax.Array) -> jax.Array:
    if positions is not None:
        return positions
    return jnp.broadcast_to(jnp.arange(tokens.shape[1], dtype=jnp.int32), tokens.shape)


class EncoderLayer(nn.Module):
    config: ModelConfig

    @nn.compact
    def __call__(self, x, segment_ids, deterministic: bool):
        cfg = self.config
        common = dict(dtype=cfg.compute_dtype, param_dtype=cfg.weights_dtype)
        h = AlexaTMLayerNorm(cfg.layer_norm_eps, name="self_attn_norm", **common)(x)
        h = MultiHeadAttention(
            cfg.num_encoder_heads, cfg.encoder_head_dim, cfg.attention_impl, cfg.attention_dropout_rate,
            name="self_attn", **common,
        )(h, h, segment_ids, segment_ids, causal=False, deterministic=deterministic)
        x = x + nn.Dropout(cfg.dropout_rate)(h, deterministic=deterministic)
        x = nn.with_logical_constraint(x, EMBED_AXES)
        h = AlexaTMLayerNorm(cfg.layer_norm_eps, name="mlp_norm", **common)(x)
        h = MLP(cfg.encoder_ffn_dim, cfg.activation_dropout_rate, name="mlp", **common)(
            h, deterministic=deterministic
        )
        x = x + nn.Dropout(cfg.dropout_rate)(h, deterministic=deterministic)
        return nn.with_logical_constraint(x, EMBED_AXES)


class DecoderLayer(nn.Module):
    config: ModelConfig

    @nn.compact
    def __call__(self, x, encoded, segment_ids, encoder_segment_ids, deterministic: bool, decode: bool):
        cfg = self.config
        common = dict(dtype=cfg.compute_dtype, param_dtype=cfg.weights_dtype)
        attention = functools.partial(
            MultiHeadAttention, cfg.num_decoder_heads, cfg.decoder_head_dim, cfg.attention_impl,
            cfg.attention_dropout_rate, **common,
        )
        h = AlexaTMLayerNorm(cfg.layer_norm_eps, name="self_attn_norm", **common)(x)
        h = attention(name="self_attn")(
            h, h, segment_ids, segment_ids, causal=True, deterministic=deterministic, decode=decode
        )
        x = x + nn.Dropout(cfg.dropout_rate)(h, deterministic=deterministic)
        h = AlexaTMLayerNorm(cfg.layer_norm_eps, name="cross_attn_norm", **common)(x)
        h = attention(is_cross_attention=True, name="cross_attn")(
            h, encoded, segment_ids, encoder_segment_ids, causal=False, deterministic=deterministic,
            decode=decode,
        )
        x = x + nn.Dropout(cfg.dropout_rate)(h, deterministic=deterministic)
        x = nn.with_logical_constraint(x, EMBED_AXES)
        h = AlexaTMLayerNorm(cfg.layer_norm_eps, name="mlp_norm", **common)(x)
        h = MLP(cfg.decoder_ffn_dim, cfg.activation_dropout_rate, name="mlp", **common)(
            h, deterministic=deterministic
        )
        x = x + nn.Dropout(cfg.dropout_rate)(h, deterministic=deterministic)
        return nn.with_logical_constraint(x, EMBED_AXES)


_REMAT_POLICIES = {
    "minimal": jax.checkpoint_policies.checkpoint_dots_with_no_batch_dims,
    "full": jax.checkpoint_policies.nothing_saveable,
}


# Call arguments that are Python values, not arrays: remat must treat them as static.
STATIC_CALL_ARGS = ("deterministic", "decode")


def _call_args(layer_cls: type[nn.Module]) -> list[str]:
    """Names of `layer_cls.__call__`'s arguments after `self`."""
    return list(inspect.signature(layer_cls.__call__).parameters)[1:]


def _stack(layer_cls: type[nn.Module], cfg: ModelConfig, num_layers: int):
    """Wraps a layer with remat and, when `scan_layers`, with `nn.scan` over a `layers` param axis."""
    args = _call_args(layer_cls)
    n_args = len(args)
    if cfg.remat_policy != "none":
        # flax counts `self` as argument 0.
        static = tuple(i + 1 for i, name in enumerate(args) if name in STATIC_CALL_ARGS)
        layer_cls = nn.remat(layer_cls, policy=_REMAT_POLICIES[cfg.remat_policy], prevent_cse=not cfg.scan_layers,
                             static_argnums=static)
    if not cfg.scan_layers:
        return layer_cls, False

    def body(module, carry, *args):
        return module(carry, *args), None

    scanned = nn.scan(
        body,
        variable_axes={"params": 0, "cache": 0},
        split_rngs={"params": True, "dropout": True},
        in_axes=(nn.broadcast,) * (n_args - 1),
        length=num_layers,
        metadata_params={nn.PARTITION_NAME: "layers"},
    )
    return functools.partial(_ScannedStack, layer_cls=layer_cls, scan_fn=scanned), True


class _ScannedStack(nn.Module):
    """Holds the scanned layer so its params live under `<stack>/layers`."""

    layer_cls: Any
    scan_fn: Any
    config: ModelConfig

    @nn.compact
    def __call__(self, x, *args):
        x, _ = self.scan_fn(self.layer_cls(self.config, name="layers"), x, *args)
        return x


class Encoder(nn.Module):
    config: ModelConfig
    token_embed: nn.Module

    @nn.compact
    def __call__(self, tokens, segment_ids=None, positions=None, token_type_ids=None, *, deterministic=True):
        cfg = self.config
        segment_ids = _ones_if_none(segment_ids, tokens)
        positions = _positions_if_none(positions, tokens)
        common = dict(dtype=cfg.compute_dtype, param_dtype=cfg.weights_dtype)
        x = self.token_embed(tokens)
        types = jnp.zeros_like(tokens) if token_type_ids is None else token_type_ids
        frozen = cfg.freeze_token_type_embedding
        type_embed = Embed(cfg.type_vocab_size, cfg.d_model, "type_vocab", name="token_type_embed",
                           init_std=0.0 if frozen else INIT_STD, **common)(types)
        x = x + (jax.lax.stop_gradient(type_embed) if frozen else type_embed)
        x = x + Embed(cfg.max_position_embeddings, cfg.d_model, "abspos", name="position_embed", **common)(
            positions
        )
        x = nn.Dropout(cfg.dropout_rate)(x, deterministic=deterministic)
        x = nn.with_logical_constraint(x, EMBED_AXES)
        layer, scanned = _stack(EncoderLayer, cfg, cfg.num_encoder_layers)
        if scanned:
            x = layer(config=cfg, name="stack")(x, segment_ids, deterministic)
        else:
            for i in range(cfg.num_encoder_layers):
                x = layer(cfg, name=f"layers_{i}")(x, segment_ids, deterministic)
        return AlexaTMLayerNorm(cfg.layer_norm_eps, name="final_norm", **common)(x)


class Decoder(nn.Module):
    config: ModelConfig
    token_embed: nn.Module

    @nn.compact
    def __call__(self, encoded, tokens, encoder_segment_ids=None, segment_ids=None, positions=None, *,
                 deterministic=True, decode=False):
        cfg = self.config
        segment_ids = _ones_if_none(segment_ids, tokens)
        encoder_segment_ids = _ones_if_none(encoder_segment_ids, encoded[..., 0])
        positions = _positions_if_none(positions, tokens)
        common = dict(dtype=cfg.compute_dtype, param_dtype=cfg.weights_dtype)
        x = self.token_embed(tokens)
        x = x + Embed(cfg.max_position_embeddings + DECODER_POSITION_OFFSET, cfg.d_model, "abspos",
                      name="position_embed", **common)(positions + DECODER_POSITION_OFFSET)
        x = nn.Dropout(cfg.dropout_rate)(x, deterministic=deterministic)
        x = nn.with_logical_constraint(x, EMBED_AXES)
        layer, scanned = _stack(DecoderLayer, cfg, cfg.num_decoder_layers)
        args = (encoded, segment_ids, encoder_segment_ids, deterministic, decode)
        if scanned:
            x = layer(config=cfg, name="stack")(x, *args)
        else:
            for i in range(cfg.num_decoder_layers):
                x = layer(cfg, name=f"layers_{i}")(x, *args)
        return AlexaTMLayerNorm(cfg.layer_norm_eps, name="final_norm", **common)(x)


class Transformer(nn.Module):
    """Encoder, decoder, separate (or shared/tied, when the config says so) embeddings and the LM head."""

    config: ModelConfig

    def setup(self) -> None:
        cfg = self.config
        common = dict(dtype=cfg.compute_dtype, param_dtype=cfg.weights_dtype)
        if cfg.share_embeddings:
            self.shared_embed = Embed(cfg.vocab_size, cfg.d_model, **common)
            encoder_embed = decoder_embed = self.shared_embed
        else:
            self.encoder_embed = Embed(cfg.vocab_size, cfg.d_model, **common)
            self.decoder_embed = Embed(cfg.vocab_size, cfg.d_model, **common)
            encoder_embed, decoder_embed = self.encoder_embed, self.decoder_embed
        self._decoder_token_embed = decoder_embed
        self.encoder = Encoder(cfg, encoder_embed)
        self.decoder = Decoder(cfg, decoder_embed)
        if not cfg.tie_word_embeddings:
            self.lm_head = self.param(
                "lm_head", nn.with_logical_partitioning(normal_init(), ("embed", "vocab")),
                (cfg.d_model, cfg.vocab_size), cfg.weights_dtype,
            )
        # A buffer in the official release (never trained there); the trainer keeps it frozen.
        self.final_logits_bias = self.param(
            "final_logits_bias", nn.with_logical_partitioning(nn.initializers.zeros_init(), ("vocab",)),
            (cfg.vocab_size,), cfg.weights_dtype,
        )

    def encode(self, encoder_input_tokens, encoder_segment_ids=None, encoder_positions=None, *,
               deterministic: bool = True):
        return self.encoder(encoder_input_tokens, encoder_segment_ids, encoder_positions,
                            deterministic=deterministic)

    def decode(self, encoded, decoder_input_tokens, encoder_segment_ids=None, decoder_segment_ids=None,
               decoder_positions=None, *, deterministic: bool = True, decode: bool = False):
        """Decoder logits (float32) over the vocabulary; `decode=True` uses and updates the KV cache."""
        cfg = self.config
        h = self.decoder(encoded, decoder_input_tokens, encoder_segment_ids, decoder_segment_ids,
                         decoder_positions, deterministic=deterministic, decode=decode)
        if cfg.tie_word_embeddings:
            logits = self._decoder_token_embed.attend(h)
        else:
            logits = jnp.einsum("...d,dv->...v", h, self.lm_head.astype(cfg.compute_dtype))
        logits = logits.astype(jnp.float32) + self.final_logits_bias.astype(jnp.float32)
        return nn.with_logical_constraint(logits, ("batch", "length", "vocab"))

    def __call__(self, encoder_input_tokens, decoder_input_tokens, encoder_segment_ids=None,
                 decoder_segment_ids=None, encoder_positions=None, decoder_positions=None, *,
                 deterministic: bool = True, decode: bool = False):
        encoded = self.encode(encoder_input_tokens, encoder_segment_ids, encoder_positions,
                              deterministic=deterministic)
        return self.decode(encoded, decoder_input_tokens, encoder_segment_ids, decoder_segment_ids,
                           decoder_positions, deterministic=deterministic, decode=decode)
