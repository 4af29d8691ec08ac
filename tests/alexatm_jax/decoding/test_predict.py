"""Decoding: greedy, beam search and sampling against references built from the teacher-forced forward pass.

One batch shape and few option combinations, so the whole file compiles a handful of decoding loops.
"""

from __future__ import annotations

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alexatm_jax import batching
from alexatm_jax.api import decoder_for
from alexatm_jax.decoding import sampling
from alexatm_jax.model.config import ModelConfig
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel
from tests.alexatm_jax.decoding_fixtures import random_params

EOS = 2
MAX_NEW = 8


@functools.cache
def _decoder(model):
    return decoder_for(model)


def predict_batch(model, params, batch, **options):
    """Decodes with one `Decoder` per model, so repeated calls reuse its compiled programs."""
    return _decoder(model).predict_batch(params, batch, **options)


def _with_eos_bias(params, bias: float):
    """Raises EOS's logit so that some outputs end early (the random models rarely emit it otherwise)."""
    params = dict(params, final_logits_bias=params["final_logits_bias"].copy())
    params["final_logits_bias"][EOS] += bias
    return params


@pytest.fixture(scope="module")
def setup():
    cfg = ModelConfig(vocab_size=64, d_model=32, num_encoder_layers=2, num_decoder_layers=2, num_encoder_heads=4,
                      num_decoder_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=48, max_position_embeddings=32,
                      decoder_start_token_id=0)
    model = EncoderDecoderModel(cfg)
    params = _with_eos_bias(random_params(model, 0, scale=3.0), 0.55)  # Lengths 4, 8 and 4.
    rng = np.random.default_rng(0)
    tokens = rng.integers(3, cfg.vocab_size, (3, 10)).astype(np.int32)
    segment_ids = np.ones_like(tokens)
    segment_ids[1, 6:] = 0
    segment_ids[2, 3:] = 0
    batch = {"encoder_input_tokens": tokens, "encoder_segment_ids": segment_ids}
    return model, params, batch


@functools.cache
def jitted_logits(model):
    return jax.jit(model.logits)


def reference_greedy(model, params, batch, steps: int, banned_last: int | None = None):
    """Step-by-step argmax over the full teacher-forced forward pass (no cache)."""
    cfg = model.config
    n = batch["encoder_input_tokens"].shape[0]
    dec = np.full((n, steps), cfg.pad_token_id, np.int32)
    dec[:, 0] = cfg.decoder_start_token_id
    out = np.full((n, steps), cfg.pad_token_id, np.int32)
    done = np.zeros(n, bool)
    logits_fn = jitted_logits(model)
    for i in range(steps):
        logits = np.asarray(logits_fn(params, {**batch, "decoder_input_tokens": dec}))[:, i]
        token = np.where(done, cfg.pad_token_id, logits.argmax(-1))
        out[:, i] = token
        if i + 1 < steps:
            dec[:, i + 1] = token
        done |= token == cfg.eos_token_id
    return out


def test_greedy_matches_stepwise_argmax_and_ignores_padding(setup):
    model, params, batch = setup
    out = jax.device_get(predict_batch(model, params, batch, max_new_tokens=MAX_NEW))
    expected = reference_greedy(model, params, batch, MAX_NEW)
    np.testing.assert_array_equal(out["sequences"][:, 0], expected)
    assert set(out["lengths"][:, 0]) != {MAX_NEW}, "the EOS bias should end some outputs early"
    # Padding is read from the segment ids: other token values under the padding change nothing.
    noisy = dict(batch, encoder_input_tokens=np.where(batch["encoder_segment_ids"] == 1,
                                                      batch["encoder_input_tokens"], 7))
    again = jax.device_get(predict_batch(model, params, noisy, max_new_tokens=MAX_NEW))
    np.testing.assert_array_equal(again["sequences"], out["sequences"])


def test_cached_and_uncached_decoding_agree(setup):
    model, params, batch = setup
    for options in (dict(), dict(num_beams=3, num_return_sequences=2, length_penalty=0.6)):
        cached = jax.device_get(predict_batch(model, params, batch, max_new_tokens=MAX_NEW, **options))
        full = jax.device_get(predict_batch(model, params, batch, max_new_tokens=MAX_NEW, use_cache=False,
                                                     **options))
        np.testing.assert_array_equal(cached["sequences"], full["sequences"])
        np.testing.assert_array_equal(cached["lengths"], full["lengths"])
        np.testing.assert_allclose(cached["scores"], full["scores"], atol=1e-5)


def test_log_likelihoods_equal_teacher_forced_scores(setup):
    model, params, batch = setup
    out = jax.device_get(predict_batch(model, params, batch, max_new_tokens=MAX_NEW, num_beams=3,
                                                num_return_sequences=3))
    seqs, lengths = out["sequences"].reshape(9, -1), out["lengths"].reshape(9)
    targets = [list(s[:n]) for s, n in zip(seqs, lengths)]
    enc = [list(t[s == 1]) for t, s in zip(batch["encoder_input_tokens"], batch["encoder_segment_ids"])]
    score_batch = batching.score_batch(
        [e for e in enc for _ in range(3)], targets, decoder_start_token_id=model.config.decoder_start_token_id,
        input_length=10, target_length=MAX_NEW)
    scores = np.asarray(jax.jit(model.score_batch)(params, score_batch))
    np.testing.assert_allclose(out["log_likelihoods"].reshape(9), scores, atol=1e-4)
    # Beam scores are the log-likelihoods over length ** length_penalty (default 1), best first.
    np.testing.assert_allclose(out["scores"].reshape(9), scores / lengths, atol=1e-4)
    assert np.all(np.diff(out["scores"], axis=1) <= 1e-6)


@pytest.fixture(scope="module")
def tiny_vocab_setup():
    """A 6-token vocabulary: small enough to enumerate every output of 3 tokens."""
    cfg = ModelConfig(vocab_size=6, d_model=16, num_encoder_layers=1, num_decoder_layers=2,
                      num_encoder_heads=2, num_decoder_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                      max_position_embeddings=16, decoder_start_token_id=0)
    model = EncoderDecoderModel(cfg)
    params = random_params(model, 1, scale=6.0)
    batch = {"encoder_input_tokens": np.array([[3, 4, 5, 1], [5, 3, 0, 0]], np.int32),
             "encoder_segment_ids": np.array([[1, 1, 1, 1], [1, 1, 0, 0]], np.int32)}
    return model, params, batch


@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_beam_search_equals_exhaustive_search(tiny_vocab_setup, length_penalty):
    """With enough beams to keep every prefix, the n-best list is the exact top of all complete outputs."""
    model, params, batch = tiny_vocab_setup
    vocab, steps = model.config.vocab_size, 3
    beams = (vocab - 1) ** (steps - 1)  # Every unfinished prefix of the penultimate step stays alive.
    out = jax.device_get(predict_batch(
        model, params, batch, max_new_tokens=steps, num_beams=beams, num_return_sequences=beams,
        length_penalty=length_penalty, early_stopping=False))

    # Exhaustive: the log-probabilities of every prefix from one teacher-forced pass over all sequences.
    all_seqs = np.array(list(itertools.product(range(vocab), repeat=steps)), np.int32)
    n = len(all_seqs)
    dec = np.concatenate([np.zeros((n, 1), np.int32), all_seqs[:, :-1]], axis=1)
    for row in range(2):
        rep = {k: np.repeat(v[row:row + 1], n, axis=0) for k, v in batch.items()}
        log_probs = jax.nn.log_softmax(jitted_logits(model)(params, {**rep, "decoder_input_tokens": dec}), -1)
        token_lp = np.take_along_axis(np.asarray(log_probs), all_seqs[..., None], -1)[..., 0]
        hypotheses = {}
        for seq, lp in zip(all_seqs, token_lp):
            ends = [i for i in range(steps) if seq[i] == EOS]
            length = ends[0] + 1 if ends else steps
            hypotheses[tuple(seq[:length])] = lp[:length].sum() / length ** length_penalty
        best = sorted(hypotheses.items(), key=lambda kv: -kv[1])[:beams]
        got = [tuple(s[:k]) for s, k in zip(out["sequences"][row], out["lengths"][row])]
        assert got == [s for s, _ in best]
        np.testing.assert_allclose(out["scores"][row], [v for _, v in best], atol=1e-4)


def test_sampling_limits_equal_greedy(setup):
    model, params, batch = setup
    greedy = jax.device_get(predict_batch(model, params, batch, max_new_tokens=MAX_NEW))["sequences"]
    for options in (dict(temperature=1e-4, top_k=64), dict(temperature=1.0, top_k=1),
                    dict(temperature=1.0, top_p=1e-6)):
        sampled = predict_batch(model, params, batch, max_new_tokens=MAX_NEW, seed=3, **options)
        np.testing.assert_array_equal(np.asarray(sampled["sequences"]), greedy, err_msg=str(options))


def test_sampling_is_seeded_and_top_k_bounds_the_choices(setup):
    model, params, batch = setup
    kwargs = dict(max_new_tokens=MAX_NEW, temperature=1.0, top_k=3, num_return_sequences=4)
    a = jax.device_get(predict_batch(model, params, batch, seed=1, **kwargs))
    b = jax.device_get(predict_batch(model, params, batch, seed=1, **kwargs))
    c = jax.device_get(predict_batch(model, params, batch, seed=2, **kwargs))
    np.testing.assert_array_equal(a["sequences"], b["sequences"])
    assert not np.array_equal(a["sequences"], c["sequences"])
    # First tokens: always among the 3 most likely first tokens of their example.
    dec = np.zeros((3, 1), np.int32)
    first = np.asarray(jitted_logits(model)(params, {**batch, "decoder_input_tokens": dec}))[:, 0]
    top3 = np.argsort(-first, axis=-1)[:, :3]
    for row in range(3):
        assert set(a["sequences"][row, :, 0]) | set(c["sequences"][row, :, 0]) <= set(top3[row])


def test_banned_sequences_never_appear(setup):
    model, params, batch = setup
    out = jax.device_get(predict_batch(model, params, batch, max_new_tokens=MAX_NEW))
    greedy, lengths = out["sequences"][:, 0], out["lengths"][:, 0]
    row = int(np.argmax(lengths))
    assert lengths[row] >= 3
    pair = [int(greedy[row, 0]), int(greedy[row, 1])]
    single = int(greedy[(row + 1) % 3, 0])
    banned = [pair, [single]]
    for options in (dict(), dict(num_beams=3, num_return_sequences=3), dict(temperature=1.0, top_k=5,
                                                                          num_return_sequences=4)):
        out = jax.device_get(predict_batch(model, params, batch, max_new_tokens=MAX_NEW,
                                                    banned_sequences=banned, **options))
        for seq, n in zip(out["sequences"].reshape(-1, MAX_NEW), out["lengths"].reshape(-1)):
            seq = list(seq[:n])
            assert single not in seq, options
            assert all(seq[i:i + 2] != pair for i in range(len(seq) - 1)), options
    # n-gram semantics: the pair's last token is only banned right after its first token.
    out = np.asarray(predict_batch(model, params, batch, max_new_tokens=MAX_NEW,
                                            banned_sequences=[pair])["sequences"])[:, 0]
    assert out[row, 0] == pair[0] and out[row, 1] != pair[1]


def test_min_new_tokens_and_stop_sequences(setup):
    model, params, batch = setup
    eager = _with_eos_bias(params, 50.0)
    short = jax.device_get(predict_batch(model, eager, batch, max_new_tokens=MAX_NEW))
    assert np.all(short["lengths"] == 1)
    for options in (dict(), dict(num_beams=3), dict(temperature=1.0, top_p=0.9)):
        out = jax.device_get(predict_batch(model, eager, batch, max_new_tokens=MAX_NEW,
                                                    min_new_tokens=4, **options))
        assert np.all(out["lengths"] == 5), options  # EOS is allowed from the 5th token on, and taken.
        assert np.all(out["sequences"][..., 4] == EOS)
    greedy = jax.device_get(predict_batch(model, params, batch, max_new_tokens=MAX_NEW))
    row = int(np.argmax(greedy["lengths"][:, 0]))
    seq = [int(t) for t in greedy["sequences"][row, 0]]
    stop = seq[1:3]
    expected = next(n for n in range(2, MAX_NEW + 1) if seq[n - 2:n] == stop)
    stopped = jax.device_get(predict_batch(model, params, batch, max_new_tokens=MAX_NEW,
                                                    stop_sequences=[stop]))
    assert stopped["lengths"][row, 0] == expected
    np.testing.assert_array_equal(stopped["sequences"][row, 0, :expected], seq[:expected])


@pytest.mark.parametrize("options,message", [
    (dict(max_new_tokens=0), "max_new_tokens"),
    (dict(max_new_tokens=33), "max_new_tokens"),
    (dict(min_new_tokens=9), "min_new_tokens"),
    (dict(top_k=3), "temperature > 0"),
    (dict(num_return_sequences=2), "Greedy"),
    (dict(num_beams=2, num_return_sequences=3), "num_beams"),
    (dict(num_beams=2, temperature=1.0), "Beam search does not sample"),
    (dict(temperature=1.0, top_p=1.5), "top_p"),
    (dict(banned_sequences=[[64]]), "banned_sequences"),
    (dict(stop_sequences=[[]]), "stop_sequences"),
])
def test_bad_options_raise_with_the_option_named(setup, options, message):
    model, params, batch = setup
    with pytest.raises(ValueError, match=message):
        predict_batch(model, params, batch, **{"max_new_tokens": MAX_NEW, **options})


def test_token_sequence_helpers():
    packed = sampling.pack_token_sequences([[5], [7, 8, 9]], name="x", vocab_size=16)
    assert packed.shape == (4, 4)  # At least MIN_SHAPE, so most calls share one compiled loop.
    np.testing.assert_array_equal(packed[:2], [[-1, -1, -1, 5], [-1, 7, 8, 9]])
    assert np.all(packed[2:] == sampling.NEVER)
    assert sampling.pack_token_sequences([[5]] * 5 + [[1] * 7], name="x", vocab_size=16).shape == (8, 8)
    history = jnp.array([[-2, -2, -2, -2, 7, 8, -2, -2], [-2, -2, -2, -2, 3, 7, -2, -2]])
    mask = sampling.banned_token_mask(history, jnp.int32(2), jnp.asarray(packed), 16, offset=4)
    assert np.asarray(mask[:, 5]).tolist() == [True, True]  # [5] is banned everywhere
    assert np.asarray(mask[:, 9]).tolist() == [True, False]  # [7, 8, 9] only after 7, 8
    assert int(mask.sum()) == 3
    logits = jnp.log(jnp.array([[0.5, 0.3, 0.15, 0.05]]))
    keep = lambda k, p: np.isfinite(np.asarray(sampling.filter_top_k_top_p(logits, jnp.int32(k), p))).sum()
    assert [keep(4, 0.5), keep(4, 0.7), keep(4, 0.81), keep(2, 0.99), keep(4, 1.0), keep(4, 1e-9)] == [1, 2, 3, 2,
                                                                                                        4, 1]
