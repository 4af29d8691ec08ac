"""The eval entry point end to end on a tiny checkpoint: Flores-101, SuperGLUE and XSum on tiny local data."""

from __future__ import annotations

import importlib.util  # noqa: F401  gin-config 0.5.0 on Python 3.11 needs importlib.util imported first
import json
import shutil
from pathlib import Path

import flax.linen as nn
import jax
import numpy as np
import pytest
import seqio
import tensorflow as tf
import tensorflow_datasets as tfds

import gin
from alexatm_jax import eval as eval_main
from alexatm_jax.checkpoint import params as checkpoints
from alexatm_jax.evaluation import evaluator as evaluation
from alexatm_jax.model.config import ModelConfig
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel
from tasks import eval_settings, registry
from tests.tasks.eval_fixtures import write_flores, write_superglue_jsonl

MIXTURE = "eval_test_three_families"
GENERATION_MIXTURE = "eval_test_generation"
TASKS = ("flores101_1shot_eng_fra", "super_glue_cb_zeroshot", "super_glue_copa_zeroshot", "xsum_1shot")
XSUM_ROWS = {
    "train": [{"document": "Rain fell all night.\nThe river rose.", "summary": "The river rose after rain."}],
    "test": [
        {"document": "The train leaves at nine.\nIt is often late.", "summary": "Trains are often late."},
        {"document": "The garden is full of red flowers.", "summary": "A garden in bloom."},
        {"document": "He bought fresh bread this morning.", "summary": "He bought bread."},
    ],
}


def _xsum_as_dataset(self, split, decoders=None, read_config=None, **kwargs):
    rows = XSUM_ROWS[str(split)]
    return tf.data.Dataset.from_tensor_slices({k: [r[k] for r in rows] for k in ("document", "summary")})


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A tiny checkpoint (default 7000-piece vocabulary, 64 positions) and Flores / SuperGLUE dirs."""
    root = tmp_path_factory.mktemp("eval")
    config = ModelConfig(vocab_size=7000, d_model=16, num_encoder_layers=1, num_decoder_layers=1,
                         num_encoder_heads=2, num_decoder_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                         max_position_embeddings=64)
    # Random parameters from the abstract shapes: Flax's eager init of the scanned stack takes ~15 s of CPU.
    rng = np.random.default_rng(0)
    abstract = nn.meta.unbox(EncoderDecoderModel(config).abstract_params())
    params = jax.tree_util.tree_map(lambda x: (0.5 * rng.standard_normal(x.shape)).astype(x.dtype), abstract)
    checkpoints.save_params(root / "ckpt", params, config)
    registry.get_mixture_or_task(TASKS[0])  # registers every task
    registry.add_mixture(MIXTURE, [(name, 1.0) for name in TASKS])
    registry.add_mixture(GENERATION_MIXTURE, [(TASKS[0], 1.0), (TASKS[-1], 1.0)])
    return {"root": root, "ckpt": str(root / "ckpt"), "flores": write_flores(str(root / "flores")),
            "superglue": write_superglue_jsonl(str(root / "superglue"))}


@pytest.fixture(autouse=True)
def _fresh_state():
    yield
    gin.clear_config()
    eval_settings.reset()


def _run(data, out, task, *extra):
    flags = [
        "--gin_file=runs/eval.gin", f"--gin.CHECKPOINT_PATH='{data['ckpt']}'", f"--gin.EVAL_OUTPUT_DIR='{out}'",
        f"--gin.MIXTURE_OR_TASK_NAME='{task}'", "--gin.MAX_EVAL_EXAMPLES=2", "--gin.BATCH_SIZE=4",
        "--gin.MAX_DECODE_LENGTH=8", "--gin.BLEU_TOKENIZER='13a'", *extra,
    ]
    with tfds.testing.mock_data(as_dataset_fn=_xsum_as_dataset):
        return eval_main.main(flags)


def test_eval_entry_point_runs_the_three_families(data):
    out = data["root"] / "out"
    rc = _run(data, out, MIXTURE, f"--gin.FLORES101_DIR='{data['flores']}'",
              f"--gin.SUPERGLUE_JSONL_DIR='{data['superglue']}'")
    assert rc == 0
    expected_metrics = {
        "flores101_1shot_eng_fra": {"bleu_13a_NOT_spBLEU", "chrf++"},
        "super_glue_cb_zeroshot": {"accuracy", "macro_f1"},
        "super_glue_copa_zeroshot": {"accuracy"},
        "xsum_1shot": {"rouge1", "rouge2", "rougeL"},
    }
    num_rows = {"flores101_1shot_eng_fra": 2, "super_glue_cb_zeroshot": 2 * 3, "super_glue_copa_zeroshot": 2 * 2,
                "xsum_1shot": 2}
    for task, names in expected_metrics.items():
        record = json.loads((out / f"{task}-metrics.json").read_text())
        assert set(record["metrics"]) == names and record["num_examples"] == num_rows[task]
        assert all(0.0 <= v <= 100.0 for v in record["metrics"].values())
        rows = [json.loads(line) for line in (out / f"{task}-predictions.jsonl").read_text().splitlines()]
        assert len(rows) == num_rows[task]
        assert ("score" if task.startswith("super_glue") else "prediction") in rows[0]
        assert rows[0]["inputs"].startswith("[CLM] ")
    cb = [json.loads(line) for line in (out / "super_glue_cb_zeroshot-predictions.jsonl").read_text().splitlines()]
    assert [row["reference"]["candidate_idx"] for row in cb] == [0, 1, 2, 0, 1, 2]
    assert all(row["score"] < 0 for row in cb)  # log-likelihoods of real target tokens
    summary = json.loads((out / "metrics.json").read_text())
    assert set(summary["tasks"]) == set(TASKS)
    table = (out / "results.md").read_text()
    assert all(f"| {task} |" in table for task in TASKS)
    assert "| eng (English) |" in (out / "flores101_summary.md").read_text()
    assert "FLORES101_DIR" in (out / "config.gin").read_text()


def test_reference_predictions_score_100_through_the_same_adapters(data):
    # A training MODEL_DIR layout this time: numbered steps, the config beside them.
    model_dir = data["root"] / "model_dir"
    shutil.copytree(Path(data["ckpt"]) / "params", model_dir / "100" / "params")
    shutil.copy(Path(data["ckpt"]) / "model_config.json", model_dir)
    out = data["root"] / "reference"
    with tfds.testing.mock_data(as_dataset_fn=_xsum_as_dataset):
        results = evaluation.evaluate(
            checkpoint_path=str(model_dir), mixture_or_task_name=GENERATION_MIXTURE,
            output_dir=str(out), flores101_dir=data["flores"], max_eval_examples=3,
            bleu_tokenizer="13a", predictor=evaluation.ReferencePredictor(eos_id=2),
        )
    assert results["flores101_1shot_eng_fra"] == pytest.approx({"bleu_13a_NOT_spBLEU": 100.0, "chrf++": 100.0})
    assert results["xsum_1shot"] == pytest.approx({"rouge1": 100.0, "rouge2": 100.0, "rougeL": 100.0})
    record = json.loads((out / "xsum_1shot-metrics.json").read_text())
    assert record["step"] == 100 and record["num_examples"] == 3


def test_missing_flores_dir_names_the_gin_flag(data, capsys):
    bleu = "--gin.BLEU_TOKENIZER='flores101'"  # the default: the data dir is checked before the spBLEU model
    assert _run(data, data["root"] / "no_flores", "flores101_1shot_eng_fra", bleu) == 2
    assert "--gin.FLORES101_DIR=" in capsys.readouterr().err


def test_unknown_task_lists_registered_names(data, capsys):
    assert _run(data, data["root"] / "unknown", "flores101_1shot_eng_frx") == 2
    err = capsys.readouterr().err
    assert "Unknown task or mixture 'flores101_1shot_eng_frx'" in err
    assert "Did you mean flores101_1shot_eng_fra" in err and "super_glue_cb_zeroshot" in err


def test_missing_required_macros_show_a_flag(capsys):
    assert eval_main.main(["--gin_file=runs/eval.gin"]) == 2
    err = capsys.readouterr().err
    assert "--gin.CHECKPOINT_PATH=" in err and "--gin.EVAL_OUTPUT_DIR=" in err and "--gin.MIXTURE_OR_TASK_NAME=" in err


def test_long_inputs_are_cut_from_the_left_keeping_clm_first():
    assert evaluation.truncate_left([4, 10, 11, 12, 13, 2], 4, keep_first=[4]) == [4, 12, 13, 2]
    assert evaluation.truncate_left([9, 10, 11, 12, 13, 2], 4, keep_first=[4]) == [11, 12, 13, 2]
    assert evaluation.truncate_left([4, 10, 2], 4, keep_first=[4]) == [4, 10, 2]


def test_predictions_are_fixed_length_rows_ending_with_eos():
    rows = evaluation.fixed_length_rows([[5, 6], [7, 2], []], eos_id=2, pad_id=1, min_length=4)
    np.testing.assert_array_equal(np.array(rows), [[5, 6, 2, 1], [7, 2, 1, 1], [2, 1, 1, 1]])


def test_eval_split_follows_the_family():
    assert evaluation.eval_split_for(seqio.get_mixture_or_task("xsum_1shot")) == "test"
    with pytest.raises(evaluation.EvalSetupError, match="EVAL_SPLIT"):
        evaluation.eval_split_for(seqio.get_mixture_or_task("xsum_1shot"), "train")


def test_model_predictor_keeps_the_example_order_and_full_batches():
    class FakeLM:  # records batch sizes; "generates" the input's first token, "scores" the target's length
        def __init__(self):
            self.calls = []

        def generate(self, inputs, *, batch_size, **options):
            self.calls.append(len(inputs))
            return [[x[0]] for x in inputs]

        def score(self, inputs, targets, *, batch_size, **options):
            self.calls.append(len(inputs))
            return np.array([-float(len(t)) for t in targets])

    lm = FakeLM()
    predictor = evaluation.ModelPredictor(lm, batch_size=4)
    examples = [evaluation.EvalExample(i, [10 + i] * (i % 3 + 1), [7] * (i + 1)) for i in range(5)]
    assert predictor.predict(examples) == [[10 + i] for i in range(5)]
    assert predictor.score(examples) == [-float(i + 1) for i in range(5)]
    assert lm.calls == [8, 8]  # padded to whole batches: one shape, one compile
