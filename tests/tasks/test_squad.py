"""SQuAD v2 k-shot: the official JSON layout, shots, the no-answer string and the official metric."""

import json
from pathlib import Path

import numpy as np
import pytest
import seqio

from tasks import eval_metrics, squad
from tasks.eval_settings import EvalSettings
from tests.tasks.eval_fixtures import family_registrar, tiny_vocabulary

# Hand-written in the layout of the official dev-v2.0.json (not by the project's code).
SAMPLE = str(Path(__file__).resolve().parents[1] / "data" / "squad_v2_dev_sample.json")


@pytest.fixture
def register():
    yield family_registrar(squad.register_squad_tasks, tiny_vocabulary(), squad_v2_json=SAMPLE)
    squad.register_squad_tasks()  # back to what importing the module registered


def _examples(name):
    ds = seqio.get_mixture_or_task(name).get_dataset(None, split="validation", shuffle=False, num_epochs=1)
    return list(ds.as_numpy_iterator())


def test_reads_the_official_layout():
    questions = squad.read_json(SAMPLE)
    assert len(questions) == 8
    assert [q.id[-2:] for q in questions] == ["01", "02", "03", "04", "05", "06", "07", "08"]
    assert questions[0].answers == ("dangerous coastlines", "dangerous coastlines and reefs")
    assert questions[2].answers == () and questions[2].answer_text == squad.NO_ANSWER  # is_impossible
    assert {q.title for q in questions} == {"Lighthouse", "Honey_bee", "Glacier"}


def test_one_shot_prompts_take_the_shot_from_another_article(register):
    assert "squad_v2_1shot" in register()
    examples = _examples("squad_v2_1shot")
    assert len(examples) == 8
    first = examples[0]["inputs_pretokenized"].decode()
    # The query is from "Lighthouse": the shot is the first answerable question of the next article.
    assert first == (
        "[CLM] Context: Honey bees collect nectar and pollen from flowers and turn the nectar into honey inside the "
        "hive. A worker bee has six legs and lives for a few weeks in summer. Question: What do honey bees collect "
        "from flowers? Answer: nectar <br><br><br> Context: A lighthouse is a tower that warns ships of dangerous "
        "coastlines and reefs with a bright light. The first lighthouse on the island was built in 1823 and a keeper "
        "lived in a small house beside it. Question: What does a lighthouse warn ships about? Answer:")
    shot_of_bees = examples[3]["inputs_pretokenized"].decode()
    assert shot_of_bees.startswith("[CLM] Context: A lighthouse is a tower")  # other article: Lighthouse
    assert examples[2]["targets_pretokenized"].decode() == squad.NO_ANSWER
    assert [a.decode() for a in examples[0]["answers"]] == ["dangerous coastlines", "dangerous coastlines and reefs"]
    assert list(examples[2]["answers"]) == []
    assert examples[0]["inputs"][-1] == tiny_vocabulary().eos_id


def test_shots_alternate_answerable_and_unanswerable(register):
    register()
    prompt = _examples("squad_v2_2shot")[0]["inputs_pretokenized"].decode()
    assert prompt.count("Answer:") == 3
    assert "Answer: nectar <br><br><br>" in prompt and f"Answer: {squad.NO_ANSWER} <br><br><br>" in prompt
    assert _examples("squad_v2_0shot")[0]["inputs_pretokenized"].decode().count("Context:") == 1


def test_max_eval_examples_caps_the_questions(register):
    register(max_eval_examples=3)
    assert len(_examples("squad_v2_1shot")) == 3


def test_a_file_in_another_layout_names_the_official_one(register, tmp_path):
    bad = tmp_path / "train.json"
    bad.write_text(json.dumps([{"context": "x", "question": "y"}]))
    with pytest.raises(ValueError, match=r"official-format.*paragraphs.*is_impossible.*SQUAD_V2_JSON"):
        squad.FAMILY.check_data(EvalSettings(squad_v2_json=str(bad)), [])
    with pytest.raises(FileNotFoundError, match="missing.json not found"):
        squad.read_json(str(tmp_path / "missing.json"))


def test_predictions_are_cut_and_the_no_answer_string_is_the_empty_answer():
    post = squad.postprocess_answer
    assert post(" dangerous coastlines <br><br><br> Context: more") == "dangerous coastlines"
    assert post(" 1823 Question: When") == "1823"
    assert post(" unanswerable <br><br><br>") == ""
    assert post(" Unanswerable.") == ""  # the official normalisation: case and punctuation do not matter
    assert post(" not unanswerable") == "not unanswerable"
    assert post(b"x", {"answers": np.array([b"a", b"b"])}, is_target=True) == ["a", "b"]
    assert post(b"unanswerable", {"answers": np.array([], dtype=object)}, is_target=True) == []


def test_squad_v2_metric_by_hand():
    golds = [["dangerous coastlines", "dangerous coastlines and reefs"], ["1823"], [], [], ["the"]]
    predictions = [
        "dangerous coastlines, reefs",  # exact 0; F1 max over golds: P 1, R 3/4 vs the second -> 6/7
        "in 1823",  # exact 0, F1 2 * (1/2 * 1) / (1/2 + 1) = 2/3
        "",  # unanswerable answered correctly: exact 1, F1 1
        "a keeper",  # unanswerable answered: exact 0, F1 0
        "",  # a gold that normalises to nothing counts as no answer: "" scores 1
    ]
    got = eval_metrics.squad_v2_metrics(golds, predictions)
    assert got["total"] == 5 and got["HasAns_total"] == 2 and got["NoAns_total"] == 3
    assert got["HasAns_exact"] == pytest.approx(0.0)
    assert got["HasAns_f1"] == pytest.approx(100 * (6 / 7 + 2 / 3) / 2)
    assert got["NoAns_exact"] == pytest.approx(100 * 2 / 3) and got["NoAns_f1"] == pytest.approx(100 * 2 / 3)
    assert got["exact"] == pytest.approx(100 * 2 / 5)
    assert got["f1"] == pytest.approx(100 * (6 / 7 + 2 / 3 + 1 + 0 + 1) / 5)
    only_answerable = eval_metrics.squad_v2_metrics([["x"]], ["x"])
    assert "NoAns_exact" not in only_answerable and only_answerable["exact"] == 100.0


def _evaluate(predict):
    """Runs the 1-shot task through seqio.Evaluator with `predict(example) -> text` as the model."""
    vocab = tiny_vocabulary()
    evaluator = seqio.Evaluator(mixture_or_task_name="squad_v2_1shot",
                                feature_converter=seqio.EncDecFeatureConverter(pack=False), eval_split="validation")
    examples = list(evaluator.cached_task_datasets["squad_v2_1shot"].as_numpy_iterator())

    def predict_fn(dataset, model_feature_shapes=None):
        out = []
        for index, _ in dataset.as_numpy_iterator():
            tokens = vocab.encode(predict(examples[index]) + " <br><br><br> Context: next")
            out.append((index, np.pad(tokens, (0, 256 - len(tokens)))))
        return out

    metrics, _ = evaluator.evaluate(compute_metrics=True, predict_fn=predict_fn)
    return metrics.result()["squad_v2_1shot"]


def test_through_seqio_evaluator_unanswerable_answered_right_and_wrong(register):
    register()
    oracle = _evaluate(lambda ex: ex["targets_pretokenized"].decode())  # gold answer or "unanswerable"
    assert oracle["exact"] == pytest.approx(100.0) and oracle["f1"] == pytest.approx(100.0)
    assert oracle["HasAns_total"] == 5 and oracle["NoAns_total"] == 3
    always_none = _evaluate(lambda ex: squad.NO_ANSWER)
    assert always_none["NoAns_exact"] == pytest.approx(100.0) and always_none["HasAns_exact"] == pytest.approx(0.0)
    assert always_none["exact"] == pytest.approx(100 * 3 / 8)
    never_none = _evaluate(lambda ex: "honey")  # every unanswerable question answered: all wrong
    assert never_none["NoAns_exact"] == pytest.approx(0.0) and never_none["NoAns_f1"] == pytest.approx(0.0)
