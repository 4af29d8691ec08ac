"""`python -m alexatm_jax.eval` with damaged data: exit 2 naming the file (and line), before any decoding."""

from __future__ import annotations

import importlib.util  # noqa: F401  gin-config 0.5.0 needs importlib.util imported first
import json

import pytest

import gin
from alexatm_jax import eval as eval_main
from tasks import eval_metrics
from tests.alexatm_jax.decoding_fixtures import save_checkpoint, small_config
from tests.tasks.eval_fixtures import write_flores, write_superglue_jsonl


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    directory, _ = save_checkpoint(tmp_path_factory.mktemp("eval_errors") / "ckpt",
                                   small_config(d_model=16, num_encoder_heads=2))
    return directory


@pytest.fixture(autouse=True)
def _fresh_gin():
    yield
    gin.clear_config()


def _run(ckpt, out, task, *extra) -> int:
    return eval_main.main(["--gin_file=runs/eval.gin", f"--gin.CHECKPOINT_PATH='{ckpt}'",
                           f"--gin.EVAL_OUTPUT_DIR='{out}'", f"--gin.MIXTURE_OR_TASK_NAME='{task}'",
                           "--gin.MAX_EVAL_EXAMPLES=2", "--gin.MAX_DECODE_LENGTH=4", *extra])


def test_a_malformed_superglue_line_exits_2_with_file_and_line(ckpt, tmp_path, capsys):
    root = write_superglue_jsonl(str(tmp_path / "superglue"))
    cb = tmp_path / "superglue" / "CB" / "val.jsonl"
    lines = cb.read_text().splitlines()
    cb.write_text("\n".join([lines[0], json.dumps({**json.loads(lines[0]), "label": "maybe"}), *lines[1:]]) + "\n")
    out = tmp_path / "out"
    assert _run(ckpt, out, "super_glue_cb_zeroshot", f"--gin.SUPERGLUE_JSONL_DIR='{root}'") == 2
    err = capsys.readouterr().err
    assert "CB/val.jsonl:2 is not a SuperGLUE CB row (label 'maybe' is not one of" in err and "Traceback" not in err
    assert not list(out.glob("*-predictions.jsonl"))


def test_a_damaged_spbleu_model_exits_2_before_decoding(ckpt, tmp_path, capsys):
    flores = write_flores(str(tmp_path / "flores"))
    bad = tmp_path / eval_metrics.SPBLEU_MODEL_FILE
    bad.write_text("<html>404</html>")
    out = tmp_path / "out"
    assert _run(ckpt, out, "flores101_1shot_eng_fra", f"--gin.FLORES101_DIR='{flores}'",
                f"--gin.SPBLEU_MODEL_PATH='{bad}'") == 2
    err = capsys.readouterr().err
    assert "is not a SentencePiece model" in err and "Traceback" not in err
    assert not list(out.glob("*-predictions.jsonl"))
