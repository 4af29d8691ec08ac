"""`python -m alexatm_jax.train` with a bad configuration: exit 2, one paragraph, and nothing written to MODEL_DIR
(run in-process: every case fails before the first compile)."""

from __future__ import annotations

import importlib.util  # noqa: F401  gin-config 0.5.0 needs importlib.util imported first
import os
import sys
from pathlib import Path

import pytest

import gin

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_fixtures as fx  # noqa: E402

from alexatm_jax import train  # noqa: E402
from alexatm_jax.checkpoint import params as checkpoints  # noqa: E402
from tests.alexatm_jax.decoding_fixtures import save_checkpoint  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_gin():
    gin.clear_config()
    yield
    gin.clear_config()


def _train(gin_file: Path, model_dir: Path, *bindings: str) -> int:
    return train.main([f"--gin_file={gin_file}", f"--gin_search_paths={gin_file.parent}",
                       f"--gin.MODEL_DIR='{model_dir}'", "--gin.TRAIN_STEPS=2", *bindings])


def test_configuration_errors_exit_2_before_anything_is_written(tmp_path, capsys):
    gin_file = fx.write_gin(tmp_path / "gin", "train_script.train.eval_every_steps = None")
    model_dir = tmp_path / "run"
    cases = [
        (["--gin.BATCH_SIZE=7", "--gin.train_script.train.num_microbatches=2"], "BATCH_SIZE=7 must be a multiple"),
        (["--gin.TASK_FEATURE_LENGTHS={'inputs': 100, 'targets': 32}"],
         "TASK_FEATURE_LENGTHS['inputs']=100 exceeds the model's max_position_embeddings=64"),
        (["--gin.MIXTURE_OR_TASK_NAME='synthetic_pretrian'"], "Did you mean synthetic_pretrain"),
        (["--gin.TRAIN_STEPS=0"], "TRAIN_STEPS=0: training needs at least one step"),
        ([f"--gin.train_script.train.initial_checkpoint='{tmp_path / 'missing'}'"], "No checkpoint at"),
    ]
    for bindings, message in cases:
        gin.clear_config()
        assert _train(gin_file, model_dir, *bindings) == 2, bindings
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and len(err.splitlines()) <= 3, err
        assert not model_dir.exists(), bindings  # no config files left behind


def test_model_dir_that_is_a_file_or_a_checkpoint_is_refused_untouched(tmp_path, capsys):
    gin_file = fx.write_gin(tmp_path / "gin", "train_script.train.eval_every_steps = None")
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    assert _train(gin_file, a_file) == 2
    assert "is a file" in capsys.readouterr().err and a_file.read_text() == "x"
    ckpt, _ = save_checkpoint(tmp_path / "ckpt")
    before = sorted((p.relative_to(ckpt), p.stat().st_mtime_ns) for p in ckpt.rglob("*"))
    gin.clear_config()
    assert _train(gin_file, ckpt) == 2
    err = capsys.readouterr().err
    assert "is a converted checkpoint directory" in err and "initial_checkpoint" in err
    assert sorted((p.relative_to(ckpt), p.stat().st_mtime_ns) for p in ckpt.rglob("*")) == before
    assert checkpoints.stored_shapes(ckpt / "params")  # still a readable checkpoint


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_model_dir_is_refused(tmp_path, capsys):
    gin_file = fx.write_gin(tmp_path / "gin", "train_script.train.eval_every_steps = None")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert _train(gin_file, locked / "run") == 2
        assert "cannot be written" in capsys.readouterr().err
    finally:
        locked.chmod(0o755)
