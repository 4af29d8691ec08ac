"""Every path a user gives works relative, absolute or with `~`, from a working directory full of user folders.

The commands run in-process (`<command>.main(argv)`, as `python -m` would call them) from a working directory
that holds `runs/`, `models/` (a package, with `__init__.py`) and `experiments/` folders, with HOME pointing into
it so `~/...` is testable. Each test checks where the outputs landed, not only the exit code.
"""

from __future__ import annotations

import importlib.util  # noqa: F401  gin-config 0.5.0 on Python 3.11 needs importlib.util imported first
import json
import os
from pathlib import Path

import jax
import numpy as np
import pytest

import alexatm_jax
import gin
from alexatm_jax import convert_checkpoint, demo, infer, paths, train
from alexatm_jax import eval as eval_main
from alexatm_jax.checkpoint import run_dir
from tests.alexatm_jax import train_fixtures as fx
from tests.alexatm_jax.decoding_fixtures import VOCAB_PATH, save_checkpoint, small_config
from tests.tasks.eval_fixtures import write_flores


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    """A user's working directory (also HOME) with folders named like the project's gin directories."""
    cwd = tmp_path / "work"
    for folder in ("runs", "models", "experiments", "home"):
        (cwd / folder).mkdir(parents=True)
    (cwd / "models" / "__init__.py").write_text("")
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("HOME", str(cwd / "home"))
    yield cwd
    gin.clear_config()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A random checkpoint with the default vocabulary (256 positions: the demo's few-shot prompts fit)."""
    directory, params = save_checkpoint(tmp_path_factory.mktemp("paths") / "ckpt",
                                        small_config(max_position_embeddings=256), scale=3.0)
    return directory, params


def _copy_checkpoint(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(source, target)


def _same_params(a, b) -> bool:
    return all(np.array_equal(np.asarray(x), np.asarray(y))
               for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)))


def test_resolve_expands_home_and_makes_paths_absolute(user_dir):
    assert paths.resolve("runs/x") == user_dir / "runs" / "x"
    assert paths.resolve("~/x") == user_dir / "home" / "x"
    assert paths.resolve(user_dir / "models") == user_dir / "models"
    assert paths.resolve("./runs/../models") == user_dir / "models"
    assert paths.resolve_optional("") is None and paths.resolve_optional(None) is None
    with pytest.raises(ValueError, match="Expected a path"):
        paths.resolve(" ")


@pytest.mark.parametrize("form", ["relative", "absolute", "home"])
def test_load_takes_every_path_form(user_dir, checkpoint, form):
    source, params = checkpoint
    _copy_checkpoint(source, user_dir / "home" / "models" / "tiny")
    given = {"relative": "home/models/tiny", "absolute": str(user_dir / "home" / "models" / "tiny"),
             "home": "~/models/tiny"}[form]
    lm = alexatm_jax.load(given)
    assert _same_params(lm.params, params)
    assert lm.generate("Hello", max_new_tokens=2) == alexatm_jax.load(source).generate("Hello", max_new_tokens=2)


def test_train_resumes_through_relative_and_home_paths_and_load_reads_them(user_dir, monkeypatch):
    """The README's resume advice, with the user's own gin file in `experiments/` and MODEL_DIR under `runs/`."""
    monkeypatch.syspath_prepend(str(fx.HERE))  # DatasetConfig.module = 'train_fixtures'
    fx.write_gin(user_dir / "experiments", "train_script.train.progress_bar = False")
    common = ["--gin_file=experiments/test_experiment.gin", "--gin_search_paths=experiments",
              "--gin.train_script.train.eval_every_steps=None"]
    assert train.main([*common, "--gin.MODEL_DIR='runs/tiny'", "--gin.TRAIN_STEPS=2"]) == 0
    model_dir = user_dir / "runs" / "tiny"
    assert run_dir.find_checkpoint(model_dir).name == "2" and (model_dir / "config.gin").is_file()
    # `~` for the same directory (HOME/runs -> ../runs), and the gin file by `~` too: resumes at step 2.
    os.symlink(user_dir / "runs", user_dir / "home" / "runs")
    assert train.main(["--gin_file=~/../experiments/test_experiment.gin", "--gin_search_paths=~/../experiments",
                       "--gin.train_script.train.eval_every_steps=None", "--gin.MODEL_DIR='~/runs/tiny'",
                       "--gin.TRAIN_STEPS=3"]) == 0
    assert run_dir.find_checkpoint(model_dir).name == "3"
    summary = json.loads(run_dir.train_summary_path(model_dir).read_text())
    assert summary["start_step"] == 2 and summary["final_step"] == 3
    assert alexatm_jax.load("runs/tiny").config.vocab_size == fx.VOCAB_SIZE


def test_infer_reads_and_writes_relative_and_home_paths(user_dir, checkpoint):
    _copy_checkpoint(checkpoint[0], user_dir / "models" / "tiny")
    (user_dir / "home" / "prompts.jsonl").write_text(json.dumps({"inputs": "Hello world"}) + "\n")
    rc = infer.main(["--gin_file=gin/runs/infer.gin", "--gin.CHECKPOINT_PATH='models/tiny'",
                     "--gin.INPUT_FILE='~/prompts.jsonl'", "--gin.INFER_OUTPUT_DIR='runs/infer'",
                     f"--gin.VOCAB_PATH='{os.path.relpath(VOCAB_PATH)}'", "--gin.MAX_NEW_TOKENS=3",
                     "--gin.infer.infer.progress_bar=False"])
    assert rc == 0
    rows = [json.loads(line) for line in (user_dir / "runs" / "infer" / "predict.jsonl").read_text().splitlines()]
    expected = alexatm_jax.load(checkpoint[0]).generate("Hello world", max_new_tokens=3)
    assert [r["prediction"] for r in rows] == [expected]
    assert (user_dir / "runs" / "infer" / "config.gin").is_file()


def test_eval_reads_and_writes_relative_and_home_paths(user_dir, checkpoint):
    _copy_checkpoint(checkpoint[0], user_dir / "home" / "tiny")
    write_flores(str(user_dir / "experiments" / "flores101_dataset"))
    rc = eval_main.main(["--gin_file=runs/eval.gin", "--gin.CHECKPOINT_PATH='~/tiny'",
                         "--gin.EVAL_OUTPUT_DIR='runs/eval'", "--gin.MIXTURE_OR_TASK_NAME='flores101_1shot_eng_fra'",
                         "--gin.FLORES101_DIR='experiments/flores101_dataset'", "--gin.MAX_EVAL_EXAMPLES=2",
                         "--gin.BATCH_SIZE=2", "--gin.MAX_DECODE_LENGTH=4", "--gin.BLEU_TOKENIZER='13a'"])
    assert rc == 0
    out = user_dir / "runs" / "eval"
    assert (out / "metrics.json").is_file() and (out / "config.gin").is_file()


def test_convert_checkpoint_both_ways_with_relative_and_home_paths(user_dir, checkpoint, capsys):
    source, params = checkpoint
    _copy_checkpoint(source, user_dir / "models" / "ours")
    assert convert_checkpoint.main(["--export", "--input=models/ours", "--output=~/official"]) == 0
    assert (user_dir / "home" / "official" / "config.json").is_file()
    assert convert_checkpoint.main(["--input=~/official", "--output=models/back", f"--vocab={VOCAB_PATH}"]) == 0
    assert str(user_dir / "models" / "back") in capsys.readouterr().out
    assert _same_params(alexatm_jax.load("models/back").params, alexatm_jax.load(source).params)


@pytest.mark.parametrize("form", ["relative", "home"])
def test_demo_takes_relative_and_home_checkpoints(user_dir, checkpoint, capsys, form):
    _copy_checkpoint(checkpoint[0], user_dir / "home" / "tiny")
    given = "home/tiny" if form == "relative" else "~/tiny"
    assert demo.main([f"--checkpoint={given}", "--num_examples=2", "--num_shown=1", "--num_few_shot=1"]) == 0
    out = capsys.readouterr().out
    assert "Reconstruction over 2 held-out sentences" in out and "Few-shot" in out


def test_a_missing_path_is_a_usage_error_naming_it(user_dir, capsys):
    assert demo.main(["--checkpoint=runs/nothing_here"]) == 2
    err = capsys.readouterr().err
    assert str(user_dir / "runs" / "nothing_here") in err and "Traceback" not in err
