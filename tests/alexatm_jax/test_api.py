"""`Seq2SeqLM.generate` / `.score` on a random checkpoint with the project's default vocabulary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import jax
import numpy as np
import pytest

import alexatm_jax
from alexatm_jax import prompting as tok
from tests.alexatm_jax.decoding_fixtures import REPO, VOCAB_SIZE, save_checkpoint, small_config

PROMPTS = ["Hello world", "Le chat est sur la table, et il dort.", "Ein"]


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    directory, _ = save_checkpoint(tmp_path_factory.mktemp("api") / "ckpt", scale=3.0)
    return alexatm_jax.load(directory)


def test_string_inputs_tokenise_in_clm_or_denoising_mode(lm):
    t = lm.tokenizer
    clm, eos = t.piece_to_id("[CLM]"), lm.config.eos_token_id
    ids = tok.encode_inputs(t, ["Hello world"], "clm")[0]
    assert ids[0] == clm and ids[-1] == eos and ids.count(clm) == 1
    assert tok.encode_inputs(t, ["[CLM] Hello world"], "clm")[0] == ids  # Not prefixed twice.
    assert tok.encode_inputs(t, ["Hello world"], "denoising")[0] == ids[1:]
    with pytest.raises(ValueError, match="mode='denoising'"):
        tok.encode_inputs(t, ["[CLM] Hello"], "denoising")
    with pytest.raises(ValueError, match="mode="):
        tok.encode_inputs(t, ["Hello"], "causal")


def test_generate_strings_and_token_ids_agree_and_batches_match_single_inputs(lm):
    texts = lm.generate(PROMPTS, max_new_tokens=6)
    assert all(isinstance(x, str) for x in texts) and len(texts) == 3
    ids = tok.encode_inputs(lm.tokenizer, PROMPTS, "clm")
    details = lm.generate(ids, max_new_tokens=6, return_details=True)
    assert [lm.tokenizer.decode(d["tokens"]) for d in details] == texts
    assert all(isinstance(d["output"], list) for d in details)
    # A batch of mixed lengths gives what each input gives alone (padding comes from segment ids).
    for prompt, text in zip(PROMPTS, texts):
        assert lm.generate(prompt, max_new_tokens=6) == text


def test_score_is_the_sum_of_log_softmax_of_logits(lm):
    inputs, targets = [[5, 6, 7, 2], [9, 2]], [[11, 12, 13], [14]]
    scores = lm.score(inputs, targets)
    assert scores.dtype == np.float32 and scores.shape == (2,)
    start = lm.config.decoder_start_token_id
    for enc, tgt, score in zip(inputs, targets, scores):
        log_probs = np.asarray(jax.nn.log_softmax(lm.logits([enc], [[start] + tgt[:-1]])[0], axis=-1))
        np.testing.assert_allclose(score, log_probs[np.arange(len(tgt)), tgt].sum(), rtol=1e-5, atol=1e-4)
    # Strings: the same numbers as the ids they tokenise to; an empty target scores 0.
    text_scores = lm.score(["Hello", "Hello"], ["world", ""])
    ids = tok.encode_inputs(lm.tokenizer, ["Hello"], "clm")[0]
    np.testing.assert_allclose(text_scores[0], lm.score([ids], [lm.tokenizer.encode("world")])[0], atol=1e-5)
    assert text_scores[1] == 0.0
    assert np.ndim(lm.score("Hello", "world")) == 0


def test_stop_strings_cut_the_text_and_banned_sequences_never_appear(lm):
    text = lm.generate(PROMPTS[1], max_new_tokens=8, mode="denoising")
    assert len(text) > 4
    stop = text[len(text) // 2:len(text) // 2 + 2]
    cut = lm.generate(PROMPTS[1], max_new_tokens=8, mode="denoising", stop_strings=[stop])
    assert cut == text[:text.find(stop)]
    tokens = lm.generate(PROMPTS[1], max_new_tokens=8, mode="denoising", return_details=True)["tokens"]
    banned = lm.generate(PROMPTS[1], max_new_tokens=8, mode="denoising", banned_sequences=[tokens[:1]],
                         return_details=True)
    assert tokens[0] not in banned["tokens"]


def test_n_best_and_samples_come_back_per_input(lm):
    beams = lm.generate(PROMPTS[:2], max_new_tokens=6, num_beams=3, num_return_sequences=2)
    assert len(beams) == 2 and all(len(b) == 2 and all(isinstance(s, str) for s in b) for b in beams)
    details = lm.generate(PROMPTS[0], max_new_tokens=6, num_beams=3, num_return_sequences=3, return_details=True)
    assert [d["score"] for d in details] == sorted((d["score"] for d in details), reverse=True)
    samples = lm.generate(PROMPTS[0], max_new_tokens=6, temperature=1.0, top_p=0.9, seed=0)
    assert samples == lm.generate(PROMPTS[0], max_new_tokens=6, temperature=1.0, top_p=0.9, seed=0)


def test_long_prompts_are_truncated_from_the_left_keeping_clm_or_rejected(lm):
    long_prompt = " ".join(f"mot{i}" for i in range(200))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = lm.generate(long_prompt, max_new_tokens=4, return_details=True)
    assert out["input_truncated"] and any("keeping its last 63 after [CLM]" in str(w.message) for w in caught)
    ids = tok.encode_inputs(lm.tokenizer, [long_prompt], "clm")[0]
    kept = ids[:1] + ids[-63:]
    assert lm.generate(kept, max_new_tokens=4) == out["tokens"]
    with pytest.raises(ValueError, match="truncation='left'"):
        lm.generate(long_prompt, max_new_tokens=4, truncation="error")
    with pytest.raises(ValueError, match="max_input_length"):
        lm.generate("Hi", max_new_tokens=4, max_input_length=65)


@pytest.mark.parametrize("inputs,message", [
    ("", "Input 0 is empty"),
    (["Hi", "   "], "Input 1 is empty"),
    ([[5, 6], []], "Input 1 is an empty token list"),
    ([[5, VOCAB_SIZE]], rf"outside \[0, {VOCAB_SIZE}\)"),
    (["Hi", [5, 6]], "not a mix"),
    ([], "inputs is empty"),
])
def test_bad_inputs_raise_clear_errors(lm, inputs, message):
    with pytest.raises(ValueError, match=message):
        lm.generate(inputs, max_new_tokens=4)


def test_a_vocabulary_larger_than_the_model_is_rejected(tmp_path):
    directory, _ = save_checkpoint(tmp_path / "small_vocab", small_config(vocab_size=VOCAB_SIZE // 2))
    with pytest.raises(ValueError, match="vocab_path"):
        alexatm_jax.load(directory).generate("Hello", max_new_tokens=4)


def test_checkpoint_without_vocabulary_decodes_token_ids(tmp_path):
    directory, _ = save_checkpoint(tmp_path / "novocab", vocab_path=None, scale=3.0)
    lm = alexatm_jax.load(directory)
    assert lm.tokenizer is None
    out = lm.generate([[5, 6, 7, 2]], max_new_tokens=4)
    assert isinstance(out[0], list) and all(isinstance(t, int) for t in out[0])
    with pytest.raises(ValueError, match="vocab_path"):
        lm.generate("Hello", max_new_tokens=4)
    with pytest.raises(ValueError, match="vocab_path"):
        lm.generate([[5, 6]], max_new_tokens=4, stop_strings=["."])


def test_sharded_inference_on_8_devices_matches_one_device(tmp_path):
    """Parameters sharded by the training rules (FSDP x tensor, mesh 1x4x2) give the 1-device outputs."""
    directory, _ = save_checkpoint(tmp_path / "ckpt", scale=3.0)
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8", "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("sharded_inference_worker.py")),
                           str(directory), str(tmp_path / "out.json")], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["kernel_shards"] == 8  # Every device holds a different piece of the MLP weights.
    assert result["kernel_shard_shape"][1:] == [result["kernel_shape"][1] // 4, result["kernel_shape"][2] // 2]
    single, sharded = result["single"], result["sharded"]
    for key in ("greedy", "beams"):
        assert _outputs(sharded[key]) == _outputs(single[key])
        np.testing.assert_allclose(_scores(sharded[key]), _scores(single[key]), atol=1e-4)
    np.testing.assert_allclose(sharded["score"], single["score"], atol=1e-4)


def _outputs(details):
    return [[d["output"] for d in x] if isinstance(x, list) else x["output"] for x in details]


def _scores(details):
    return [[d["score"] for d in x] if isinstance(x, list) else x["score"] for x in details]


@pytest.mark.parametrize("call,error,message", [
    (lambda lm: lm.generate([[1.7, 5.2]], max_new_tokens=4), TypeError,
     r"inputs\[0\] must hold integer token ids; item 0 is 1.7 \(float\): round or cast"),
    (lambda lm: lm.generate(np.array([[1.5, 2.0]]), max_new_tokens=4), TypeError, "array of float64"),
    (lambda lm: lm.generate(b"\xff\xfe\x00abc", max_new_tokens=4), TypeError, r"got b'.*\(bytes\).*decode"),
    (lambda lm: lm.generate([True, 5], max_new_tokens=4), TypeError, r"item 0 is True \(bool\)"),
    (lambda lm: lm.generate("Hi", max_new_tokens=4, temperature=float("nan")), ValueError,
     "temperature=nan is not a finite number"),
    (lambda lm: lm.generate("Hi", max_new_tokens=4, max_input_length=0), ValueError,
     r"max_input_length=0 must be >= 1 \(or None"),
    (lambda lm: lm.generate(None, max_new_tokens=4), TypeError, r"inputs must be a string, .*; got None"),
    (lambda lm: lm.score(["Hi"], None), TypeError, r"targets must be a string, .*; got None"),
    (lambda lm: lm.generate("Hi", max_new_tokens=2.5), TypeError,
     r"max_new_tokens must be an integer; got 2.5 \(float\)"),
    (lambda lm: lm.generate("Hi", max_new_tokens=None), TypeError, "max_new_tokens must be an integer; got None"),
    (lambda lm: lm.generate("Hi", max_new_tokens=4, batch_size=0), ValueError, "batch_size=0 must be >= 1"),
    (lambda lm: lm.score("Hi", "there", batch_size=0), ValueError, "batch_size=0 must be >= 1"),
    (lambda lm: lm.generate("abc\udcffdef", max_new_tokens=4), ValueError,
     r"inputs is not valid Unicode: '\\udcff' at position 3 is a lone surrogate"),
    (lambda lm: lm.score("Hi", ["ok\ud800"]), ValueError, r"targets\[0\] is not valid Unicode"),
    (lambda lm: lm.generate("Hi", max_new_tokens=4, stop_strings="."), TypeError, r"pass \['.'\]"),
    (lambda lm: lm.logits([[5, 6, 7], [5, 6]], [[0], [0]]), ValueError,
     r"encoder_input_tokens rows have different lengths \[3, 2\]: pad them"),
    (lambda lm: lm.logits([[5.0, 6.0]], [[0]]), TypeError, "encoder_input_tokens must hold integer token ids"),
])
def test_bad_arguments_name_the_argument_what_was_given_and_what_is_accepted(lm, call, error, message):
    with pytest.raises(error, match=message):
        call(lm)


def test_numpy_integers_are_accepted_where_lists_are(lm):
    ids = [5, 6, 7, 2]
    expected = lm.generate(ids, max_new_tokens=4)
    assert lm.generate(np.array(ids, np.int64), max_new_tokens=4, batch_size=np.int64(2)) == expected
    assert lm.generate([np.int32(t) for t in ids], max_new_tokens=np.int32(4)) == expected
