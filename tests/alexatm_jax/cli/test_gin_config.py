"""Gin configuration: every shipped file parses, and mistakes get errors that name them and show a fix."""

from __future__ import annotations

import importlib.util  # noqa: F401  (gin-config 0.5.0 needs it first)
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import gin
from alexatm_jax.cli import app
from alexatm_jax.cli import gin_config as gin_utils

REPO = Path(__file__).resolve().parents[3]
GIN = REPO / "gin"
REQUIRED = ["MODEL_DIR='/tmp/x'", "MIXTURE_OR_TASK_NAME='t'", "TASK_FEATURE_LENGTHS={'inputs': 8, 'targets': 8}",
            "TRAIN_STEPS=10", "CHECKPOINT_PATH='/tmp/ckpt'"]


@pytest.fixture(autouse=True)
def fresh_gin():
    gin.clear_config()
    yield
    gin.clear_config()


def _parse(files, bindings=()):
    gin_utils.parse([str(f) for f in files], list(bindings))


@pytest.mark.parametrize("experiment", sorted(p.name for p in (GIN / "experiments").glob("*.gin")))
def test_every_experiment_parses_from_the_default_search_path(experiment):
    # Relative to the built-in search path (the repository's gin/), without --gin_search_paths. Required macros
    # get the example values that the error message suggests.
    bindings = ["MODEL_DIR='/tmp/x'"]
    try:
        _parse([f"experiments/{experiment}"], bindings)
    except gin_utils.GinConfigError as e:
        missing = re.findall(r"(\w+) is required: pass --gin\.\w+=(.*)", str(e))
        assert missing, str(e)
        gin.clear_config()
        _parse([f"experiments/{experiment}"], bindings + [f"{k}={v.strip(chr(34))}" for k, v in missing])
    assert "MODEL_DIR = '/tmp/x'" in gin.config_str()


@pytest.mark.parametrize("run", ["pretrain", "finetune"])
@pytest.mark.parametrize("partitioning", ["dp", "fsdp", "fsdp_tp"])
def test_model_run_and_partitioning_files_combine(run, partitioning):
    bindings = [b for b in REQUIRED if run == "finetune" or not b.startswith("CHECKPOINT_PATH")]
    _parse(["models/alexatm_tiny.gin", f"runs/{run}.gin", f"partitioning/{partitioning}.gin"], bindings)
    assert gin.query_parameter("partitioning.Partitioner.mesh_shape")


def test_missing_required_macros_are_all_named_with_example_flags():
    with pytest.raises(gin_utils.GinConfigError) as e:
        _parse(["models/alexatm_tiny.gin", "runs/pretrain.gin"])
    message = str(e.value)
    assert "MODEL_DIR is required: pass --gin.MODEL_DIR=\"'runs/my_model'\"" in message
    for macro in ("MIXTURE_OR_TASK_NAME", "TASK_FEATURE_LENGTHS", "TRAIN_STEPS"):
        assert f"{macro} is required: pass --gin.{macro}=" in message


def test_misspelt_macro_suggests_the_real_one():
    with pytest.raises(gin_utils.GinConfigError, match=r"TRAIN_STEP.*Did you mean TRAIN_STEPS\?.*--gin.TRAIN_STEPS="):
        _parse(["experiments/default_tiny.gin"], ["MODEL_DIR='/tmp/x'", "TRAIN_STEP=5"])


def test_misspelt_parameter_suggests_the_real_one():
    with pytest.raises(gin_utils.GinConfigError, match=r"learning_rat.*Did you mean learning_rate"):
        _parse(["experiments/default_tiny.gin"], ["MODEL_DIR='/tmp/x'",
                                                   "optimizers.OptimizerConfig.learning_rat=0.1"])


def test_misspelt_configurable_suggests_the_real_one():
    with pytest.raises(gin_utils.GinConfigError, match=r"Did you mean optimizers.OptimizerConfig"):
        _parse(["experiments/default_tiny.gin"], ["MODEL_DIR='/tmp/x'", "optimizers.OptimiserConfig.name='adamw'"])


def test_unquoted_string_shows_the_quoted_form():
    with pytest.raises(gin_utils.GinConfigError, match=r"--gin.MODEL_DIR=\"'/tmp/x'\""):
        _parse(["experiments/default_tiny.gin"], ["MODEL_DIR=/tmp/x"])


def test_missing_file_lists_where_it_looked():
    with pytest.raises(gin_utils.GinConfigError, match="not found"):
        _parse(["experiments/nope.gin"])


def test_t5x_style_flags_become_bindings():
    args = app.rewrite_gin_args(["--gin.TRAIN_STEPS=5", "--gin_file=a.gin", "--gin.x.y='a=b'"])
    assert args == ["--gin_bindings=TRAIN_STEPS=5", "--gin_file=a.gin", "--gin_bindings=x.y='a=b'"]


def test_cli_exits_2_with_the_fix_on_stderr(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "alexatm_jax.train", "--gin_file=gin/experiments/default_tiny.gin"],
                          cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "JAX_PLATFORMS": "cpu"})
    assert proc.returncode == 2, proc.stderr
    assert "MODEL_DIR is required: pass --gin.MODEL_DIR=\"'runs/my_model'\"" in proc.stderr


def _crowded_working_dir(root: Path, *, with_init: bool) -> Path:
    """A working directory full of user folders named like the gin folders (the main job writes `runs/`)."""
    for name in ("runs", "models", "experiments", "partitioning", "gin"):
        folder = root / name
        folder.mkdir(parents=True)
        if with_init:
            (folder / "__init__.py").write_text("")
        (folder / "notes.txt").write_text("user data")
    (root / "runs" / "default_tiny").mkdir()
    (root / "runs" / "pretrain.gin").write_text("THIS IS NOT GIN (\n")  # a user's file must not shadow ours
    return root


@pytest.mark.parametrize("with_init", [False, True])
def test_user_folders_in_the_working_directory_do_not_change_resolution(tmp_path, monkeypatch, with_init):
    cwd = _crowded_working_dir(tmp_path / "work", with_init=with_init)
    monkeypatch.chdir(cwd)
    monkeypatch.syspath_prepend(str(cwd))  # as `python -m` puts the working directory first
    for name in ("gin/experiments/default_tiny.gin", "experiments/default_tiny.gin"):
        gin.clear_config()
        _parse([name], ["MODEL_DIR='runs/x'"])
        assert gin.query_parameter("%TRAIN_STEPS") > 0


def test_gin_files_resolve_from_any_directory_and_with_home(tmp_path, monkeypatch):
    own = tmp_path / "home" / "my_gin"
    own.mkdir(parents=True)
    (own / "exp.gin").write_text("include 'experiments/default_tiny.gin'\nTRAIN_STEPS = 7\n")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    for name in ("~/my_gin/exp.gin", "home/my_gin/exp.gin", str(own / "exp.gin")):
        gin.clear_config()
        _parse([name], ["MODEL_DIR='runs/x'"])
        assert gin.query_parameter("%TRAIN_STEPS") == 7
    assert gin_utils.resolve_gin_file("exp.gin", [own]) == own / "exp.gin"


def test_an_include_that_is_missing_names_the_including_file(tmp_path):
    (tmp_path / "bad.gin").write_text("include 'models/alexatm_tinyy.gin'\n")
    with pytest.raises(gin_utils.GinConfigError, match=r"bad.gin: include 'models/alexatm_tinyy.gin'.*Did you mean "
                       r"models/alexatm_tiny.gin"):
        _parse([tmp_path / "bad.gin"])


def test_errors_name_the_original_file_not_a_copy(tmp_path):
    (tmp_path / "broken.gin").write_text("include 'models/alexatm_tiny.gin'\nconfig.ModelConfig.d_model = (\n")
    with pytest.raises(gin_utils.GinConfigError) as e:
        _parse([tmp_path / "broken.gin"])
    assert "alexatm-gin-" not in str(e.value)


def test_cli_resolves_gin_files_from_a_crowded_working_directory(tmp_path):
    cwd = _crowded_working_dir(tmp_path / "work", with_init=False)
    proc = subprocess.run([sys.executable, "-m", "alexatm_jax.train", "--gin_file=experiments/default_tiny.gin",
                           "--gin.TRAIN_STEPS=-1"], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "JAX_PLATFORMS": "cpu"})
    # Parsing got as far as the missing MODEL_DIR: the files were found, the user's runs/ ignored.
    assert proc.returncode == 2, proc.stderr
    assert "MODEL_DIR is required" in proc.stderr and "Traceback" not in proc.stderr
