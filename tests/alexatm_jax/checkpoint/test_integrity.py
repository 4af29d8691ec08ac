"""Fault injection on a real training run: damage each kind of file of the latest step, then check that `load`
and resume fall back to the newest intact step (naming the damaged one) and that verify reports it."""

from __future__ import annotations

import json
import logging
import os
import shutil

import jax
import numpy as np
import pytest

import alexatm_jax
from alexatm_jax import verify_checkpoint
from alexatm_jax.checkpoint import integrity, run_dir
from alexatm_jax.checkpoint.manager import CheckpointConfig, TrainCheckpointer
from alexatm_jax.checkpoint.params import restore_params
from alexatm_jax.errors import DataError
from alexatm_jax.model.config import ModelConfig
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel
from alexatm_jax.partitioning import Partitioner
from alexatm_jax.training.loop import run_training
from alexatm_jax.training.optimizers import OptimizerConfig, make_optimizer
from alexatm_jax.training.trainer import Trainer, synthetic_batch

CONFIG = ModelConfig(vocab_size=32, d_model=16, num_encoder_layers=1, num_decoder_layers=1, num_encoder_heads=2,
                     num_decoder_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=16)


def _batches(start):
    index = start
    while True:
        yield synthetic_batch(CONFIG, 4, 12, 8, seed=index)
        index += 1


@pytest.fixture(scope="module")
def trainer():
    return Trainer(EncoderDecoderModel(CONFIG), make_optimizer(OptimizerConfig(learning_rate=3e-3), 8), Partitioner())


def _train(trainer, model_dir, steps):
    checkpointer = TrainCheckpointer(model_dir, CheckpointConfig(save_every_steps=2, keep=5))
    try:
        return run_training(trainer=trainer, checkpointer=checkpointer, model_dir=model_dir, train_steps=steps,
                            train_batches=_batches, progress_bar=False, log_every_steps=100)
    finally:
        checkpointer.close()


@pytest.fixture(scope="module")
def trained(trainer, tmp_path_factory):
    """A MODEL_DIR with steps 2 and 4 (asynchronous saves, as training does)."""
    model_dir = tmp_path_factory.mktemp("integrity") / "run"
    _train(trainer, model_dir, 4)
    run_dir.write_model_config(model_dir, CONFIG)
    return model_dir


def _params(checkpoint_dir):
    return restore_params(checkpoint_dir, EncoderDecoderModel(CONFIG).param_shapes())


def _largest_file(item_dir):
    """The largest array data file of an orbax item (OCDBT: `ocdbt.process_<i>/d/<hash>`)."""
    return max((p for p in item_dir.glob("ocdbt.process_*/d/*") if p.is_file()), key=lambda p: p.stat().st_size)


def _truncate(path):
    os.truncate(path, path.stat().st_size // 2)


DAMAGE = {
    "params data truncated": lambda s: _truncate(_largest_file(s / "params")),
    "params data deleted": lambda s: _largest_file(s / "params").unlink(),
    "params metadata deleted": lambda s: (s / "params" / "_METADATA").unlink(),
    "params item deleted": lambda s: shutil.rmtree(s / "params"),
    "opt_state data truncated": lambda s: _truncate(_largest_file(s / "opt_state")),
    "state (train record) garbage": lambda s: (s / "state" / "metadata").write_text("{garbage"),
}
PARAMS_DAMAGE = {k for k in DAMAGE if k.startswith("params")}


def test_every_committed_step_has_a_manifest_that_stays_valid(trained):
    for step in (2, 4):
        step_dir = trained / str(step)
        manifest = json.loads((step_dir / integrity.MANIFEST_FILE).read_text())
        assert any(name.startswith("params/ocdbt") for name in manifest["files"])
        assert any(name.startswith("opt_state/") for name in manifest["files"])
        assert run_dir.check(step_dir, ("params", "opt_state", "state"), full=True) == []
    assert verify_checkpoint.main([str(trained)]) == 0


@pytest.mark.parametrize("how", list(DAMAGE))
def test_damaged_latest_step_load_resume_and_verify(trainer, trained, tmp_path, how, caplog):
    model_dir = tmp_path / "run"
    shutil.copytree(trained, model_dir)
    DAMAGE[how](model_dir / "4")
    files_before = sorted(p.relative_to(model_dir) for p in (model_dir / "4").rglob("*"))

    # verify: names the step, the item and the file; the other step is intact.
    report = dict(verify_checkpoint.verify(model_dir))
    assert report["step 4"].startswith("DAMAGED: " + how.split()[0] + "/") and report["step 2"].startswith("intact")

    # load: params damage -> step 2 with a warning naming step 4; other damage does not concern load.
    with caplog.at_level(logging.WARNING, logger="alexatm_jax"):
        lm = alexatm_jax.load(model_dir)
    expected_step = "2" if how in PARAMS_DAMAGE else "4"
    assert run_dir.find_checkpoint(model_dir) == model_dir / expected_step
    jax.tree_util.tree_map(np.testing.assert_array_equal, lm.params, _params(trained / expected_step))
    if how in PARAMS_DAMAGE:
        assert "Step 4 of" in caplog.text and "is damaged: params/" in caplog.text

    # resume: from step 2, the damaged step kept aside (nothing deleted), training reaches step 4 again.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="alexatm_jax"):
        result = _train(trainer, model_dir, 4)
    assert (result.start_step, result.final_step) == (2, 4)
    assert "Step 4 of" in caplog.text and "4.damaged" in caplog.text
    assert sorted(p.relative_to(model_dir / "4.damaged") for p in (model_dir / "4.damaged").rglob("*")) == [
        p.relative_to("4") for p in files_before]
    jax.tree_util.tree_map(np.testing.assert_array_equal, _params(model_dir / "4"), _params(trained / "4"))
    report = dict(verify_checkpoint.verify(model_dir))
    assert report["step 4"].startswith("intact") and "moved aside" in report["4.damaged"]


def test_flipped_bits_pass_the_quick_check_and_fail_verify(trained, tmp_path, capsys):
    model_dir = tmp_path / "run"
    shutil.copytree(trained, model_dir)
    path = _largest_file(model_dir / "4" / "params")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert run_dir.find_checkpoint(model_dir) == model_dir / "4"  # same size: only the full check sees it
    assert verify_checkpoint.main([str(model_dir)]) == 1
    assert "CRC-32 differs" in capsys.readouterr().out


def test_garbage_model_config_is_named(trained, tmp_path, capsys):
    model_dir = tmp_path / "run"
    shutil.copytree(trained, model_dir)
    (model_dir / run_dir.MODEL_CONFIG_FILE).write_text("{garbage")
    with pytest.raises(DataError, match=r"model_config.json \(the model config\) is not valid JSON"):
        alexatm_jax.load(model_dir)
    assert verify_checkpoint.main([str(model_dir)]) == 1
    out = capsys.readouterr().out
    assert "model_config.json  DAMAGED" in out and "step 4" in out


def test_a_step_without_manifest_is_checked_by_reading_it_back(trained, tmp_path, capsys):
    """What a kill -9 between the commit and the manifest leaves (or a run saved before manifests)."""
    model_dir = tmp_path / "run"
    shutil.copytree(trained, model_dir)
    for step in (2, 4):
        (model_dir / str(step) / integrity.MANIFEST_FILE).unlink()
    # Every data file truncated (OCDBT does not read them all), before anything reads the step: TensorStore
    # caches what a process has read.
    for path in (model_dir / "4" / "params").rglob("d/*"):
        _truncate(path)
    assert run_dir.find_checkpoint(model_dir) == model_dir / "4"  # the quick check needs the manifest's sizes
    assert verify_checkpoint.main([str(model_dir)]) == 1
    out = capsys.readouterr().out
    assert "step 2             intact (no manifest: structure checked and every array read back)" in out
    assert "step 4             DAMAGED: params/ cannot be read back" in out
    with pytest.raises(DataError, match="verify_checkpoint"):  # a clear error, not TensorStore's page
        alexatm_jax.load(model_dir)


def test_every_step_damaged_is_an_error_not_a_fresh_start(trainer, trained, tmp_path):
    model_dir = tmp_path / "run"
    shutil.copytree(trained, model_dir)
    for step in (2, 4):
        (model_dir / str(step) / "params" / "_METADATA").unlink()
    with pytest.raises(DataError, match="Every step"):
        alexatm_jax.load(model_dir)
    with pytest.raises(DataError, match="Every step"):
        _train(trainer, model_dir, 6)
    assert sorted(p.name for p in model_dir.iterdir() if p.name[0].isdigit()) == ["2", "4"]


def test_verify_a_converted_checkpoint_and_bad_paths(tmp_path, tiny_model_and_params, capsys):
    from alexatm_jax.checkpoint.params import save_params

    model, params = tiny_model_and_params
    save_params(tmp_path / "ckpt", params, model.config)
    assert verify_checkpoint.main([str(tmp_path / "ckpt")]) == 0
    _truncate(_largest_file(tmp_path / "ckpt" / "params"))
    assert verify_checkpoint.main([str(tmp_path / "ckpt")]) == 1
    with pytest.raises(DataError, match="The checkpoint .* is damaged: params/"):
        alexatm_jax.load(tmp_path / "ckpt")
    assert verify_checkpoint.main([str(tmp_path / "nothing")]) == 2
    assert "is not a checkpoint (missing)" in capsys.readouterr().err
