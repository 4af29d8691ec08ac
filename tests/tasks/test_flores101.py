"""Flores-101 1-shot tasks on a small tree in the official layout."""

import numpy as np
import pytest
import seqio

from tasks import flores101
from tasks.eval_settings import EvalSettings
from tasks.prompts import translation_prompt
from tests.tasks.eval_fixtures import FLORES_SENTENCES, family_registrar, tiny_spm_model, tiny_vocabulary, write_flores


@pytest.fixture
def flores_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SPBLEU_MODEL_PATH", tiny_spm_model())  # the tiny model stands in for Flores-101's
    return write_flores(str(tmp_path / "flores101_dataset"))


@pytest.fixture
def register(flores_dir):
    """Registers the tasks with the tiny vocabulary and settings (the test's Flores tree unless overridden)."""

    yield family_registrar(flores101.register_flores101_tasks, tiny_vocabulary(), flores101_dir=flores_dir)
    flores101.register_flores101_tasks()  # back to what importing the module registered


@pytest.fixture
def registered(register):
    return register()


def _examples(name):
    ds = seqio.get_mixture_or_task(name).get_dataset(None, split="devtest", shuffle=False, num_epochs=1)
    return list(ds.as_numpy_iterator())


def test_registers_all_directions_and_mixtures(registered):
    assert len(registered) == 132 and "flores101_1shot_eng_fra" in registered
    assert len(seqio.get_mixture_or_task("flores101_1shot_all").tasks) == 132
    from_eng = {t.name for t in seqio.get_mixture_or_task("flores101_1shot_from_eng").tasks}
    assert from_eng == {f"flores101_1shot_eng_{t}" for t in flores101.LANGUAGES if t != "eng"}


def test_examples_are_official_one_shot_prompts_on_devtest(registered):
    eng, fra = FLORES_SENTENCES["eng"], FLORES_SENTENCES["fra"]
    examples = _examples("flores101_1shot_eng_fra")
    assert len(examples) == len(eng["devtest"])
    for i, ex in enumerate(examples):
        expected = translation_prompt([(eng["dev"][0], fra["dev"][0])], eng["devtest"][i], "fra")
        assert ex["inputs_pretokenized"].decode() == expected
        assert ex["targets_pretokenized"].decode() == fra["devtest"][i]
        assert ex["idx"] == i
    assert examples[0]["inputs_pretokenized"].decode() == (
        "[CLM] Sentence:  The cat sleeps on the warm mat.; "
        "Translation in French: Le chat dort sur le tapis chaud.; "
        "Sentence:  The train leaves at nine.; Translation in French:"
    )
    assert examples[0]["inputs"][-1] == tiny_vocabulary().eos_id


def test_max_eval_examples_caps_devtest(register):
    register(max_eval_examples=2)
    assert len(_examples("flores101_1shot_deu_eng")) == 2


def test_per_example_shots_are_seeded(register):
    settings = EvalSettings(shot_selection="per_example", shot_seed=3)
    first = [flores101.shot_index(i, 997, settings) for i in range(20)]
    assert first == [flores101.shot_index(i, 997, settings) for i in range(20)] and len(set(first)) > 1
    assert first != [flores101.shot_index(i, 997, settings.replace(shot_seed=4)) for i in range(20)]
    register(shot_selection="per_example", shot_seed=3)
    shots = {ex["inputs_pretokenized"].decode().split(";")[0] for ex in _examples("flores101_1shot_eng_deu")}
    assert shots <= {f"[CLM] Sentence:  {s}" for s in FLORES_SENTENCES["eng"]["dev"]}


def test_missing_dir_names_the_layout_and_gin_flag(register):
    register(flores101_dir=None)
    with pytest.raises(FileNotFoundError) as error:
        _examples("flores101_1shot_eng_fra")
    assert "--gin.FLORES101_DIR=\"'/path/flores101_dataset'\"" in str(error.value)
    assert "devtest/<code>.devtest" in str(error.value)
    register(flores101_dir="/nonexistent/flores")
    with pytest.raises(FileNotFoundError, match="/nonexistent/flores"):
        _examples("flores101_1shot_eng_fra")
    with pytest.raises(FileNotFoundError, match="/nonexistent/flores"):
        flores101.FAMILY.check_data(EvalSettings(flores101_dir="/nonexistent/flores"), [])


def test_missing_spbleu_model_fails_when_the_dataset_is_built(register, monkeypatch, tmp_path, flores_dir):
    monkeypatch.delenv("SPBLEU_MODEL_PATH")
    monkeypatch.setenv("SACREBLEU", str(tmp_path / "empty"))
    register()
    with pytest.raises(FileNotFoundError, match="sacrebleu_tokenizer_spm.model"):
        _examples("flores101_1shot_eng_fra")
    with pytest.raises(FileNotFoundError, match="sacrebleu_tokenizer_spm.model"):
        flores101.FAMILY.check_data(EvalSettings(flores101_dir=flores_dir), [])
    register(bleu_tokenizer="13a")  # the opt-out needs no model
    assert len(_examples("flores101_1shot_eng_fra")) == 4


def test_reference_predictor_scores_100_through_seqio_evaluator(registered):
    vocab = tiny_vocabulary()
    evaluator = seqio.Evaluator(
        mixture_or_task_name="flores101_1shot_eng_fra",
        feature_converter=seqio.EncDecFeatureConverter(pack=False),
        eval_split="devtest",
    )

    def predict_fn(dataset, model_feature_shapes=None):
        # A CLM continuation: the reference, then the model goes on with the next pattern.
        out = []
        for index, ex in dataset.as_numpy_iterator():
            reference = vocab.decode([int(t) for t in ex["decoder_target_tokens"] if t > 1])
            tokens = vocab.encode(f"{reference}; Sentence:  Hello; Translation in French:")
            out.append((index, np.pad(tokens, (0, 64 - len(tokens)))))  # fixed length: numpy 2 needs it
        return out

    metrics, _ = evaluator.evaluate(compute_metrics=True, predict_fn=predict_fn)
    result = metrics.result()["flores101_1shot_eng_fra"]
    assert result == pytest.approx({"spbleu": 100.0, "chrf++": 100.0})


def test_registered_at_import_with_the_default_vocabulary(flores_dir):
    from tasks.seqio_vocabulary import default_vocabulary

    flores101.register_flores101_tasks()  # what importing the module did
    task = seqio.get_mixture_or_task("flores101_1shot_eng_fra")
    assert task.output_features["inputs"].vocabulary.vocab_size == default_vocabulary().vocab_size
    flores101.register_flores101_tasks(settings=EvalSettings(flores101_dir=flores_dir))
    assert len(_examples("flores101_1shot_eng_fra")[0]["inputs"]) > 10


def test_summary_table_rows_are_sources_and_columns_targets():
    metrics = {
        "flores101_1shot_eng_fra": {"spbleu": 41.26, "chrf++": 60.0},
        "flores101_1shot_fra_eng": {"spbleu": 38.0},
    }
    table = flores101.flores101_summary_table(metrics).splitlines()
    assert table[0].startswith("| spbleu: src \\ tgt | ara | eng | fra |")
    eng_row = next(line for line in table if line.startswith("| eng "))
    cells = [c.strip() for c in eng_row.strip("|").split("|")][1:]
    assert cells[flores101.LANGUAGES.index("fra")] == "41.3"
    assert cells[flores101.LANGUAGES.index("eng")] == "-"
    assert cells[flores101.LANGUAGES.index("deu")] == ""
    assert len(table) == 2 + 12
    assert "| 60.0 |" in flores101.flores101_summary_table(metrics, metric="chrf++")
