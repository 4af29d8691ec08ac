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
from alexatm_jax import prompting
from alexatm_jax import report as report_main
from alexatm_jax.checkpoint import params as checkpoints
from alexatm_jax.evaluation import evaluator as evaluation
from alexatm_jax.evaluation import predictors, results_report
from alexatm_jax.model.config import ModelConfig
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel
from tasks import flores101, registry
from tasks.vocabulary import DEFAULT_SPM_PATH
from tests.tasks.eval_fixtures import write_flores, write_superglue_jsonl

# Hand-written in the layout of the official dev-v2.0.json (not by the project's code).
SQUAD_SAMPLE = str(Path(__file__).resolve().parents[1] / "data" / "squad_v2_dev_sample.json")

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
    checkpoints.save_params(root / "ckpt", params, config, vocab_path=DEFAULT_SPM_PATH)
    checkpoints.save_params(root / "ckpt_novocab", params, config)
    registry.add_mixture(MIXTURE, [(name, 1.0) for name in TASKS])
    registry.add_mixture(GENERATION_MIXTURE, [(TASKS[0], 1.0), (TASKS[-1], 1.0)])
    return {"root": root, "ckpt": str(root / "ckpt"), "flores": write_flores(str(root / "flores")),
            "superglue": write_superglue_jsonl(str(root / "superglue"))}


@pytest.fixture(autouse=True)
def _fresh_state():
    yield
    gin.clear_config()


def _run(data, out, task, *extra, checkpoint=None):
    flags = [
        "--gin_file=runs/eval.gin", f"--gin.CHECKPOINT_PATH='{checkpoint or data['ckpt']}'",
        f"--gin.EVAL_OUTPUT_DIR='{out}'",
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
        "xsum_1shot": {"rouge1", "rouge2", "rougeL", "rougeLsum"},
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
    assert (out / "flores101_spbleu.png").stat().st_size > 0 and (out / "superglue.png").stat().st_size > 0
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
            bleu_tokenizer="13a", predictor=predictors.ReferencePredictor(eos_id=2), vocab_path=DEFAULT_SPM_PATH,
        )
    assert results["flores101_1shot_eng_fra"] == pytest.approx({"bleu_13a_NOT_spBLEU": 100.0, "chrf++": 100.0})
    assert results["xsum_1shot"] == pytest.approx({"rouge1": 100.0, "rouge2": 100.0, "rougeL": 100.0,
                                                   "rougeLsum": 100.0})
    record = json.loads((out / "xsum_1shot-metrics.json").read_text())
    assert record["step"] == 100 and record["num_examples"] == 3


def test_missing_flores_dir_names_the_gin_flag(data, capsys):
    bleu = "--gin.BLEU_TOKENIZER='flores101'"  # the default: the data dir is checked before the spBLEU model
    assert _run(data, data["root"] / "no_flores", "flores101_1shot_eng_fra", bleu) == 2
    assert "--gin.FLORES101_DIR=" in capsys.readouterr().err


def test_unknown_task_names_the_closest_and_how_to_list_all(data, capsys):
    assert _run(data, data["root"] / "unknown", "flores101_1shot_eng_frx") == 2
    err = capsys.readouterr().err
    assert "Unknown task or mixture 'flores101_1shot_eng_frx'" in err
    assert "Did you mean flores101_1shot_eng_fra" in err and "python -m tasks.inspect --list" in err
    assert "super_glue_cb_zeroshot" not in err  # not a wall of every registered name
    assert "Traceback" not in err


def test_missing_required_macros_show_a_flag(capsys):
    assert eval_main.main(["--gin_file=runs/eval.gin"]) == 2
    err = capsys.readouterr().err
    assert "--gin.CHECKPOINT_PATH=" in err and "--gin.EVAL_OUTPUT_DIR=" in err and "--gin.MIXTURE_OR_TASK_NAME=" in err


def test_long_inputs_are_cut_from_the_left_keeping_the_clm_prefix_first():
    assert prompting.truncate_left([4, 10, 11, 12, 13, 2], 4, prefix=[4]) == [4, 12, 13, 2]
    assert prompting.truncate_left([9, 10, 11, 12, 13, 2], 4, prefix=[4]) == [11, 12, 13, 2]
    assert prompting.truncate_left([4, 10, 2], 4, prefix=[4]) == [4, 10, 2]
    # The official convention's prefix is three tokens: <s> ▁ [CLM].
    assert prompting.truncate_left([0, 9, 4, 10, 11, 12, 2], 5, prefix=[0, 9, 4]) == [0, 9, 4, 12, 2]


def test_predictions_are_fixed_length_rows_ending_with_eos():
    rows = predictors.fixed_length_rows([[5, 6], [7, 2], []], eos_id=2, pad_id=1, min_length=4)
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
    predictor = predictors.ModelPredictor(lm, batch_size=4)
    examples = [predictors.EvalExample(i, [10 + i] * (i % 3 + 1), [7] * (i + 1)) for i in range(5)]
    assert predictor.predict(examples) == [[10 + i] for i in range(5)]
    assert predictor.score(examples) == [-float(i + 1) for i in range(5)]
    assert lm.calls == [8, 8]  # padded to whole batches: one shape, one compile


def test_squad_v2_end_to_end_on_an_official_format_file(data, tmp_path, monkeypatch, capsys):
    # A user's working directory full of folders (runs/, gin/ ...), relative paths on the command line.
    monkeypatch.chdir(tmp_path)
    for folder in ("runs", "models", "gin", "eval"):
        (tmp_path / folder).mkdir()
    shutil.copy(SQUAD_SAMPLE, tmp_path / "dev-v2.0.json")
    assert _run(data, "eval/squad", "squad_v2_1shot", "--gin.SQUAD_V2_JSON='dev-v2.0.json'") == 0
    out = tmp_path / "eval" / "squad"
    record = json.loads((out / "squad_v2_1shot-metrics.json").read_text())
    assert record["num_examples"] == 2 and record["split"] == "validation"
    metrics = record["metrics"]
    assert {"exact", "f1", "HasAns_exact", "HasAns_f1", "total"} <= set(metrics)
    assert record["settings"]["tokenization"] == "project" and record["settings"]["max_new_tokens"] == 8
    rows = [json.loads(line) for line in (out / "squad_v2_1shot-predictions.jsonl").read_text().splitlines()]
    assert rows[0]["id"] == "5a8b1c2d3e4f5a6b7c8d9e01"
    assert rows[0]["reference"] == ["dangerous coastlines", "dangerous coastlines and reefs"]
    printed = capsys.readouterr().out
    assert f"| squad_v2_1shot | 2 | f1 | {metrics['f1']:.2f} |" in printed  # the report, at the end
    assert (out / "results.md").is_file()


def test_a_checkpoint_without_vocabulary_cannot_be_evaluated(data, capsys):
    no_vocab = str(data["root"] / "ckpt_novocab")
    assert _run(data, data["root"] / "novocab", "flores101_1shot_eng_fra", checkpoint=no_vocab) == 2
    err = capsys.readouterr().err
    assert "records no vocabulary" in err and "--gin.VOCAB_PATH=" in err
    assert not (data["root"] / "novocab").exists()  # nothing started


def test_a_vocabulary_that_is_not_the_models_names_both_sizes(data, capsys):
    from tests.tasks.eval_fixtures import tiny_spm_model

    rc = _run(data, data["root"] / "badvocab", "flores101_1shot_eng_fra", f"--gin.VOCAB_PATH='{tiny_spm_model()}'")
    assert rc == 2
    err = capsys.readouterr().err
    pieces = _tiny_pieces()
    assert f"has {pieces} pieces but the model's vocab_size is 7000" in err and "VOCAB_PATH" in err


def _tiny_pieces():
    import sentencepiece as spm

    from tests.tasks.eval_fixtures import tiny_spm_model

    return spm.SentencePieceProcessor(model_file=tiny_spm_model()).GetPieceSize()


def test_the_vocabulary_size_rule():
    assert prompting.vocabulary_size_problem(7000, 7000) is None
    assert prompting.vocabulary_size_problem(150000, 150016) is None  # the released 20B: padded to 128 rows
    assert "150000 pieces but the model's vocab_size is 150144" in prompting.vocabulary_size_problem(150000, 150144)
    assert "7001 pieces but the model's vocab_size is 7000" in prompting.vocabulary_size_problem(7001, 7000)
    assert prompting.vocabulary_size_problem(400, 7000) is not None


def test_the_report_command_prints_the_table_and_draws_the_plots(tmp_path, capsys):
    out = tmp_path / "eval"
    out.mkdir()
    values = {"flores101_1shot_eng_fra": {"spbleu": 31.25, "chrf++": 55.0},
              "flores101_1shot_fra_deu": {"spbleu": 12.5, "chrf++": 40.0},
              "super_glue_cb_zeroshot": {"accuracy": 50.0, "macro_f1": 33.3},
              "super_glue_copa_zeroshot": {"accuracy": 61.0}}
    for task, metrics in values.items():
        record = {"task": task, "checkpoint": "/ckpt", "num_examples": 4, "metrics": metrics}
        (out / f"{task}-metrics.json").write_text(json.dumps(record))
    assert report_main.main([str(out)]) == 0
    printed = capsys.readouterr().out
    for task, metrics in values.items():  # every number of the metrics files, as it is there
        for metric, value in metrics.items():
            assert f"| {task} | 4 | {metric} | {value:.2f} |" in printed
    assert "| flores101_1shot_eng_fra | 4 | spbleu | 31.25 |  |" in printed  # no published number: blank
    assert "| super_glue_copa_zeroshot | 4 | accuracy | 61.00 | 78.0 | [pwc] |" in printed  # beside the paper
    assert (out / "results.md").read_text().count("| super_glue_cb_zeroshot |") == 2
    records = results_report.load_records(out)
    matrix = results_report.flores_matrix(records, "spbleu")
    codes = list(flores101.LANGUAGES)
    assert matrix[codes.index("eng"), codes.index("fra")] == 31.25
    assert matrix[codes.index("fra"), codes.index("deu")] == 12.5
    assert np.isnan(matrix).sum() == 12 * 12 - 2
    assert results_report.superglue_bars(records) == [("cb", "accuracy", 50.0, 67.9), ("copa", "accuracy", 61.0,
                                                                                       78.0)]
    for name in ("results.md", "flores101_summary.md", "flores101_spbleu.png", "superglue.png"):
        assert (out / name).stat().st_size > 0
    assert (out / "flores101_spbleu.png").read_bytes().startswith(b"\x89PNG")
    assert report_main.main([str(tmp_path / "empty_dir")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_the_papers_numbers_in_the_code_are_those_of_docs_paper():
    from alexatm_jax.evaluation.paper_results import PAPER_RESULTS

    text = (Path(__file__).resolve().parents[2] / "docs" / "PAPER.md").read_text(encoding="utf-8")
    rows = {tuple(cell.strip().strip("`") for cell in line.strip("|").split("|"))
            for line in text.split("## Published results", 1)[1].splitlines() if line.startswith("| `")}
    in_code = {(task, metric, f"{value:.1f}", source) for task, metrics in PAPER_RESULTS.items()
               for metric, (value, source) in metrics.items()}
    assert rows == in_code
