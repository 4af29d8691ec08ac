from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alexatm_jax.checkpoint import layouts as param_layout
from alexatm_jax.errors import ConfigError
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel

REPO = Path(__file__).resolve().parents[3]
T5X_AXES = {"batch", "length", "embed", "mlp", "heads", "kv", "vocab", "layers", "abspos", "type_vocab"}


def _batch(rng, batch=2, enc_len=9, dec_len=6, vocab=64):
    enc = rng.integers(0, vocab, (batch, enc_len)).astype(np.int32)
    dec = rng.integers(0, vocab, (batch, dec_len)).astype(np.int32)
    seg = np.ones((batch, enc_len), np.int32)
    seg[1, enc_len - 3:] = 0
    return {"encoder_input_tokens": enc, "decoder_input_tokens": dec, "encoder_segment_ids": seg}


def test_every_param_has_logical_axes(tiny_config):
    boxed = EncoderDecoderModel(tiny_config).abstract_params()
    leaves = jax.tree_util.tree_leaves(boxed, is_leaf=lambda x: isinstance(x, nn.LogicallyPartitioned))
    for leaf in leaves:
        assert isinstance(leaf, nn.LogicallyPartitioned)
        assert len(leaf.names) == leaf.value.ndim
        assert set(leaf.names) <= T5X_AXES


def test_20b_config_has_19_75b_params():
    import importlib.util  # noqa: F401  (gin-config 0.5.0 on Python 3.11 needs it imported first)

    import gin

    gin.clear_config()
    gin.parse_config_file(str(REPO / "gin/models/alexatm_20b.gin"))
    model = gin.query_parameter("%MODEL").scoped_configurable_fn()
    gin.clear_config()
    n = model.num_params()  # jax.eval_shape: nothing is allocated.
    assert 19.6e9 <= n <= 19.9e9, n
    cfg = model.config
    assert (cfg.num_encoder_layers, cfg.num_decoder_layers, cfg.d_model) == (46, 32, 4096)
    assert (cfg.num_encoder_heads, cfg.encoder_ffn_dim, cfg.share_embeddings, cfg.tie_word_embeddings) == (
        32, 16384, False, False)


def test_scanned_and_unscanned_layouts_give_the_same_logits(tiny_model_and_params):
    model, params = tiny_model_and_params
    batch = _batch(np.random.default_rng(0))
    unscanned_model = EncoderDecoderModel(model.config.replace(scan_layers=False))
    unscanned = param_layout.unstack_layers(params)
    np.testing.assert_allclose(model.logits(params, batch), unscanned_model.logits(unscanned, batch), atol=1e-6)
    restacked = param_layout.stack_layers(unscanned)
    assert jax.tree_util.tree_all(jax.tree_util.tree_map(lambda a, b: bool((a == b).all()), params, restacked))


@pytest.mark.parametrize("policy", ["minimal", "full"])
def test_remat_changes_memory_not_values(tiny_model_and_params, policy):
    model, params = tiny_model_and_params
    batch = _batch(np.random.default_rng(1))
    batch.update(decoder_target_tokens=batch["decoder_input_tokens"])
    remat_model = EncoderDecoderModel(model.config.replace(remat_policy=policy))
    grads = jax.grad(lambda p, m: m.loss_fn(p, batch, None)[0])
    g0, g1 = grads(params, model), grads(params, remat_model)
    for a, b in zip(jax.tree_util.tree_leaves(g0), jax.tree_util.tree_leaves(g1)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_padding_comes_from_segment_ids_not_token_values(tiny_model_and_params):
    model, params = tiny_model_and_params
    batch = _batch(np.random.default_rng(2))
    base = model.logits(params, batch)
    changed = dict(batch, encoder_input_tokens=batch["encoder_input_tokens"].copy())
    changed["encoder_input_tokens"][1, -3:] = [0, 1, 2]  # Padded positions: any value is ignored.
    np.testing.assert_array_equal(base, model.logits(params, changed))
    # A real token whose id equals the pipeline's pad value (0) or the official pad id (1) is attended to.
    real = dict(batch, encoder_input_tokens=batch["encoder_input_tokens"].copy())
    real["encoder_input_tokens"][0, 2] = 0 if batch["encoder_input_tokens"][0, 2] else 1
    assert np.abs(model.logits(params, real)[0] - base[0]).max() > 1e-4


def test_packed_segments_equal_separate_examples(tiny_model_and_params):
    model, params = tiny_model_and_params
    rng = np.random.default_rng(3)
    a_enc, b_enc = rng.integers(0, 64, 4), rng.integers(0, 64, 5)
    a_dec, b_dec = rng.integers(0, 64, 3), rng.integers(0, 64, 4)
    packed = {
        "encoder_input_tokens": np.concatenate([a_enc, b_enc])[None].astype(np.int32),
        "encoder_segment_ids": np.array([[1] * 4 + [2] * 5], np.int32),
        "encoder_positions": np.array([list(range(4)) + list(range(5))], np.int32),
        "decoder_input_tokens": np.concatenate([a_dec, b_dec])[None].astype(np.int32),
        "decoder_segment_ids": np.array([[1] * 3 + [2] * 4], np.int32),
        "decoder_positions": np.array([list(range(3)) + list(range(4))], np.int32),
    }
    logits = model.logits(params, packed)[0]
    for enc, dec, sl in ((a_enc, a_dec, slice(0, 3)), (b_enc, b_dec, slice(3, 7))):
        single = {"encoder_input_tokens": enc[None].astype(np.int32),
                  "decoder_input_tokens": dec[None].astype(np.int32)}
        np.testing.assert_allclose(logits[sl], model.logits(params, single)[0], atol=1e-5)


def test_decoder_is_causal(tiny_model_and_params):
    model, params = tiny_model_and_params
    batch = _batch(np.random.default_rng(4))
    base = model.logits(params, batch)
    later = dict(batch, decoder_input_tokens=batch["decoder_input_tokens"].copy())
    later["decoder_input_tokens"][:, 4:] = 7
    np.testing.assert_array_equal(base[:, :4], model.logits(params, later)[:, :4])


def test_cached_decoding_matches_teacher_forcing(tiny_model_and_params):
    model, params = tiny_model_and_params
    batch = _batch(np.random.default_rng(5))
    full = model.logits(params, batch)
    encoded = model.encode(params, batch["encoder_input_tokens"], batch["encoder_segment_ids"])
    cache = model.init_cache(params, encoded, batch["encoder_segment_ids"], max_decode_length=6)
    steps = []
    for t in range(6):
        tokens = batch["decoder_input_tokens"][:, t:t + 1]
        logits, cache = model.decode_step(params, cache, encoded, batch["encoder_segment_ids"], tokens,
                                          np.full((2, 1), t, np.int32))
        steps.append(logits)
    np.testing.assert_allclose(np.concatenate(steps, 1), full, atol=1e-5)


def test_bf16_compute_stays_close_to_fp32(tiny_model_and_params):
    model, params = tiny_model_and_params
    batch = _batch(np.random.default_rng(6))
    bf16 = EncoderDecoderModel(model.config.replace(dtype="bfloat16"))
    a, b = model.logits(params, batch), bf16.logits(params, batch)
    assert b.dtype == jnp.float32
    assert np.linalg.norm(a - b) / np.linalg.norm(a) < 2e-2


def test_dropout_is_active_only_with_an_rng(tiny_config):
    cfg = tiny_config.replace(dropout_rate=0.3, attention_dropout_rate=0.1, activation_dropout_rate=0.1)
    model = EncoderDecoderModel(cfg)
    params = nn.meta.unbox(model.init(jax.random.PRNGKey(0)))
    batch = _batch(np.random.default_rng(7))
    det = model.logits(params, batch)
    r1 = model.logits(params, batch, dropout_rng=jax.random.PRNGKey(1))
    r1_again = model.logits(params, batch, dropout_rng=jax.random.PRNGKey(1))
    np.testing.assert_array_equal(r1, r1_again)
    assert np.abs(det - r1).max() > 1e-3


@pytest.mark.parametrize("share,tie", [(True, False), (False, True), (True, True)])
def test_shared_and_tied_embedding_variants(tiny_config, share, tie):
    model = EncoderDecoderModel(tiny_config.replace(share_embeddings=share, tie_word_embeddings=tie))
    params = nn.meta.unbox(model.init(jax.random.PRNGKey(0)))
    assert ("shared_embed" in params) == share and ("lm_head" not in params) == tie
    assert model.logits(params, _batch(np.random.default_rng(8))).shape == (2, 6, 64)


def test_frozen_token_type_embedding_starts_at_zero_gets_no_gradient_and_keeps_the_forward(tiny_config):
    frozen_config = tiny_config.replace(freeze_token_type_embedding=True)
    model = EncoderDecoderModel(frozen_config)
    params = nn.meta.unbox(model.init(jax.random.PRNGKey(0)))
    table = params["encoder"]["token_type_embed"]["embedding"]
    assert table.shape == (tiny_config.type_vocab_size, tiny_config.d_model) and not np.any(table)
    batch = _batch(np.random.default_rng(0))
    batch = {**batch, "decoder_target_tokens": batch["decoder_input_tokens"]}
    grads = jax.grad(lambda p: model.loss_fn(p, batch, None)[0])(params)
    assert not np.any(grads["encoder"]["token_type_embed"]["embedding"])
    assert np.any(grads["encoder"]["position_embed"]["embedding"])
    # The same parameters in the unfrozen model: the table is still added, so logits (and conversion) are unchanged.
    loaded = {**params, "encoder": {**params["encoder"], "token_type_embed": {"embedding": table + 0.5}}}
    np.testing.assert_allclose(model.logits(loaded, batch), EncoderDecoderModel(tiny_config).logits(loaded, batch),
                               atol=1e-6)


def test_init_std_scales_weights_and_embeddings_but_not_norms_or_biases(tiny_config):
    official = nn.meta.unbox(EncoderDecoderModel(tiny_config).init(jax.random.PRNGKey(0)))
    wide = nn.meta.unbox(EncoderDecoderModel(tiny_config.replace(init_std=0.1)).init(jax.random.PRNGKey(0)))
    flat_official = dict(jax.tree_util.tree_leaves_with_path(official))
    for path, leaf in jax.tree_util.tree_leaves_with_path(wide):
        name = str(path[-1].key)
        expected = flat_official[path] * (5.0 if name in ("kernel", "embedding") else 1.0)
        np.testing.assert_allclose(leaf, expected, rtol=1e-6, err_msg=jax.tree_util.keystr(path))
    stds = [float(np.std(leaf)) for path, leaf in jax.tree_util.tree_leaves_with_path(wide)
            if str(path[-1].key) == "kernel" and leaf.size > 1000]
    assert stds and all(0.09 < s < 0.11 for s in stds)
    with pytest.raises(ConfigError, match="init_std must be positive"):
        tiny_config.replace(init_std=0.0)
