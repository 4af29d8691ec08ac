"""The optimiser follows the paper: schedule, weight-decay exclusions, frozen buffer, encoder freezing."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from alexatm_jax.model.config import ModelConfig
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel
from alexatm_jax.training.optimizers import OptimizerConfig, is_decayed, make_optimizer, make_schedule

SMALL = dict(vocab_size=32, d_model=16, num_encoder_layers=1, num_decoder_layers=1, num_encoder_heads=2,
             num_decoder_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=16)


@pytest.fixture(scope="module")
def params():
    model = EncoderDecoderModel(ModelConfig(**SMALL))
    return jax.jit(lambda rng: nn.meta.unbox(model.init(rng)))(jax.random.PRNGKey(0))


def test_schedule_warms_up_then_decays_linearly_to_the_end_rate():
    schedule = make_schedule(OptimizerConfig(learning_rate=1e-4, end_learning_rate=5e-6, warmup_steps=10), 110)
    assert float(schedule(0)) == 0.0
    assert float(schedule(5)) == pytest.approx(5e-5)
    assert float(schedule(10)) == pytest.approx(1e-4)
    assert float(schedule(60)) == pytest.approx((1e-4 + 5e-6) / 2)
    assert float(schedule(110)) == pytest.approx(5e-6)
    assert float(schedule(500)) == pytest.approx(5e-6)


def test_decay_steps_default_to_the_run_length_but_can_be_set():
    config = OptimizerConfig(learning_rate=1.0, end_learning_rate=0.0, warmup_steps=0, decay_steps=100)
    assert float(make_schedule(config, 10)(50)) == pytest.approx(0.5)


def test_unknown_optimizer_name_is_explained():
    with pytest.raises(ValueError, match="adamw"):
        OptimizerConfig(name="sgd")


def _leaf_names(params):
    return [[str(k.key) for k in path] for path, _ in jax.tree_util.tree_leaves_with_path(params)]


def test_weight_decay_skips_biases_layer_norms_and_the_logits_buffer(params):
    names = _leaf_names(params)
    decayed = {"/".join(n) for n in names if is_decayed(n)}
    assert "lm_head" in decayed and "encoder_embed/embedding" in decayed
    assert any(n.endswith("mlp/wi/kernel") for n in decayed)
    assert not any(n.endswith("bias") or n.endswith("scale") for n in decayed)


def _grads_like(params, value=1.0):
    return jax.tree_util.tree_map(lambda p: jnp.full_like(p, value), params)


def _run(tx, params, steps, value=1.0):
    @jax.jit
    def step(params, state):
        updates, state = tx.update(_grads_like(params, value), state, params)
        return optax.apply_updates(params, updates), state

    state = jax.jit(tx.init)(params)
    history = [params]
    for _ in range(steps):
        params, state = step(params, state)
        history.append(params)
    return history


@pytest.mark.parametrize("name", ["adamw", "adafactor"])
def test_final_logits_bias_never_changes(params, name):
    tx = make_optimizer(OptimizerConfig(name=name, learning_rate=0.1, warmup_steps=0), 10).tx
    history = _run(tx, params, 3)
    np.testing.assert_array_equal(history[-1]["final_logits_bias"], params["final_logits_bias"])
    assert not np.array_equal(history[-1]["lm_head"], params["lm_head"])


def test_no_weight_decay_on_biases_with_zero_gradients(params):
    params = jax.tree_util.tree_map(lambda p: p + 1.0, params)
    tx = make_optimizer(OptimizerConfig(learning_rate=0.1, warmup_steps=0, weight_decay=0.5, clip_grad_norm=None),
                        10).tx
    after = _run(tx, params, 1, value=0.0)[-1]
    np.testing.assert_array_equal(after["encoder"]["final_norm"]["scale"], params["encoder"]["final_norm"]["scale"])
    # Decayed kernels shrink by lr * wd * p even without gradient.
    np.testing.assert_allclose(after["lm_head"], params["lm_head"] * (1 - 0.1 * 0.5), rtol=1e-6)


def test_encoder_frozen_for_the_first_steps_then_trained_like_a_fresh_adam(params):
    lr = 0.01
    tx = make_optimizer(OptimizerConfig(learning_rate=lr, end_learning_rate=lr, warmup_steps=0, weight_decay=0.1,
                                        freeze_encoder_steps=2, clip_grad_norm=None), 10).tx
    history = _run(tx, params, 3)
    for step in (1, 2):
        for group in ("encoder", "encoder_embed"):
            jax.tree_util.tree_map(np.testing.assert_array_equal, history[step][group], params[group])
        assert not np.array_equal(history[step]["decoder_embed"]["embedding"], params["decoder_embed"]["embedding"])
    # First unfrozen update: bias-corrected Adam on a constant gradient moves each weight by ~lr (+ decay).
    kernel = params["encoder"]["stack"]["layers"]["mlp"]["wi"]["kernel"]
    moved = history[3]["encoder"]["stack"]["layers"]["mlp"]["wi"]["kernel"] - kernel
    np.testing.assert_allclose(moved, -lr * (1.0 + 0.1 * kernel), rtol=1e-3, atol=1e-7)


def test_optimizer_state_has_param_shaped_moments():
    model = EncoderDecoderModel(ModelConfig(**SMALL))
    abstract = nn.meta.unbox(model.abstract_params())
    state = jax.eval_shape(make_optimizer(OptimizerConfig(freeze_encoder_steps=3), 10).tx.init, abstract)
    shapes = {tuple(x.shape) for x in jax.tree_util.tree_leaves(state)}
    assert tuple(abstract["lm_head"].shape) in shapes
