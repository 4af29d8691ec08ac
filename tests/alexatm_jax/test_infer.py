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


def test_a_rerun_with_other_settings_input_or_checkpoint_is_refused_until_overwrite(ckpt, tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"inputs": t}) + "\n" for t in ("Hello world", "Bonjour", "Hallo")))
    out = tmp_path / "out"
    assert _run(ckpt, out, f"--gin.INPUT_FILE='{source}'") == 0
    first = (out / "predict.jsonl").read_bytes()
    other_ckpt, _ = save_checkpoint(tmp_path / "other", seed=1, scale=3.0)
    attempts = {
        "checkpoint.path": [f"--gin.INPUT_FILE='{source}'", f"--gin.CHECKPOINT_PATH='{other_ckpt}'"],
        "options.max_new_tokens: 5 -> 2": [f"--gin.INPUT_FILE='{source}'", "--gin.MAX_NEW_TOKENS=2"],
        "options.temperature: 0.0 -> 1.0": [f"--gin.INPUT_FILE='{source}'", "--gin.TEMPERATURE=1.0"],
    }
    for changed, extra in attempts.items():
        gin.clear_config()
        assert infer.main(["--gin_file=runs/infer.gin", f"--gin.CHECKPOINT_PATH='{ckpt}'",
                           f"--gin.INFER_OUTPUT_DIR='{out}'", "--gin.MAX_NEW_TOKENS=5", "--gin.SHARD_SIZE=2",
                           "--gin.infer.infer.progress_bar=False", *extra]) == 2
        err = capsys.readouterr().err
        assert changed in err and "--gin.OVERWRITE=True" in err and "Traceback" not in err, err
        assert (out / "predict.jsonl").read_bytes() == first  # nothing lost, nothing mixed
    source.write_text("".join(json.dumps({"inputs": t}) + "\n" for t in ("Other text", "Bonjour", "Hallo")))
    gin.clear_config()
    assert _run(ckpt, out, f"--gin.INPUT_FILE='{source}'") == 2
    assert "input.sha256" in capsys.readouterr().err
    assert (out / "predict.jsonl").read_bytes() == first

    gin.clear_config()
    assert _run(ckpt, out, f"--gin.INPUT_FILE='{source}'", "--gin.OVERWRITE=True") == 0
    rows = _read(out / "predict.jsonl")
    assert rows[0]["inputs"] == "Other text"
    assert rows[0]["prediction"] == alexatm_jax.load(ckpt).generate("Other text", max_new_tokens=5)


def test_one_bad_record_gets_an_error_and_the_others_run(ckpt, tmp_path):
    bad = [{"inputs": 5}, {"inputs": 1.5}, {"inputs": [5, 6.5]}, {"inputs": ["a", "b"]}, {"inputs": {"x": 1}},
           {"inputs": None}, {"inputs": "ok\udcff"}, {"inputs": True}]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in [{"inputs": "Hello world"}, *bad, {"inputs": [5, 6, 2]}]))
    out = tmp_path / "out"
    assert _run(ckpt, out, f"--gin.INPUT_FILE='{source}'", "--gin.SHARD_SIZE=16") == 0
    rows = _read(out / "predict.jsonl")
    lm = alexatm_jax.load(ckpt)
    assert rows[0]["prediction"] == lm.generate("Hello world", max_new_tokens=5) and "error" not in rows[0]
    assert rows[-1]["prediction"] == lm.generate([5, 6, 2], max_new_tokens=5) and "error" not in rows[-1]
    errors = [r.get("error") for r in rows[1:-1]]
    assert all(errors) and not any("prediction" in r for r in rows[1:-1])
    assert "got 5 (int)" in errors[0] and "item 1 is 6.5 (float)" in errors[2]
    assert "one string or one list of token ids" in errors[3] and "lone surrogate" in errors[6]

    # Scoring: a record without targets, or with targets of the wrong kind, gets an error too.
    source.write_text(json.dumps({"inputs": "Hi", "targets": "there"}) + "\n"
                      + json.dumps({"inputs": "Hi"}) + "\n" + json.dumps({"inputs": "Hi", "targets": 3}) + "\n")
    gin.clear_config()
    assert _run(ckpt, tmp_path / "score", f"--gin.INPUT_FILE='{source}'", "--gin.MODE='score'") == 0
    rows = _read(tmp_path / "score" / "score.jsonl")
    assert "score" in rows[0] and rows[1]["error"] == "no targets to score" and "targets must be" in rows[2]["error"]


def test_settings_and_inputs_are_checked_before_anything_is_written(ckpt, tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"inputs": "Hi"}) + "\n")
    out = tmp_path / "out"
    model_dir = tmp_path / "run"
    (model_dir / "2").mkdir(parents=True)
    (model_dir / "config.gin").write_text("# a training run's operative config\n")
    (tmp_path / "a_file").write_text("x")
    cases = [
        (["--gin.MAX_NEW_TOKENS=2.5"], out, "max_new_tokens must be an integer; got 2.5 (float)"),
        (["--gin.MAX_NEW_TOKENS=None"], out, "max_new_tokens must be an integer; got None"),
        (["--gin.TEMPERATURE=-1.0"], out, "temperature=-1.0 is negative"),
        (["--gin.BATCH_SIZE=0"], out, "batch_size=0 must be >= 1"),
        (["--gin.infer.infer.max_input_length=0"], out, "max_input_length=0 must be >= 1"),
        (["--gin.MAX_NEW_TOKENS=1000"], out, "max_new_tokens=1000 must lie in [1, 64]"),
        (["--gin.VOCAB_PATH='missing.model'"], out, "missing.model does not exist"),
        ([], model_dir, "is a training MODEL_DIR: inference would overwrite its files"),
        ([], tmp_path / "a_file", "is a file"),
    ]
    for extra, target, message in cases:
        gin.clear_config()
        assert _run(ckpt, target, f"--gin.INPUT_FILE='{source}'", *extra) == 2, extra
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (extra, err)
        assert not out.exists()
    assert (model_dir / "config.gin").read_text() == "# a training run's operative config\n"
    assert sorted(p.name for p in model_dir.iterdir()) == ["2", "config.gin"]


def test_an_input_file_without_records_is_an_error_that_says_so(ckpt, tmp_path, capsys):
    for name, text in (("empty.jsonl", ""), ("blank.tsv", "\n  \n")):
        source = tmp_path / name
        source.write_text(text)
        gin.clear_config()
        assert _run(ckpt, tmp_path / "out", f"--gin.INPUT_FILE='{source}'") == 2
        assert f"{name} holds no records: nothing to do" in capsys.readouterr().err
        assert not (tmp_path / "out").exists()
