"""SuperGLUE zero-shot rank classification from the official jsonl layout and from TFDS."""

import collections

import pytest
import seqio
import tensorflow_datasets as tfds

from tasks import registry, superglue
from tasks.eval_settings import Scoring
from tests.tasks.eval_fixtures import family_registrar, tiny_vocabulary, write_superglue_jsonl

NAMES = ("boolq", "cb", "copa", "multirc", "record", "rte", "wic", "wsc")


@pytest.fixture
def jsonl_dir(tmp_path):
    return write_superglue_jsonl(str(tmp_path / "superglue"))


@pytest.fixture
def register(jsonl_dir):
    """Registers the tasks with the tiny vocabulary and settings (the test's jsonl files unless overridden)."""

    yield family_registrar(superglue.register_superglue_tasks, tiny_vocabulary(), superglue_jsonl_dir=jsonl_dir)
    superglue.register_superglue_tasks()  # back to what importing the module registered


@pytest.fixture
def registered(register):
    return register()


def _examples(name):
    task = seqio.get_mixture_or_task(superglue.task_name(name))
    ds = task.get_dataset(None, split="validation", shuffle=False, num_epochs=1)
    return list(ds.as_numpy_iterator())


def _by_question(examples):
    grouped = collections.defaultdict(list)
    for ex in examples:
        grouped[int(ex["idx"])].append(ex)
    return grouped


def test_registers_eight_tasks_and_mixture(registered):
    assert registered == [f"super_glue_{n}_zeroshot" for n in NAMES]
    assert {t.name for t in seqio.get_mixture_or_task("super_glue_zeroshot").tasks} == set(registered)


def test_candidates_expand_with_indices_and_labels(registered):
    examples = _examples("cb")
    assert len(examples) == 3 * 3  # three questions x (True, False, Neither)
    first = _by_question(examples)[0]
    assert [ex["targets_pretokenized"].decode() for ex in first] == ["True", "False", "Neither"]
    assert [int(ex["candidate_idx"]) for ex in first] == [0, 1, 2]
    assert [bool(ex["is_correct"]) for ex in first] == [True, False, False]
    assert first[0]["inputs_pretokenized"].decode() == (
        "[CLM] Anna said the shop was closed. Question: The shop was closed. True, False, or Neither? Answer:"
    )
    assert first[0]["targets"][-1] != tiny_vocabulary().eos_id  # candidates are scored without EOS
    assert first[0]["inputs"][-1] == tiny_vocabulary().eos_id


def test_prompts_of_each_task(registered):
    copa = _by_question(_examples("copa"))
    assert copa[0][0]["inputs_pretokenized"].decode() == "[CLM] The glass fell off the table therefore"
    assert [ex["targets_pretokenized"].decode() for ex in copa[1]] == ["the sun was out.", "it had rained."]
    assert [bool(ex["is_correct"]) for ex in copa[1]] == [False, True]
    wsc = _by_question(_examples("wsc"))[1][0]["inputs_pretokenized"].decode()
    assert 'does the pronoun "it" refer to "The cup"?' in wsc
    boolq = _by_question(_examples("boolq"))[1]
    assert boolq[0]["inputs_pretokenized"].decode().endswith("Question: do fish live in trees? Answer:")
    assert [bool(ex["is_correct"]) for ex in boolq] == [True, False]  # label False -> "no"
    rte = _by_question(_examples("rte"))[1]
    assert [bool(ex["is_correct"]) for ex in rte] == [False, True]  # not_entailment -> "False"
    wic = _by_question(_examples("wic"))[0][0]["inputs_pretokenized"].decode()
    assert "Is the word 'bank' used in the same way" in wic


def test_multirc_groups_answer_options_by_question(registered, register):
    examples = _examples("multirc")
    questions = _by_question(examples)
    assert len(questions) == 5  # answer options
    assert [int(q[0]["group_idx"]) for q in questions.values()] == [0, 0, 0, 1, 1]
    assert [bool(q[1]["is_correct"]) for q in questions.values()] == [True, False, True, True, False]
    register(max_eval_examples=1)  # one question = all its options
    assert len(_by_question(_examples("multirc"))) == 3


def test_record_candidates_are_the_passage_entities_per_query(registered):
    queries = _by_question(_examples("record"))
    assert len(queries) == 2
    first = queries[0]
    assert [ex["targets_pretokenized"].decode() for ex in first] == [
        "France is the capital.",
        "Lyon is the capital.",
        "Paris is the capital.",
    ]  # "Paris" appears twice in the passage: one candidate
    assert first[0]["inputs_pretokenized"].decode() == (
        "[CLM] Paris is the capital of France. Paris is big and Lyon is smaller. - A city story."
    )
    second = queries[1]
    assert second[0]["inputs_pretokenized"].decode().endswith("- A city story. The smaller city is")
    assert [bool(ex["is_correct"]) for ex in second] == [False, True, False]
    assert [a.decode() for a in second[0]["answers"]] == ["Lyon"]


def _score_with(evaluator, pick):
    """Evaluates with a score fn giving 0 to the candidates `pick(task example)` chooses, -1 to others."""
    task_of = {id(ds): name for name, ds in evaluator.cached_model_datasets.items()}

    def score_fn(dataset, model_feature_shapes=None):
        name = task_of[id(dataset)]  # the model dataset keeps the task dataset's order
        examples = list(evaluator.cached_task_datasets[name].as_numpy_iterator())
        indices = [int(index) for index, _ in dataset.as_numpy_iterator()]
        return [(i, 0.0 if pick(examples[i]) else -1.0) for i in indices]

    metrics, _ = evaluator.evaluate(compute_metrics=True, score_fn=score_fn)
    return metrics.result()


def test_oracle_scores_give_perfect_metrics_through_seqio_evaluator(registered):
    evaluator = seqio.Evaluator(
        mixture_or_task_name="super_glue_zeroshot",
        feature_converter=seqio.EncDecFeatureConverter(pack=False),
        eval_split="validation",
    )
    results = _score_with(evaluator, lambda ex: bool(ex["is_correct"]))
    assert results["super_glue_cb_zeroshot"] == pytest.approx({"accuracy": 100.0, "macro_f1": 100.0})
    assert results["super_glue_multirc_zeroshot"] == pytest.approx({"f1a": 100.0, "exact_match": 100.0})
    assert results["super_glue_record_zeroshot"] == pytest.approx({"f1": 100.0, "exact_match": 100.0})
    for name in ("boolq", "copa", "rte", "wic", "wsc"):
        assert results[f"super_glue_{name}_zeroshot"] == pytest.approx({"accuracy": 100.0})
    # Always the first candidate: MultiRC says "no" everywhere, ReCoRD picks "France" both times.
    results = _score_with(evaluator, lambda ex: int(ex["candidate_idx"]) == 0)
    assert results["super_glue_multirc_zeroshot"] == pytest.approx({"f1a": 0.0, "exact_match": 0.0})
    assert results["super_glue_record_zeroshot"] == pytest.approx({"f1": 0.0, "exact_match": 0.0})
    assert results["super_glue_boolq_zeroshot"] == pytest.approx({"accuracy": 50.0})


def test_missing_jsonl_names_the_layout(register, tmp_path):
    register(superglue_jsonl_dir=str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match=r"BoolQ/val\.jsonl.*SUPERGLUE_JSONL_DIR"):
        _examples("boolq")


def test_tfds_source_when_no_jsonl_dir(register):
    register(superglue_jsonl_dir=None)
    with tfds.testing.mock_data(num_examples=4):
        cb = _examples("cb")
        multirc = _examples("multirc")
    assert len(cb) == 4 * 3
    assert all(ex["inputs_pretokenized"].decode().startswith("[CLM] ") for ex in cb)
    assert sum(bool(ex["is_correct"]) for ex in cb) == 4  # one gold class per question
    assert len(multirc) == 4 * 2


def test_tfds_failure_points_to_the_jsonl_option(register, monkeypatch, tmp_path):
    seen = []

    def offline(*args, data_dir=None, **kwargs):
        seen.append(data_dir)
        raise OSError("no network")

    register(superglue_jsonl_dir=None)
    monkeypatch.setattr(tfds, "load", offline)
    try:
        registry.set_tfds_data_dir(str(tmp_path / "tfds"))
        with pytest.raises(FileNotFoundError, match=r"super_glue/rte:1\.0\.2.*no network.*SUPERGLUE_JSONL_DIR"):
            _examples("rte")
    finally:
        registry.set_tfds_data_dir(None)
    assert seen == [str(tmp_path / "tfds")]  # the one TFDS data dir setting reaches the loader


def _first(name):
    return _by_question(_examples(name))


def test_scoring_switches_change_the_encoder_and_decoder_texts(register):
    register()  # clm, answer
    cb = _first("cb")[0]
    prompt = "Anna said the shop was closed. Question: The shop was closed. True, False, or Neither? Answer:"
    assert cb[0]["inputs_pretokenized"].decode() == f"[CLM] {prompt}"
    assert [ex["targets_pretokenized"].decode() for ex in cb] == ["True", "False", "Neither"]
    register(superglue_scoring=Scoring(mode="denoising", scored="full"))
    cb = _first("cb")[0]
    assert cb[0]["inputs_pretokenized"].decode() == prompt
    assert [ex["targets_pretokenized"].decode() for ex in cb] == [f"{prompt} {a}" for a in ("True", "False",
                                                                                            "Neither")]
    copa = _first("copa")[1]  # the candidates' answers stay what the metrics report
    assert [ex["candidate_answer"].decode() for ex in copa] == ["the sun was out.", "it had rained."]


def test_mean_aggregation_reaches_the_metric(register):
    register(superglue_scoring=Scoring(aggregation="mean"))
    metric = seqio.get_mixture_or_task(superglue.task_name("cb")).score_metric_fns[0]
    assert metric.keywords == {"aggregation": "mean"}
    with pytest.raises(ValueError, match="aggregation='median'"):
        Scoring(aggregation="median")
