import jax
import numpy as np
import pytest

from alexatm_jax.model.encoder_decoder import cross_entropy_with_logits


def _batch(rng, vocab=64):
    enc = rng.integers(0, vocab, (3, 7)).astype(np.int32)
    targets = rng.integers(0, vocab, (3, 5)).astype(np.int32)
    dec = np.concatenate([np.zeros((3, 1), np.int32), targets[:, :-1]], axis=1)
    weights = np.ones((3, 5), np.float32)
    weights[2, 3:] = 0
    return {"encoder_input_tokens": enc, "decoder_input_tokens": dec, "decoder_target_tokens": targets,
            "decoder_loss_weights": weights}


def test_loss_is_weighted_mean_token_cross_entropy(tiny_model_and_params):
    model, params = tiny_model_and_params
    batch = _batch(np.random.default_rng(0))
    loss, metrics = model.loss_fn(params, batch, None)
    log_probs = jax.nn.log_softmax(model.logits(params, batch))
    nll = -np.take_along_axis(np.asarray(log_probs), batch["decoder_target_tokens"][..., None], -1)[..., 0]
    w = batch["decoder_loss_weights"]
    np.testing.assert_allclose(loss, (nll * w).sum() / w.sum(), rtol=1e-5)
    assert metrics["weight_sum"] == w.sum()
    assert 0 <= metrics["correct_sum"] <= w.sum()


def test_score_batch_is_sum_of_target_log_probs(tiny_model_and_params):
    model, params = tiny_model_and_params
    batch = _batch(np.random.default_rng(1))
    scores = model.score_batch(params, batch)
    log_probs = np.asarray(jax.nn.log_softmax(model.logits(params, batch)))
    ll = np.take_along_axis(log_probs, batch["decoder_target_tokens"][..., None], -1)[..., 0]
    np.testing.assert_allclose(scores, (ll * batch["decoder_loss_weights"]).sum(-1), rtol=1e-5)
    assert scores.shape == (3,)


def test_per_objective_sums_split_the_total(tiny_model_and_params):
    model, params = tiny_model_and_params
    batch = _batch(np.random.default_rng(2))
    batch["decoder_objective_ids"] = np.array([[0] * 5, [1] * 5, [0] * 5], np.int32)
    _, m = model.loss_fn(params, batch, None)
    np.testing.assert_allclose(m["denoise_loss_sum"] + m["clm_loss_sum"], m["loss_sum"], rtol=1e-5)
    assert m["clm_weight_sum"] == 5 and m["denoise_weight_sum"] == 8


def test_label_smoothing_and_z_loss():
    logits = np.full((1, 4), -1e4, np.float32)
    logits[0, 2] = 1e4
    loss, _ = cross_entropy_with_logits(logits, np.array([2]))
    assert float(loss[0]) == pytest.approx(0.0, abs=1e-3)
    uniform = np.zeros((1, 4), np.float32)
    smoothed, _ = cross_entropy_with_logits(uniform, np.array([2]), label_smoothing=0.1)
    plain, _ = cross_entropy_with_logits(uniform, np.array([2]))
    assert float(smoothed[0]) < float(plain[0])  # Uniform logits are closer to the smoothed target.
    with_z, z = cross_entropy_with_logits(uniform, np.array([2]), z_loss=1e-2)
    np.testing.assert_allclose(with_z - plain, z, rtol=1e-5)
    np.testing.assert_allclose(z, 1e-2 * np.log(4.0) ** 2, rtol=1e-5)
