import numpy as np
import pytest

import alexatm_jax
from alexatm_jax.checkpoint import params as checkpoints
from alexatm_jax.checkpoint import run_dir
from alexatm_jax.errors import DataError


def test_save_and_load_round_trip(tmp_path, tiny_model_and_params):
    model, params = tiny_model_and_params
    checkpoints.save_params(tmp_path / "ckpt", params, model.config, vocab_path="/some/spm.model")
    lm = alexatm_jax.load(tmp_path / "ckpt")
    assert lm.config == model.config
    assert lm.vocab_path == "/some/spm.model"
    enc, dec = np.arange(12).reshape(2, 6) % 64, np.arange(8).reshape(2, 4) % 64
    mask = np.array([[1] * 6, [1] * 4 + [0] * 2])
    expected = model.logits(params, {"encoder_input_tokens": enc, "decoder_input_tokens": dec,
                                     "encoder_segment_ids": mask})
    np.testing.assert_allclose(lm.logits(enc, dec, mask), expected, atol=1e-6)


def test_load_overrides_layout_and_dtype(tmp_path, tiny_model_and_params):
    model, params = tiny_model_and_params
    checkpoints.save_params(tmp_path, params, model.config)
    enc, dec = np.arange(6)[None], np.arange(3)[None]
    base = alexatm_jax.load(tmp_path).logits(enc, dec)
    unscanned = alexatm_jax.load(tmp_path, scan_layers=False)
    assert "layers_0" in unscanned.params["encoder"]
    np.testing.assert_allclose(unscanned.logits(enc, dec), base, atol=1e-6)
    bf16 = alexatm_jax.load(tmp_path, dtype="bfloat16")
    assert bf16.config.dtype == "bfloat16"
    assert np.abs(bf16.logits(enc, dec) - base).max() < 0.05


def test_load_takes_latest_complete_step_of_a_model_dir(tmp_path, tiny_model_and_params):
    model, params = tiny_model_and_params
    run_dir.write_model_config(tmp_path, model.config)
    for step in (100, 200):
        scaled = {**params, "final_logits_bias": params["final_logits_bias"] + step}
        checkpoints.save_params(tmp_path / str(step), scaled, model.config)
    (tmp_path / "300.orbax-checkpoint-tmp-1").mkdir()  # An interrupted save is not a step.
    lm = alexatm_jax.load(tmp_path)
    assert float(lm.params["final_logits_bias"][0]) == pytest.approx(200.0)


def test_load_errors_explain(tmp_path, tiny_model_and_params):
    with pytest.raises(DataError, match="convert_checkpoint"):
        alexatm_jax.load(tmp_path)
    model, params = tiny_model_and_params
    checkpoints.save_params(tmp_path, params, model.config)
    lm = alexatm_jax.load(tmp_path)
    with pytest.raises(ValueError, match="token ids must lie"):
        lm.logits([[1, 2, 999]], [[0]])
    with pytest.raises(ValueError, match="Unknown ModelConfig field"):
        alexatm_jax.load(tmp_path, attention="xla")
