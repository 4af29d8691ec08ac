"""Building blocks with logical axis names: dense projections, embeddings, AlexaTM's layer norm, the MLP."""

from __future__ import annotations

import math
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


def matmul_2d(x: jax.Array, kernel: jax.Array, num_contract: int = 1, *, transpose_kernel: bool = False) -> jax.Array:
    """Contracts the trailing `num_contract` dims of `x` with the kernel as one [tokens, in] x [in, out] GEMM.

    The kernel is `in_dims + out_dims` (or `out_dims + in_dims` with `transpose_kernel`). Flattening to 2-D
    first is what keeps XLA:CPU fast: the gradient of a dot that contracts [batch, length] makes it
    materialise a transposed copy of the activation gradient, while the 2-D form maps to one GEMM with
    transposed operands (docs/STACK.md, "CPU matmul layouts").
    """
    lead, in_shape = x.shape[: x.ndim - num_contract], x.shape[x.ndim - num_contract:]
    in_size = math.prod(in_shape)
    out_shape = kernel.shape[: kernel.ndim - num_contract] if transpose_kernel else kernel.shape[num_contract:]
    kernel_2d = kernel.reshape(-1, in_size) if transpose_kernel else kernel.reshape(in_size, -1)
    contract = ((1,), (1 if transpose_kernel else 0,))
    y = jax.lax.dot_general(x.reshape(math.prod(lead), in_size), kernel_2d, (contract, ((), ())))
    return y.reshape(lead + out_shape)


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
        y = matmul_2d(x.astype(self.dtype), kernel.astype(self.dtype), self.num_contract)
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
    init_std: float = INIT_STD  # 0: a table of zeros

    def setup(self) -> None:
        init = normal_init(self.init_std) if self.init_std else nn.initializers.zeros_init()
        self.embedding = self.param(
            "embedding",
            nn.with_logical_partitioning(init, (self.rows_axis, "embed")),
            (self.num_embeddings, self.features),
            self.param_dtype,
        )

    def __call__(self, ids: jax.Array) -> jax.Array:
        return jnp.take(self.embedding, ids, axis=0).astype(self.dtype)

    def attend(self, x: jax.Array) -> jax.Array:
        return matmul_2d(x.astype(self.dtype), self.embedding.astype(self.dtype), transpose_kernel=True)


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
