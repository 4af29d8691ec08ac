"""MLSum 1-shot: the Hugging Face file layout, the XSum shot and cut rules, language-aware ROUGE through seqio."""

import json

import numpy as np
import pytest
import seqio

from tasks import mlsum
from tasks.eval_settings import EvalSettings
from tasks.prompts import summarization_prompt
from tasks.seqio_vocabulary import default_vocabulary
from tests.tasks.eval_fixtures import family_registrar, tiny_vocabulary

ROWS = {
    "de": {
        "train": [("Der lange Bericht geht weiter. " * 60, "Ein langer Bericht."),
                  ("Die Bürger wählten gestern einen neuen Rat.\nDie Wahl war ruhig.", "Ein neuer Rat.")],
        "test": [("Der Zug nach Köln fährt um neun Uhr ab. Er ist oft spät.", "Züge nach Köln sind spät."),
                 ("Im Garten blühen rote Blumen.", "Ein Garten in Blüte."),
                 ("Er kaufte heute Morgen frisches Brot.", "Er kaufte Brot.")],
    },
    "es": {
        "train": [("Los niños jugaron en el parque toda la tarde.", "Niños en el parque.")],
        "test": [("El tren sale a las nueve. Llega tarde a menudo.", "El tren llega tarde.")],
    },
    "fr": {
        "train": [("Les élèves ont visité le musée du Louvre.", "Une visite au Louvre.")],
        "test": [("Le train part à neuf heures. Il est souvent en retard.", "Le train est en retard.")],
    },
}


def write_mlsum(root, *, folder_per_zip=("fr",)):
    """The files of the Hugging Face `mlsum` dataset: `{lang}_{split}.jsonl` (fr: each zip in its own folder)."""
    for language, splits in ROWS.items():
        for split, rows in splits.items():
            stem = f"{language}_{split}"
            directory = root / stem if language in folder_per_zip else root
            directory.mkdir(parents=True, exist_ok=True)
            lines = [json.dumps({"text": t, "summary": s, "topic": "politik", "url": f"https://example.org/{i}",
                                 "title": s, "date": "00/01/2019"}, ensure_ascii=False) for i, (t, s) in
                     enumerate(rows)]
            (directory / f"{stem}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(root)


@pytest.fixture
def mlsum_dir(tmp_path):
    return write_mlsum(tmp_path / "mlsum")


@pytest.fixture
def register(mlsum_dir):
    yield family_registrar(mlsum.register_mlsum_tasks, tiny_vocabulary(), mlsum_dir=mlsum_dir)
    mlsum.register_mlsum_tasks()  # back to what importing the module registered


def _examples(name):
    ds = seqio.get_mixture_or_task(name).get_dataset(None, split="test", shuffle=False, num_epochs=1)
    return list(ds.as_numpy_iterator())


def test_registers_three_languages_and_the_mixture(register):
    assert register() == ["mlsum_1shot_de", "mlsum_1shot_es", "mlsum_1shot_fr"]
    assert {t.name for t in seqio.get_mixture_or_task("mlsum_1shot").tasks} == set(mlsum.task_name(lang) for lang
                                                                                    in mlsum.LANGUAGES)


def test_one_shot_prompts_with_the_first_short_train_article(register):
    register()
    examples = _examples("mlsum_1shot_de")
    assert len(examples) == 3
    shot = ("Die Bürger wählten gestern einen neuen Rat.\nDie Wahl war ruhig.", "Ein neuer Rat.")  # first < 192 words
    assert examples[0]["inputs_pretokenized"].decode() == summarization_prompt(
        [shot], "Der Zug nach Köln fährt um neun Uhr ab. Er ist oft spät.")
    assert examples[0]["inputs_pretokenized"].decode().startswith(
        "[CLM] Article: Die Bürger wählten gestern einen neuen Rat. Die Wahl war ruhig. ==> Short summary: Ein neuer "
        "Rat. <br><br><br> Article: Der Zug")
    assert [ex["targets_pretokenized"].decode() for ex in examples] == [s for _, s in ROWS["de"]["test"]]
    fr = _examples("mlsum_1shot_fr")  # the folder-per-zip layout
    assert fr[0]["inputs_pretokenized"].decode().startswith("[CLM] Article: Les élèves ont visité")


def test_max_eval_examples_caps_the_test_split(register):
    register(max_eval_examples=2)
    assert len(_examples("mlsum_1shot_de")) == 2


def test_missing_files_name_the_layout_and_the_gin_flag(register, tmp_path):
    register(mlsum_dir=None)
    with pytest.raises(FileNotFoundError, match=r"MLSUM_DIR is unset.*\{lang\}_\{split\}\.jsonl.*--gin\.MLSUM_DIR="):
        _examples("mlsum_1shot_es")
    (tmp_path / "partial").mkdir()
    write_mlsum(tmp_path / "partial")
    (tmp_path / "partial" / "es_train.jsonl").unlink()
    settings = EvalSettings(mlsum_dir=str(tmp_path / "partial"))
    mlsum.FAMILY.check_data(settings, ["mlsum_1shot_de"])  # only the tasks asked for are checked
    with pytest.raises(FileNotFoundError, match="es_train.jsonl"):
        mlsum.FAMILY.check_data(settings, ["mlsum_1shot_de", "mlsum_1shot_es"])


def test_a_line_without_text_names_the_file(register, mlsum_dir):
    with open(f"{mlsum_dir}/es_test.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"article": "x"}) + "\n")
    register()
    with pytest.raises(ValueError, match=r"es_test\.jsonl, line 2, has no `text`"):
        _examples("mlsum_1shot_es")


def test_reference_predictions_score_100_and_accents_count(register, mlsum_dir):
    vocab = default_vocabulary()  # covers German (the tiny test vocabulary has no umlauts)
    mlsum.register_mlsum_tasks(vocab, EvalSettings(mlsum_dir=mlsum_dir))
    evaluator = seqio.Evaluator(mixture_or_task_name="mlsum_1shot_de",
                                feature_converter=seqio.EncDecFeatureConverter(pack=False), eval_split="test")
    examples = list(evaluator.cached_task_datasets["mlsum_1shot_de"].as_numpy_iterator())

    def predict_with(text_of):
        def predict_fn(dataset, model_feature_shapes=None):
            out = []
            for index, _ in dataset.as_numpy_iterator():
                tokens = vocab.encode(text_of(examples[index]["targets_pretokenized"].decode()) + " <br><br><br> x")
                out.append((index, np.pad(tokens, (0, 128 - len(tokens)))))
            return out
        return predict_fn

    metrics, _ = evaluator.evaluate(compute_metrics=True, predict_fn=predict_with(lambda ref: ref))
    assert metrics.result()["mlsum_1shot_de"] == pytest.approx(
        {"rouge1": 100.0, "rouge2": 100.0, "rougeL": 100.0, "rougeLsum": 100.0})
    # Umlauts swapped for other accented letters: rouge-score's default tokenizer, which drops both, would still
    # give 100.
    swapped = str.maketrans("äöüÄÖÜ", "éèêÉÈÊ")
    metrics, _ = evaluator.evaluate(compute_metrics=True, predict_fn=predict_with(lambda ref: ref.translate(swapped)))
    assert metrics.result()["mlsum_1shot_de"]["rouge1"] < 100.0
