import jax
import jax.numpy as jnp
import numpy as np

from alexatm_jax.model.layers import AlexaTMLayerNorm


def test_layer_norm_divides_by_uncentred_second_moment():
    """The official layer norm: (x - mean) * rsqrt(mean(x^2) + eps), not the textbook variance."""
    x = jax.random.normal(jax.random.PRNGKey(0), (3, 16)) + 2.0  # A large mean makes the difference visible.
    ln = AlexaTMLayerNorm(eps=1e-12)
    params = ln.init(jax.random.PRNGKey(1), x)
    y = np.asarray(ln.apply(params, x))
    xn = np.asarray(x, np.float64)
    expected = (xn - xn.mean(-1, keepdims=True)) / np.sqrt((xn**2).mean(-1, keepdims=True) + 1e-12)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    textbook = (xn - xn.mean(-1, keepdims=True)) / xn.std(-1, keepdims=True)
    assert np.abs(y - textbook).max() > 0.1


def test_layer_norm_computes_in_float32_for_bf16_inputs():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 8), jnp.bfloat16)
    ln = AlexaTMLayerNorm(dtype=jnp.bfloat16)
    params = ln.init(jax.random.PRNGKey(1), x)
    assert ln.apply(params, x).dtype == jnp.bfloat16
