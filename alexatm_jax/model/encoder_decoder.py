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

from alexatm_jax.model.config import ModelConfig
from alexatm_jax.model.layers import INIT_STD
from alexatm_jax.model.network import Transformer

Batch = Mapping[str, jax.Array]
Params = Any
# Parameter leaves drawn from the normal initialiser (biases and layer norms start at zeros and ones).
_NORMAL_INIT_LEAVES = ("kernel", "embedding")


def _leaf_name(path: tuple[Any, ...]) -> str:
    """The parameter's own name: the last dictionary key of its path (boxed leaves add a `.value` step)."""
    return next((str(k.key) for k in reversed(path) if isinstance(k, jax.tree_util.DictKey)), "")


def cross_entropy_with_logits(
    logits: jax.Array, targets: jax.Array, *, label_smoothing: float = 0.0, z_loss: float = 0.0
) -> tuple[jax.Array, jax.Array]:
    """Per-token loss (cross-entropy plus `z_loss * logsumexp**2`) and its z-loss part, in float32.

    Label smoothing spreads `label_smoothing` over the whole vocabulary (optax's `smooth_labels` convention);
    the constant entropy term of the smoothed distribution is subtracted so a perfect prediction scores 0.
    The target logit is gathered, not picked with a one-hot [B, S, vocab] product (as optax's
    `softmax_cross_entropy_with_integer_labels` does): one pass less over the logits, the largest activation.
    """
    vocab = logits.shape[-1]
    logits = logits.astype(jnp.float32)
    log_z = jax.nn.logsumexp(logits, axis=-1)
    # mode="clip": an out-of-range id (padding under a zero weight) reads a real logit, never NaN.
    target_logit = jnp.take_along_axis(logits, targets[..., None].astype(jnp.int32), axis=-1, mode="clip")[..., 0]
    if label_smoothing:
        # sum(smooth_labels(onehot) * logits) = (1 - ls) * logit[target] + ls / vocab * sum(logits)
        label_term = (1.0 - label_smoothing) * target_logit + label_smoothing / vocab * jnp.sum(logits, axis=-1)
    else:
        label_term = target_logit
    loss = log_z - label_term
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
        params = self.module.init({"params": rng}, enc, dec)["params"]
        if self.config.init_std == INIT_STD:
            return params
        # Every weight matrix and embedding table is drawn from N(0, INIT_STD) (the official initialiser); scaling
        # the draw gives N(0, init_std) without threading the value through every layer.
        scale = self.config.init_std / INIT_STD
        return jax.tree_util.tree_map_with_path(
            lambda path, x: x * scale if _leaf_name(path) in _NORMAL_INIT_LEAVES else x, params)

    def abstract_params(self) -> Params:
        """Parameter shapes and logical axes without allocating memory (`jax.eval_shape`)."""
        return jax.eval_shape(self.init, jax.random.PRNGKey(0))

    def param_shapes(self) -> Params:
        """Plain `jax.ShapeDtypeStruct`s of the parameters (the target tree for restoring a checkpoint)."""
        # Unboxed under eval_shape: with a mesh in scope, unboxing applies sharding constraints (traced values only).
        return jax.tree_util.tree_map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype),
                                      jax.eval_shape(nn.meta.unbox, self.abstract_params()))

    def logical_axes(self) -> Params:
        """A tree of `PartitionSpec`s of logical axis names, one per parameter."""
        return nn.get_partition_spec(self.abstract_params())

    def num_params(self) -> int:
        return int(sum(x.size for x in jax.tree_util.tree_leaves(self.param_shapes())))

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
        # Correct when the target's logit is the row's maximum: the same as argmax == target but for ties, and a
        # plain max-reduce instead of XLA:CPU's slow variadic argmax-reduce (7% of the tiny train step:
        # benchmarks/RESULTS.md, "Where the tiny step's time goes").
        target_logits = jnp.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
        correct = (target_logits >= jnp.max(logits, axis=-1)).astype(jnp.float32)
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
        targets = batch["decoder_target_tokens"]
        token_ll = -cross_entropy_with_logits(self.logits(params, batch), targets)[0]
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
