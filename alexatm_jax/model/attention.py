"""Multi-head attention and the one dispatch point between attention implementations.

`attention_impl` picks how `softmax(q k^T / sqrt(d)) v` is computed: `xla` (plain jnp, the reference),
`pallas` (the fused kernels of `kernels_pallas`, in interpret mode on CPU; under a mesh, one call per device),
`cudnn` (`jax.nn.dot_product_attention(implementation="cudnn")`) or `auto` (the fastest available on the platform).
Every implementation sees the same masking rule, `kernels_pallas.masks.visibility_mask`: key j is visible to
query i iff their segment ids are equal and non-zero and, when causal, `j <= i + q_offset`. Rows with no visible
key give zeros.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

import kernels_pallas
from alexatm_jax.model.layers import Dense
from kernels_pallas.masks import visibility_mask

HEADS_AXES = ("batch", "length", "heads", "kv")


def resolve_attention_impl(impl: str, *, dtype: Any, head_dim: int, platform: str | None = None) -> str:
    """Turns `auto` into a concrete implementation for this platform; checks explicit choices."""
    platform = platform or jax.default_backend()
    if impl == "auto":
        if platform == "gpu" and jnp.dtype(dtype) in (jnp.bfloat16, jnp.float16) and head_dim % 8 == 0:
            return "cudnn"
        return "xla"
    if impl == "cudnn" and platform != "gpu":
        raise ValueError(
            "attention_impl='cudnn' needs a GPU (cuDNN is not available on "
            f"{platform!r}): use attention_impl='auto' or 'xla'."
        )
    return impl


def xla_attention(
    q: jax.Array, k: jax.Array, v: jax.Array, mask: jax.Array, *, dropout_rate: float = 0.0,
    dropout_rng: jax.Array | None = None, deterministic: bool = True,
) -> jax.Array:
    """Reference attention: scores and softmax in float32, as the official release does in fp32."""
    scale = 1.0 / math.sqrt(q.shape[-1])
    scores = jnp.einsum("bqhd,bkhd->bhqk", q, k, preferred_element_type=jnp.float32) * scale
    scores = jnp.where(mask, scores, jnp.finfo(jnp.float32).min)
    probs = jax.nn.softmax(scores, axis=-1)
    # Rows with no visible key come out of the softmax uniform: zero them. Masked entries of every other row are
    # already exactly 0, so one elementwise select does it (an any-reduce over the mask is slow on XLA CPU).
    probs = jnp.where(mask, probs, 0.0)
    if dropout_rate > 0.0 and not deterministic:
        keep = jax.random.bernoulli(dropout_rng, 1.0 - dropout_rate, probs.shape)
        probs = jnp.where(keep, probs / (1.0 - dropout_rate), 0.0)
    return jnp.einsum("bhqk,bkhd->bqhd", probs.astype(v.dtype), v)


def dot_product_attention(
    q: jax.Array, k: jax.Array, v: jax.Array, *, q_segment_ids: jax.Array, kv_segment_ids: jax.Array,
    causal: bool, impl: str, q_offset: Any = None, dropout_rate: float = 0.0,
    dropout_rng: jax.Array | None = None, deterministic: bool = True,
) -> jax.Array:
    """Attention over [B, S, H, D] inputs with the module's masking rule, by the chosen implementation."""
    impl = resolve_attention_impl(impl, dtype=q.dtype, head_dim=q.shape[-1])
    training_dropout = dropout_rate > 0.0 and not deterministic
    if impl != "xla" and training_dropout:
        raise ValueError(
            f"attention_impl={impl!r} has no attention-probability dropout: set attention_dropout_rate=0.0 "
            "or use attention_impl='xla'."
        )
    if impl == "pallas" and (q_offset is None or q.shape[1] == 1):
        # A multi-token cached prefill (moving offset) falls through to the reference below.
        return pallas_attention(q, k, v, q_segment_ids=q_segment_ids, kv_segment_ids=kv_segment_ids,
                                causal=causal, cached=q_offset is not None)
    mask = visibility_mask(q.shape[0], q.shape[1], k.shape[1], q_segment_ids=q_segment_ids,
                           kv_segment_ids=kv_segment_ids, causal=causal, q_offset=q_offset)[:, None]
    if impl == "cudnn":
        out = jax.nn.dot_product_attention(q, k, v, mask=mask, implementation="cudnn")
        return jnp.where(jnp.any(mask, axis=-1)[:, 0, :, None, None], out, 0).astype(q.dtype)
    return xla_attention(
        q, k, v, mask, dropout_rate=dropout_rate, dropout_rng=dropout_rng, deterministic=deterministic
    )


def pallas_attention(
    q: jax.Array, k: jax.Array, v: jax.Array, *, q_segment_ids: jax.Array, kv_segment_ids: jax.Array,
    causal: bool, cached: bool,
) -> jax.Array:
    """The Pallas kernels, run per device (`shard_map`) over the batch and head axes of the mesh in scope.

    `cached`: one new query token over a self-attention KV cache whose filled rows are those with a non-zero
    `kv_segment_ids` (the flash-decoding kernel); otherwise the flash-attention kernel. The mesh axes come from
    the logical rules in scope for the activations' `batch` and `heads` axes (`HEADS_AXES`).
    """
    batch_axes, _, head_axes, _ = nn.logical_to_mesh_axes(HEADS_AXES)  # no rules or no mesh: one call
    where = dict(mesh=jax.sharding.get_abstract_mesh(), batch_axes=batch_axes, head_axes=head_axes)
    if cached:
        lengths = jnp.sum(kv_segment_ids != 0, axis=1).astype(jnp.int32)
        out = kernels_pallas.sharded_decode_attention(q[:, 0], k, v, lengths, **where)[:, None]
    else:
        out = kernels_pallas.sharded_flash_attention(
            q, k, v, q_segment_ids=q_segment_ids, kv_segment_ids=kv_segment_ids, causal=causal, **where)
    return out.astype(q.dtype)


class MultiHeadAttention(nn.Module):
    """Self- or cross-attention with q/k/v/out projections (all with biases, as in the official release).

    With `decode=True` it keeps a cache in the `cache` collection: self-attention appends each step's keys and
    values; cross-attention computes the encoder's keys and values once, on the call that creates the cache.
    """

    num_heads: int
    head_dim: int
    attention_impl: str = "xla"
    dropout_rate: float = 0.0
    is_cross_attention: bool = False
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(
        self, inputs_q: jax.Array, inputs_kv: jax.Array, q_segment_ids: jax.Array, kv_segment_ids: jax.Array,
        *, causal: bool, deterministic: bool, decode: bool = False,
    ) -> jax.Array:
        projection = functools.partial(
            Dense, (self.num_heads, self.head_dim), ("embed", "heads", "kv"), dtype=self.dtype,
            param_dtype=self.param_dtype,
        )
        q = nn.with_logical_constraint(projection(name="query")(inputs_q), HEADS_AXES)
        q_offset = None
        if decode and self.is_cross_attention and self.has_variable("cache", "cached_key"):
            k = self.get_variable("cache", "cached_key")
            v = self.get_variable("cache", "cached_value")
        else:
            k = nn.with_logical_constraint(projection(name="key")(inputs_kv), HEADS_AXES)
            v = nn.with_logical_constraint(projection(name="value")(inputs_kv), HEADS_AXES)
            if decode and self.is_cross_attention:
                self.put_variable("cache", "cached_key", k)
                self.put_variable("cache", "cached_value", v)
            elif decode:
                k, v, kv_segment_ids, q_offset = self._update_self_attention_cache(k, v, kv_segment_ids)

        dropout_rng = None
        if self.dropout_rate > 0.0 and not deterministic:
            dropout_rng = self.make_rng("dropout")
        out = dot_product_attention(
            q, k, v, q_segment_ids=q_segment_ids, kv_segment_ids=kv_segment_ids, causal=causal,
            impl=self.attention_impl, q_offset=q_offset, dropout_rate=self.dropout_rate,
            dropout_rng=dropout_rng, deterministic=deterministic,
        )
        out = nn.with_logical_constraint(out, HEADS_AXES)
        return Dense(
            (inputs_q.shape[-1],), ("heads", "kv", "embed"), num_contract=2, dtype=self.dtype,
            param_dtype=self.param_dtype, name="out",
        )(out)

    def _update_self_attention_cache(self, k, v, kv_segment_ids):
        """Writes this step's keys/values at the cache index; returns the cache and its visibility."""
        is_initialized = self.has_variable("cache", "cached_key")
        cached_key = self.variable("cache", "cached_key", jnp.zeros, k.shape, k.dtype)
        cached_value = self.variable("cache", "cached_value", jnp.zeros, v.shape, v.dtype)
        cache_index = self.variable("cache", "cache_index", lambda: jnp.array(0, jnp.int32))
        if not is_initialized:  # The call that creates the cache runs as a plain teacher-forced pass.
            return k, v, kv_segment_ids, None
        index = cache_index.value
        cached_key.value = jax.lax.dynamic_update_slice(cached_key.value, k.astype(cached_key.value.dtype),
                                                        (0, index, 0, 0))
        cached_value.value = jax.lax.dynamic_update_slice(
            cached_value.value, v.astype(cached_value.value.dtype), (0, index, 0, 0)
        )
        step = k.shape[1]
        cache_index.value = index + step
        batch, max_length = cached_key.value.shape[:2]
        filled = (jnp.arange(max_length) < index + step).astype(jnp.int32)
        return cached_key.value, cached_value.value, jnp.broadcast_to(filled, (batch, max_length)), index
