"""`python -m alexatm_jax.infer`: JSONL / TSV / SeqIO inputs, JSONL outputs by shard, restarts, errors."""

from __future__ import annotations

import importlib.util  # noqa: F401  gin-config 0.5.0 needs importlib.util imported first
import json

import numpy as np
import pytest

import alexatm_jax
import gin
from alexatm_jax import infer
from tests.alexatm_jax.decoding_fixtures import save_checkpoint, small_config

RECORDS = [
    {"inputs": "Hello world", "id": "a", "targets": "again"},
    {"inputs": ""},
    {"inputs": [5, 6, 7, 2], "targets": [8, 9]},
    {"inputs": "Bonjour tout le monde", "targets": "et merci"},
    {"inputs": [5, 10 ** 6]},
]


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    directory, _ = save_checkpoint(tmp_path_factory.mktemp("infer") / "ckpt", scale=3.0)
    return directory


@pytest.fixture(autouse=True)
def _fresh_gin():
    gin.clear_config()
    yield
    gin.clear_config()


def _run(ckpt, out, *extra) -> int:
    return infer.main(["--gin_file=runs/infer.gin", f"--gin.CHECKPOINT_PATH='{ckpt}'",
                       f"--gin.INFER_OUTPUT_DIR='{out}'", "--gin.MAX_NEW_TOKENS=5", "--gin.SHARD_SIZE=2",
                       "--gin.infer.infer.progress_bar=False", *extra])


def _read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_predict_jsonl_by_shard_and_restart(ckpt, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    out = tmp_path / "out"
    assert _run(ckpt, out, f"--gin.INPUT_FILE='{source}'") == 0
    rows = _read(out / "predict.jsonl")
    assert [r["index"] for r in rows] == list(range(5)) and rows[0]["id"] == "a"
    assert rows[1]["error"] == "empty input" and "outside" in rows[4]["error"]
    lm = alexatm_jax.load(ckpt)
    assert rows[0]["prediction"] == lm.generate("Hello world", max_new_tokens=5)
    assert rows[2]["prediction"] == lm.generate([5, 6, 7, 2], max_new_tokens=5)
    assert rows[2]["prediction_text"] == lm.tokenizer.decode(rows[2]["prediction"])
    assert (out / "config.gin").exists() and sorted(p.name for p in out.glob("predict-*.jsonl")) == [
        "predict-00000.jsonl", "predict-00001.jsonl", "predict-00002.jsonl"]

    # Restart: complete shards are kept as they are, a missing one is redone.
    first = (out / "predict-00000.jsonl").stat().st_mtime_ns
    (out / "predict-00001.jsonl").unlink()
    joined = (out / "predict.jsonl").read_text()
    gin.clear_config()
    assert _run(ckpt, out, f"--gin.INPUT_FILE='{source}'") == 0
    assert (out / "predict-00000.jsonl").stat().st_mtime_ns == first
    assert (out / "predict.jsonl").read_text() == joined


def test_score_tsv_matches_the_python_api(ckpt, tmp_path):
    source = tmp_path / "in.tsv"
    source.write_text("Hello world\tagain\nBonjour\tmerci beaucoup\n")
    out = tmp_path / "out"
    assert _run(ckpt, out, f"--gin.INPUT_FILE='{source}'", "--gin.MODE='score'") == 0
    rows = _read(out / "score.jsonl")
    expected = alexatm_jax.load(ckpt).score(["Hello world", "Bonjour"], ["again", "merci beaucoup"])
    np.testing.assert_allclose([r["score"] for r in rows], expected, rtol=1e-5)


@pytest.mark.slow  # Imports TensorFlow and seqio.
def test_score_a_seqio_task(tmp_path):
    directory, _ = save_checkpoint(tmp_path / "ckpt64", small_config(vocab_size=64), vocab_path=None)
    out = tmp_path / "out"
    assert _run(directory, out, "--gin.MIXTURE_OR_TASK_NAME='synthetic_pretrain'", "--gin.MODE='score'",
                "--gin.MAX_EXAMPLES=3", "--gin.infer.infer.task_module='tests.alexatm_jax.train_fixtures'") == 0
    rows = _read(out / "score.jsonl")
    assert len(rows) == 3 and all(isinstance(r["inputs"], list) for r in rows)
    expected = alexatm_jax.load(directory).score([r["inputs"] for r in rows], [r["targets"] for r in rows])
    np.testing.assert_allclose([r["score"] for r in rows], expected, rtol=1e-5)


def test_configuration_errors_exit_2_with_the_fix(ckpt, tmp_path, capsys):
    assert infer.main(["--gin_file=runs/infer.gin"]) == 2
    err = capsys.readouterr().err
    assert "--gin.CHECKPOINT_PATH=" in err and "--gin.INFER_OUTPUT_DIR=" in err
    gin.clear_config()
    assert _run(ckpt, tmp_path / "none") == 2
    assert "INPUT_FILE" in capsys.readouterr().err
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"inputs": "Hi"}) + "\n")
    gin.clear_config()
    assert _run(ckpt, tmp_path / "o", f"--gin.INPUT_FILE='{source}'") == 0
    gin.clear_config()
    assert _run(ckpt, tmp_path / "o", f"--gin.INPUT_FILE='{source}'", "--gin.SHARD_SIZE=3") == 2
    assert "shard_size" in capsys.readouterr().err
    source.write_text("not json\n")
    gin.clear_config()
    assert _run(ckpt, tmp_path / "p", f"--gin.INPUT_FILE='{source}'") == 2
    assert "in.jsonl:1 is not JSON" in capsys.readouterr().err
