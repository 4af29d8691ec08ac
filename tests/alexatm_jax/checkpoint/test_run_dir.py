"""The run-directory layout: kinds of directory, steps, config and metadata files with clear errors."""

from __future__ import annotations

import pytest

from alexatm_jax.checkpoint import run_dir
from alexatm_jax.errors import DataError
from alexatm_jax.model.config import ModelConfig


def test_model_config_round_trip(tmp_path):
    cfg = ModelConfig(d_model=64, num_encoder_heads=4, num_decoder_heads=2, attention_impl="pallas")
    run_dir.write_model_config(tmp_path, cfg)
    assert run_dir.read_model_config(tmp_path) == cfg


def test_missing_or_garbage_config_names_the_file(tmp_path):
    with pytest.raises(DataError, match="model_config.json not found"):
        run_dir.read_model_config(tmp_path)
    (tmp_path / run_dir.MODEL_CONFIG_FILE).write_text("{not json")
    with pytest.raises(DataError, match=r"model_config.json \(the model config\) is not valid JSON"):
        run_dir.read_model_config(tmp_path)
    (tmp_path / run_dir.MODEL_CONFIG_FILE).write_text('{"d_modell": 3}')
    with pytest.raises(DataError, match="not a valid model config.*d_modell"):
        run_dir.read_model_config(tmp_path)


def test_kinds_of_directory(tmp_path):
    assert run_dir.kind(tmp_path / "nope") is run_dir.DirKind.MISSING
    assert run_dir.kind(tmp_path) is run_dir.DirKind.EMPTY
    (tmp_path / "file").write_text("x")
    assert run_dir.kind(tmp_path / "file") is run_dir.DirKind.NOT_A_DIRECTORY
    assert run_dir.kind(tmp_path) is run_dir.DirKind.OTHER
    ckpt = tmp_path / "ckpt"
    (ckpt / run_dir.PARAMS_ITEM).mkdir(parents=True)
    assert run_dir.kind(ckpt) is run_dir.DirKind.CHECKPOINT
    run = tmp_path / "run"
    (run / "100" / run_dir.PARAMS_ITEM).mkdir(parents=True)
    assert run_dir.kind(run) is run_dir.DirKind.TRAINING_RUN
    fresh_run = tmp_path / "fresh"
    fresh_run.mkdir()
    (fresh_run / run_dir.OPERATIVE_CONFIG_FILE).write_text("")
    assert run_dir.kind(fresh_run) is run_dir.DirKind.TRAINING_RUN
    official = tmp_path / "official"
    official.mkdir()
    (official / "config.json").write_text("{}")
    (official / "model.safetensors").write_bytes(b"")
    assert run_dir.kind(official) is run_dir.DirKind.OFFICIAL


def test_find_checkpoint_takes_the_latest_intact_step(tmp_path, caplog):
    for step in (5, 10):
        (tmp_path / str(step) / run_dir.PARAMS_ITEM).mkdir(parents=True)
        (tmp_path / str(step) / run_dir.PARAMS_ITEM / "_METADATA").write_text('{"tree_metadata": {}}')
    (tmp_path / "20.orbax-checkpoint-tmp-1" / run_dir.PARAMS_ITEM).mkdir(parents=True)  # a save in progress
    (tmp_path / "30").mkdir()  # committed, then its params deleted: damaged
    assert [s for s, _ in run_dir.step_dirs(tmp_path)] == [5, 10, 30]
    assert run_dir.find_checkpoint(tmp_path) == tmp_path / "10"
    assert "Step 30 of" in caplog.text and "params/ is missing" in caplog.text


def test_find_checkpoint_explains_an_official_directory(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "pytorch_model.bin").write_bytes(b"")
    with pytest.raises(DataError, match="convert it first"):
        run_dir.find_checkpoint(tmp_path)


def test_metadata_is_read_from_the_run_of_a_step(tmp_path):
    run_dir.write_metadata(tmp_path, vocab_path="/v.model")
    (tmp_path / "7").mkdir()
    assert run_dir.read_metadata(tmp_path / "7") == {"format": run_dir.FORMAT, "vocab_path": "/v.model"}
    assert run_dir.read_metadata(tmp_path / "nothing_here" / "x") == {}
