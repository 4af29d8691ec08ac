"""Building blocks with logical axis names: dense projections, embeddings, AlexaTM's layer norm, the MLP."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

# The official release initialises every weight from Normal(0, init_std=0.02) and every bias at zero.
INIT_STD = 0.02
Axes = tuple[str | None, ...]


def normal_init(std: float = INIT_STD):
    return jax.nn.initializers.normal(stddev=std)


class Dense(nn.Module):
    """`y = x @ W + b` contracting the trailing `len(in_axes)` input dims into `features` output dims.

    `kernel_axes` names the kernel's logical axes (inputs then outputs), so the partitioning rules decide
    how it is sharded. Every official projection has a bias, hence `use_bias=True` by default.
    """

    features: Sequence[int]
    kernel_axes: Axes
    num_contract: int = 1
    use_bias: bool = True
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        features = tuple(self.features)
        in_shape = x.shape[-self.num_contract:]
        kernel = self.param(
            "kernel",
            nn.with_logical_partitioning(normal_init(), self.kernel_axes),
            in_shape + features,
            self.param_dtype,
        )
        contract_x = tuple(range(x.ndim - self.num_contract, x.ndim))
        contract_k = tuple(range(self.num_contract))
        y = jax.lax.dot_general(
            x.astype(self.dtype), kernel.astype(self.dtype), ((contract_x, contract_k), ((), ()))
        )
        if self.use_bias:
            bias_axes = self.kernel_axes[self.num_contract:]
            bias = self.param(
                "bias", nn.with_logical_partitioning(nn.initializers.zeros_init(), bias_axes), features,
                self.param_dtype,
            )
            y = y + bias.astype(self.dtype)
        return y


class Embed(nn.Module):
    """A lookup table with logical axes `(rows_axis, 'embed')`; `attend` gives logits for a tied LM head."""

    num_embeddings: int
    features: int
    rows_axis: str = "vocab"
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    def setup(self) -> None:
        self.embedding = self.param(
            "embedding",
            nn.with_logical_partitioning(normal_init(), (self.rows_axis, "embed")),
            (self.num_embeddings, self.features),
            self.param_dtype,
        )

    def __call__(self, ids: jax.Array) -> jax.Array:
        return jnp.take(self.embedding, ids, axis=0).astype(self.dtype)

    def attend(self, x: jax.Array) -> jax.Array:
        return jnp.einsum("...d,vd->...v", x.astype(self.dtype), self.embedding.astype(self.dtype))


class AlexaTMLayerNorm(nn.Module):
    """The official release's layer norm, which is not the textbook one.

    It centres by the mean but divides by the root of the *uncentred* second moment:
    `(x - mean(x)) * rsqrt(mean(x**2) + eps) * scale + bias`. Computed in float32 whatever the input dtype.
    """

    eps: float = 1e-12
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        features = x.shape[-1]
        x32 = x.astype(jnp.float32)
        mean = jnp.mean(x32, axis=-1, keepdims=True)
        second_moment = jnp.mean(jnp.square(x32), axis=-1, keepdims=True)
        y = ((x32 - mean) * jax.lax.rsqrt(second_moment + self.eps)).astype(self.dtype)
        scale = self.param(
            "scale", nn.with_logical_partitioning(nn.initializers.ones_init(), ("embed",)), (features,),
            self.param_dtype,
        )
        bias = self.param(
            "bias", nn.with_logical_partitioning(nn.initializers.zeros_init(), ("embed",)), (features,),
            self.param_dtype,
        )
        return y * scale.astype(self.dtype) + bias.astype(self.dtype)


class MLP(nn.Module):
    """Feed-forward block: `wo(dropout(gelu(wi(x))))`, exact (erf) GELU as in the official release."""

    ffn_dim: int
    activation_dropout_rate: float = 0.0
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, *, deterministic: bool) -> jax.Array:
        d_model = x.shape[-1]
        h = Dense((self.ffn_dim,), ("embed", "mlp"), dtype=self.dtype, param_dtype=self.param_dtype,
                  name="wi")(x)
        h = jax.nn.gelu(h, approximate=False)
        h = nn.with_logical_constraint(h, ("batch", "length", "mlp"))
        h = nn.Dropout(self.activation_dropout_rate)(h, deterministic=deterministic)
        return Dense((d_model,), ("mlp", "embed"), dtype=self.dtype, param_dtype=self.param_dtype,
                     name="wo")(h)
