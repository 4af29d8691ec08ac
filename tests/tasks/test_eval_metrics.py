"""Metrics agree with sacrebleu, rouge-score and hand-computed values."""

import dataclasses
import os
import shutil

import pytest
import sacrebleu
from rouge_score import rouge_scorer

from tasks import eval_metrics
from tasks.eval_settings import EvalSettings
from tasks.rank_classification import CandidateTarget, group_candidates
from tests.tasks.eval_fixtures import tiny_spm_model

REFS = ["Le train part à neuf heures.", "Ma sœur lit un long livre.", "Le jardin est plein de fleurs rouges."]
HYPS = ["Le train part à neuf heures.", "Ma sœur lit un livre.", "Le jardin a des fleurs rouges."]


@pytest.fixture(autouse=True)
def _empty_sacrebleu_cache(monkeypatch, tmp_path):
    monkeypatch.delenv(eval_metrics.SPBLEU_ENV_VAR, raising=False)
    monkeypatch.setenv("SACREBLEU", str(tmp_path / "sacrebleu_home"))  # an empty sacrebleu cache


def test_spbleu_matches_sacrebleu_flores101_tokenizer(tmp_path, monkeypatch):
    from sacrebleu.tokenizers import tokenizer_spm

    # sacrebleu reads its model from SACREBLEU_DIR/models/; give it our tiny model there.
    models = tmp_path / "sb" / "models"
    models.mkdir(parents=True)
    shutil.copy(tiny_spm_model(), models / eval_metrics.SPBLEU_MODEL_FILE)
    monkeypatch.setattr(tokenizer_spm, "SACREBLEU_DIR", str(tmp_path / "sb"))
    expected = sacrebleu.corpus_bleu(HYPS, [REFS], tokenize="flores101").score

    got = eval_metrics.translation_metrics(REFS, HYPS, spbleu_model=tiny_spm_model())
    assert got["spbleu"] == pytest.approx(expected)
    assert 0 < got["spbleu"] < 100
    assert got["chrf++"] == pytest.approx(sacrebleu.corpus_chrf(HYPS, [REFS], word_order=2).score)


def test_perfect_translations_score_100(monkeypatch):
    monkeypatch.setenv(eval_metrics.SPBLEU_ENV_VAR, tiny_spm_model())
    assert eval_metrics.translation_metrics(REFS, REFS) == pytest.approx({"spbleu": 100.0, "chrf++": 100.0})


def test_spbleu_found_in_sacrebleu_cache(tmp_path, monkeypatch):
    models = tmp_path / "cache" / "models"
    models.mkdir(parents=True)
    shutil.copy(tiny_spm_model(), models / eval_metrics.SPBLEU_MODEL_FILE)
    monkeypatch.setenv("SACREBLEU", str(tmp_path / "cache"))
    assert eval_metrics.spbleu(REFS, REFS) == pytest.approx(100.0)


def test_offline_spbleu_error_says_where_to_put_the_model(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        eval_metrics.translation_metrics(REFS, HYPS)
    message = str(error.value)
    expected_path = os.path.join(str(tmp_path / "sacrebleu_home"), "models", "sacrebleu_tokenizer_spm.model")
    assert expected_path in message
    assert "SPBLEU_MODEL_PATH" in message and eval_metrics.SPBLEU_MODEL_URL in message
    assert "bleu_13a_NOT_spBLEU" in message


def test_opt_in_13a_bleu_is_labelled_not_spbleu():
    got = eval_metrics.translation_metrics(REFS, HYPS, bleu_tokenizer="13a")
    assert set(got) == {"bleu_13a_NOT_spBLEU", "chrf++"}
    assert got["bleu_13a_NOT_spBLEU"] == pytest.approx(sacrebleu.corpus_bleu(HYPS, [REFS]).score)


def test_rouge_matches_rouge_score_and_perfect_is_100():
    refs = ["The cats were running in the gardens.", "A storm hit the coast on Monday."]
    hyps = ["The cat runs in the garden.", "On Monday a big storm hit."]
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True)
    expected = {
        k: 100 * sum(scorer.score(r, h)[k].fmeasure for r, h in zip(refs, hyps)) / 2
        for k in ("rouge1", "rouge2", "rougeL", "rougeLsum")
    }
    assert eval_metrics.rouge_metrics(refs, hyps) == pytest.approx(expected)
    assert eval_metrics.rouge_metrics(refs, hyps)["rouge1"] > 60  # stemming: cats/cat, running/runs
    perfect = {"rouge1": 100, "rouge2": 100, "rougeL": 100, "rougeLsum": 100}
    assert eval_metrics.rouge_metrics(refs, refs) == pytest.approx(perfect)


def test_rouge_lsum_compares_sentence_by_sentence():
    from rouge_score import rouge_scorer

    ref, hyp = "The storm hit the coast. Trees fell down.", "Trees fell down. The storm hit the coast."
    got = eval_metrics.rouge_metrics([ref], [hyp])
    scorer = rouge_scorer.RougeScorer(["rougeL", "rougeLsum"], use_stemmer=True)
    expected = scorer.score("The storm hit the coast.\nTrees fell down.", "Trees fell down.\nThe storm hit the coast.")
    assert got["rougeLsum"] == pytest.approx(100 * expected["rougeLsum"].fmeasure)
    assert got["rougeLsum"] == pytest.approx(100.0) and got["rougeL"] < 100  # LCS per sentence, not over the text


def test_rouge_keeps_accented_words_in_german_spanish_and_french():
    from rouge_score import rouge_scorer

    ref, wrong = "Für die Bürger wäre das schön.", "Fär die Bärger würe das schän."
    # rouge-score's own tokenizer drops the accented letters: a different text scores 100.
    assert rouge_scorer.RougeScorer(["rouge1"]).score(ref, wrong)["rouge1"].fmeasure == pytest.approx(1.0)
    assert eval_metrics.rouge_metrics([ref], [ref], language="de")["rouge1"] == pytest.approx(100.0)
    assert eval_metrics.rouge_metrics([ref], [wrong], language="de")["rouge1"] == pytest.approx(100 * 2 / 6)
    assert eval_metrics.UnicodeTokenizer("fr").tokenize("Les élèves étudiaient") == ["les", "élev", "étudi"]
    assert eval_metrics.UnicodeTokenizer("es").tokenize("Los niños") == ["los", "niñ"]


def test_macro_f1_by_hand():
    golds = [0, 0, 1, 2, 2, 1]
    preds = [0, 1, 1, 2, 0, 1]
    # class 0: tp 1 fp 1 fn 1 -> 1/2; class 1: tp 2 fp 1 fn 0 -> 4/5; class 2: tp 1 fp 0 fn 1 -> 2/3
    assert eval_metrics.macro_f1(golds, preds) == pytest.approx(100 * (1 / 2 + 4 / 5 + 2 / 3) / 3)
    assert eval_metrics.accuracy(golds, preds) == pytest.approx(100 * 4 / 6)


def test_record_text_metrics_take_the_best_gold():
    assert eval_metrics.normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    golds = ["Barack Obama", "Obama"]
    assert eval_metrics.max_over_golds(eval_metrics.exact_match, golds, "obama") == 1.0
    assert eval_metrics.max_over_golds(eval_metrics.token_f1, golds, "President Obama") == pytest.approx(
        2 / 3
    )
    assert eval_metrics.max_over_golds(eval_metrics.token_f1, [], "x") == 0.0


def _candidates(idx, group, correct, n, answers=(), names=None):
    names = names or [f"c{i}" for i in range(n)]
    return [CandidateTarget(idx, i, group, i in correct, names[i], tuple(answers), 2) for i in range(n)]


def test_rank_classification_picks_the_highest_score_per_example():
    targets = _candidates(0, 0, {1}, 3) + _candidates(1, 1, {0}, 2)
    scores = [-5.0, -1.0, -3.0, -2.0, -2.0]  # example 1 ties: the first candidate wins
    ranked = group_candidates(targets, scores)
    assert [r.predicted for r in ranked] == [1, 0]
    assert all(r.is_right for r in ranked)
    assert eval_metrics.rank_accuracy(targets, scores) == {"accuracy": 100.0}
    # Shuffled candidates are regrouped by example and candidate index.
    order = [4, 2, 0, 3, 1]
    assert group_candidates([targets[i] for i in order], [scores[i] for i in order]) == ranked


def test_mean_normalization_divides_by_target_length():
    targets = [
        CandidateTarget(0, 0, 0, True, "short", (), 1),
        CandidateTarget(0, 1, 0, False, "long", (), 10),
    ]
    assert group_candidates(targets, [-2.0, -5.0], normalization="sum")[0].predicted == 0
    assert group_candidates(targets, [-2.0, -5.0], normalization="mean")[0].predicted == 1


def test_cb_metrics_by_hand():
    golds = [0, 0, 1, 2, 2, 1]
    preds = [0, 1, 1, 2, 0, 1]
    targets, scores = [], []
    for i, (g, p) in enumerate(zip(golds, preds)):
        targets += _candidates(i, i, {g}, 3)
        scores += [0.0 if c == p else -1.0 for c in range(3)]
    got = eval_metrics.cb_metrics(targets, scores)
    assert got["accuracy"] == pytest.approx(100 * 4 / 6)
    assert got["macro_f1"] == pytest.approx(100 * (1 / 2 + 4 / 5 + 2 / 3) / 3)


def test_multirc_f1a_and_exact_match_by_hand():
    # Question 0: options gold (1, 0, 1), predicted (1, 0, 0); question 1: gold (0, 1), predicted (0, 1).
    golds = [(0, 1), (0, 0), (0, 1), (1, 0), (1, 1)]
    preds = [1, 0, 0, 0, 1]
    targets, scores = [], []
    for i, ((group, gold), pred) in enumerate(zip(golds, preds)):
        targets += _candidates(i, group, {gold}, 2)
        scores += [0.0, 1.0] if pred else [1.0, 0.0]
    got = eval_metrics.multirc_metrics(targets, scores)
    # positives: tp 2 (options 0, 4), fp 0, fn 1 (option 2) -> F1 = 4/5; EM: question 1 only -> 1/2
    assert got == pytest.approx({"f1a": 80.0, "exact_match": 50.0})


def test_record_metrics_group_entities_by_query():
    names = ["Paris", "France", "Lyon"]
    targets = _candidates(0, 0, {0}, 3, answers=["Paris"], names=names) + _candidates(
        1, 1, {2}, 3, answers=["Lyon", "the city of Lyon"], names=names
    )
    scores = [-1.0, -2.0, -3.0, -1.0, -2.0, -3.0]  # query 1 wrongly picks "Paris"
    assert eval_metrics.record_metrics(targets, scores) == pytest.approx({"f1": 50.0, "exact_match": 50.0})


def test_settings_validate_and_cap():
    settings = EvalSettings(flores101_dir="/data/flores", max_eval_examples=0, bleu_tokenizer="13a")
    assert settings.max_eval_examples is None  # 0 = all
    assert not settings.uses_spbleu and EvalSettings().uses_spbleu
    assert EvalSettings(max_eval_examples=2).capped(iter(range(5))) == [0, 1]
    assert EvalSettings().capped(range(3)) == [0, 1, 2]
    with pytest.raises(TypeError):
        EvalSettings(flores_dir="/x")
    with pytest.raises(ValueError, match="shot selection"):
        EvalSettings(shot_selection="random")
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.max_eval_examples = 3  # passed explicitly, never changed behind a task's back
