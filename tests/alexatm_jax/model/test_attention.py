import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alexatm_jax.model.attention import dot_product_attention, resolve_attention_impl
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel


def test_auto_is_xla_on_cpu_and_cudnn_needs_a_gpu():
    assert resolve_attention_impl("auto", dtype=jnp.bfloat16, head_dim=64, platform="cpu") == "xla"
    assert resolve_attention_impl("auto", dtype=jnp.bfloat16, head_dim=64, platform="gpu") == "cudnn"
    assert resolve_attention_impl("auto", dtype=jnp.float32, head_dim=64, platform="gpu") == "xla"
    with pytest.raises(ValueError, match="needs a GPU"):
        resolve_attention_impl("cudnn", dtype=jnp.bfloat16, head_dim=64, platform="cpu")


@pytest.mark.parametrize("impl", ["xla", "pallas"])
def test_rows_without_visible_keys_are_zero(impl):
    q, k, v = (jax.random.normal(jax.random.PRNGKey(i), (2, 5, 2, 16)) for i in range(3))
    seg = jnp.array([[1, 1, 1, 0, 0], [1, 1, 2, 2, 0]], jnp.int32)
    kv_seg = jnp.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 0]], jnp.int32)  # Segment 2 has no keys.
    out = dot_product_attention(q, k, v, q_segment_ids=seg, kv_segment_ids=kv_seg, causal=False, impl=impl)
    assert not np.isnan(np.asarray(out)).any()
    np.testing.assert_array_equal(out[0, 3:], 0)
    np.testing.assert_array_equal(out[1, 2:], 0)


def test_pallas_needs_no_attention_dropout():
    x = jnp.ones((1, 3, 1, 8))
    seg = jnp.ones((1, 3), jnp.int32)
    with pytest.raises(ValueError, match="attention_dropout_rate=0.0"):
        dot_product_attention(x, x, x, q_segment_ids=seg, kv_segment_ids=seg, causal=False, impl="pallas",
                              dropout_rate=0.1, dropout_rng=jax.random.PRNGKey(0), deterministic=False)


def test_model_gives_the_same_loss_and_gradients_with_pallas_kernels(tiny_model_and_params):
    model, params = tiny_model_and_params
    rng = np.random.default_rng(0)
    seg = np.ones((2, 11), np.int32)
    seg[1, 7:] = 0
    batch = {
        "encoder_input_tokens": rng.integers(0, 64, (2, 11)).astype(np.int32),
        "encoder_segment_ids": seg,
        "decoder_input_tokens": rng.integers(0, 64, (2, 7)).astype(np.int32),
        "decoder_target_tokens": rng.integers(0, 64, (2, 7)).astype(np.int32),
    }
    pallas = EncoderDecoderModel(model.config.replace(attention_impl="pallas"))
    loss_grad = jax.value_and_grad(lambda p, m: m.loss_fn(p, batch, None)[0])
    (l_xla, g_xla), (l_pal, g_pal) = loss_grad(params, model), loss_grad(params, pallas)
    np.testing.assert_allclose(l_pal, l_xla, rtol=1e-5)
    for a, b in zip(jax.tree_util.tree_leaves(g_xla), jax.tree_util.tree_leaves(g_pal)):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)


def test_cached_decoding_with_the_pallas_decode_kernel(tiny_model_and_params):
    model, params = tiny_model_and_params
    pallas = EncoderDecoderModel(model.config.replace(attention_impl="pallas"))
    rng = np.random.default_rng(1)
    enc = rng.integers(0, 64, (2, 6)).astype(np.int32)
    seg = np.array([[1] * 6, [1] * 4 + [0] * 2], np.int32)
    dec = rng.integers(0, 64, (2, 4)).astype(np.int32)
    full = model.logits(params, {"encoder_input_tokens": enc, "encoder_segment_ids": seg, "decoder_input_tokens": dec})
    encoded = pallas.encode(params, enc, seg)
    cache = pallas.init_cache(params, encoded, seg, max_decode_length=4)
    steps = []
    for t in range(4):
        logits, cache = pallas.decode_step(params, cache, encoded, seg, dec[:, t:t + 1], np.full((2, 1), t, np.int32))
        steps.append(logits)
    np.testing.assert_allclose(np.concatenate(steps, 1), full, atol=1e-5)
