"""`EncoderDecoderModel`: the T5X-style wrapper the trainer, decoding and evaluation talk to.

It owns the Flax module and turns batches (see docs/INTERFACES.md) into a loss, per-example scores and logits,
and offers the encoder/decoder split (`encode`, `init_cache`, `decode_step`, `decode`) that incremental decoding
(`alexatm_jax.decoding`) calls: decoding takes these as callables and knows no model class.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from alexatm_jax.model.config import ModelConfig
from alexatm_jax.model.network import Transformer

Batch = Mapping[str, jax.Array]
Params = Any


def cross_entropy_with_logits(
    logits: jax.Array, targets: jax.Array, *, label_smoothing: float = 0.0, z_loss: float = 0.0
) -> tuple[jax.Array, jax.Array]:
    """Per-token loss (cross-entropy plus `z_loss * logsumexp**2`) and its z-loss part, in float32.

    Label smoothing spreads `label_smoothing` over the whole vocabulary (optax's convention); the constant
    entropy term of the smoothed distribution is subtracted so a perfect prediction scores 0.
    """
    vocab = logits.shape[-1]
    logits = logits.astype(jnp.float32)
    onehot = jax.nn.one_hot(targets, vocab, dtype=jnp.float32)
    labels = optax.smooth_labels(onehot, label_smoothing) if label_smoothing else onehot
    log_z = jax.nn.logsumexp(logits, axis=-1)
    loss = log_z - jnp.sum(labels * logits, axis=-1)
    if label_smoothing:
        low = label_smoothing / vocab
        high = 1.0 - label_smoothing + low
        loss = loss + (high * jnp.log(high) + (vocab - 1) * low * jnp.log(low + 1e-20))
    z_term = z_loss * jnp.square(log_z)
    return loss + z_term, z_term


class EncoderDecoderModel:
    """Loss, scoring and the encoder/decoder split for an AlexaTM `Transformer`."""

    def __init__(self, config: ModelConfig):
        self.config = config
        self.module = Transformer(config)

    # ----- parameters -----
    def init(self, rng: jax.Array, *, encoder_length: int = 8, decoder_length: int = 8) -> Params:
        """Boxed (logically partitioned) parameters; `nn.meta.unbox` gives plain arrays."""
        enc = jnp.ones((1, encoder_length), jnp.int32)
        dec = jnp.ones((1, decoder_length), jnp.int32)
        return self.module.init({"params": rng}, enc, dec)["params"]

    def abstract_params(self) -> Params:
        """Parameter shapes and logical axes without allocating memory (`jax.eval_shape`)."""
        return jax.eval_shape(self.init, jax.random.PRNGKey(0))

    def param_shapes(self) -> Params:
        """Plain `jax.ShapeDtypeStruct`s of the parameters (the target tree for restoring a checkpoint)."""
        return jax.tree_util.tree_map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype),
                                      nn.meta.unbox(self.abstract_params()))

    def logical_axes(self) -> Params:
        """A tree of `PartitionSpec`s of logical axis names, one per parameter."""
        return nn.get_partition_spec(self.abstract_params())

    def num_params(self) -> int:
        shapes = nn.meta.unbox(self.abstract_params())
        return int(sum(x.size for x in jax.tree_util.tree_leaves(shapes)))

    # ----- forward passes -----
    def logits(self, params: Params, batch: Batch, *, dropout_rng: jax.Array | None = None) -> jax.Array:
        """Teacher-forced decoder logits [B, S_dec, vocab] in float32."""
        rngs = {"dropout": dropout_rng} if dropout_rng is not None else {}
        return self.module.apply(
            {"params": params},
            batch["encoder_input_tokens"],
            batch["decoder_input_tokens"],
            batch.get("encoder_segment_ids"),
            batch.get("decoder_segment_ids"),
            batch.get("encoder_positions"),
            batch.get("decoder_positions"),
            deterministic=dropout_rng is None,
            rngs=rngs,
        )

    def loss_fn(
        self, params: Params, batch: Batch, dropout_rng: jax.Array | None, *, label_smoothing: float = 0.0,
        z_loss: float = 0.0, loss_normalizing_factor: float | None = None,
    ) -> tuple[jax.Array, dict[str, jax.Array]]:
        """Weighted token cross-entropy; returns (loss, metrics of sums for the trainer to aggregate).

        The loss is the sum over target tokens divided by the sum of `decoder_loss_weights` (or by
        `loss_normalizing_factor` when given). With `decoder_objective_ids` in the batch, the metrics also
        hold loss and weight sums per objective (0 denoising, 1 causal LM).
        """
        logits = self.logits(params, batch, dropout_rng=dropout_rng)
        targets = batch["decoder_target_tokens"]
        weights = batch.get("decoder_loss_weights")
        weights = jnp.ones(targets.shape, jnp.float32) if weights is None else weights.astype(jnp.float32)
        token_loss, token_z = cross_entropy_with_logits(
            logits, targets, label_smoothing=label_smoothing, z_loss=z_loss
        )
        loss_sum = jnp.sum(token_loss * weights)
        weight_sum = jnp.sum(weights)
        denominator = loss_normalizing_factor if loss_normalizing_factor else jnp.maximum(weight_sum, 1.0)
        correct = (jnp.argmax(logits, axis=-1) == targets).astype(jnp.float32)
        metrics = {
            "loss_sum": loss_sum,
            "z_loss_sum": jnp.sum(token_z * weights),
            "weight_sum": weight_sum,
            "correct_sum": jnp.sum(correct * weights),
        }
        objective_ids = batch.get("decoder_objective_ids")
        if objective_ids is not None:
            for name, objective in (("denoise", 0), ("clm", 1)):
                w = weights * (objective_ids == objective)
                metrics[f"{name}_loss_sum"] = jnp.sum(token_loss * w)
                metrics[f"{name}_weight_sum"] = jnp.sum(w)
        return loss_sum / denominator, metrics

    def score_batch(self, params: Params, batch: Batch) -> jax.Array:
        """Per-example summed log-likelihood of the (weighted) target tokens, float32 [B]."""
        logits = self.logits(params, batch)
        log_probs = jax.nn.log_softmax(logits, axis=-1)
        targets = batch["decoder_target_tokens"]
        token_ll = jnp.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
        weights = batch.get("decoder_loss_weights")
        if weights is None:
            weights = jnp.ones(targets.shape, jnp.float32)
        return jnp.sum(token_ll * weights.astype(jnp.float32), axis=-1)

    # ----- the encoder/decoder split used by incremental decoding -----
    def encode(self, params: Params, encoder_input_tokens: jax.Array, encoder_segment_ids: jax.Array | None = None,
               encoder_positions: jax.Array | None = None) -> jax.Array:
        return self.module.apply({"params": params}, encoder_input_tokens, encoder_segment_ids, encoder_positions,
                                 method=Transformer.encode)

    def init_cache(self, params: Params, encoded: jax.Array, encoder_segment_ids: jax.Array | None,
                   max_decode_length: int) -> Any:
        """A fresh decoding cache: empty self-attention caches of `max_decode_length` and the cross-attention
        keys/values of `encoded`, computed here once."""
        batch = encoded.shape[0]
        dummy = jnp.zeros((batch, max_decode_length), jnp.int32)
        _, variables = self.module.apply(
            {"params": params}, encoded, dummy, encoder_segment_ids, None, None,
            decode=True, method=Transformer.decode, mutable=["cache"],
        )
        return variables["cache"]

    def decode(self, params: Params, encoded: jax.Array, encoder_segment_ids: jax.Array | None,
               decoder_input_tokens: jax.Array) -> jax.Array:
        """Teacher-forced decoder logits [B, S, vocab] over all of `decoder_input_tokens` (no cache)."""
        return self.module.apply({"params": params}, encoded, decoder_input_tokens, encoder_segment_ids, None, None,
                                 method=Transformer.decode)

    def decode_step(self, params: Params, cache: Any, encoded: jax.Array, encoder_segment_ids: jax.Array | None,
                    tokens: jax.Array, positions: jax.Array) -> tuple[jax.Array, Any]:
        """Logits [B, S, vocab] for `tokens` [B, S] at `positions`, appended to the cache; returns the new cache."""
        segment_ids = jnp.ones(tokens.shape, jnp.int32)
        logits, variables = self.module.apply(
            {"params": params, "cache": cache}, encoded, tokens, encoder_segment_ids, segment_ids, positions,
            decode=True, method=Transformer.decode, mutable=["cache"],
        )
        return logits, variables["cache"]
