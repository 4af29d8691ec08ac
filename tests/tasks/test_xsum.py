"""XSum 1-shot: the official shot choice, article cut and prompt, and ROUGE through seqio."""

import numpy as np
import pytest
import seqio
import tensorflow as tf
import tensorflow_datasets as tfds

from tasks import xsum
from tasks.eval_settings import EvalSettings
from tasks.seqio_vocabulary import get_vocabulary
from tests.tasks.eval_fixtures import tiny_spm_model, tiny_vocabulary


@pytest.fixture
def registered():
    yield xsum.register_xsum_tasks(tiny_vocabulary())
    xsum.register_xsum_tasks()  # back to what importing the module registered


def test_shot_is_the_first_short_train_article():
    rows = [
        {"document": b"word " * 192, "summary": b"too long"},
        {"document": "A short article.\nTwo lines.", "summary": "Short."},
        {"document": "Another short one.", "summary": "Other."},
    ]
    assert xsum.select_shot(rows) == ("A short article.\nTwo lines.", "Short.")
    with pytest.raises(ValueError, match="fewer than 192 words"):
        xsum.select_shot(rows[:1])


def test_drop_last_sentence():
    assert (
        xsum.drop_last_sentence('He said "Go." Then she left! And the rest was cu')
        == 'He said "Go." Then she left!'
    )
    assert xsum.drop_last_sentence("One sentence. Two sentences.") == "One sentence."
    assert xsum.drop_last_sentence("no boundary at all") == "no boundary at all"


def test_long_articles_are_cut_to_whole_sentences():
    vocab = tiny_vocabulary()
    article = "The cat sleeps on the warm mat. " * 20
    short = xsum.truncate_article(article, vocab, limit=40)
    assert len(vocab.encode(short)) <= 39 and short.endswith("mat.")
    assert article.startswith(short)
    assert xsum.truncate_article("Rain fell all night.", vocab, limit=40) == "Rain fell all night."


XSUM_ROWS = {
    "train": [
        {"document": "The long story goes on. " * 50, "summary": "A long story."},
        {"document": "Rain fell all night.\nThe river rose.", "summary": "The river rose after rain."},
    ],
    "test": [
        {"document": "The train leaves at nine.\nIt is often late.", "summary": "Trains are often late."},
        {"document": "The garden is full of red flowers.", "summary": "A garden in bloom."},
        {"document": "He bought fresh bread this morning.", "summary": "He bought bread."},
    ],
}


def _as_dataset(self, split, decoders=None, read_config=None, **kwargs):
    rows = XSUM_ROWS[str(split)]
    return tf.data.Dataset.from_tensor_slices({k: [r[k] for r in rows] for k in ("document", "summary")})


def _examples():
    with tfds.testing.mock_data(as_dataset_fn=_as_dataset):
        task = seqio.get_mixture_or_task(xsum.TASK_NAME)
        return list(task.get_dataset(None, split="test", shuffle=False, num_epochs=1).as_numpy_iterator())


def test_examples_are_official_one_shot_prompts(registered):
    examples = _examples()
    assert len(examples) == 3
    assert examples[0]["inputs_pretokenized"].decode() == (
        "[CLM] Article: Rain fell all night. The river rose. ==> Short summary: The river rose after rain. "
        "<br><br><br> Article: The train leaves at nine. It is often late. ==> Short summary:"
    )
    assert [ex["targets_pretokenized"].decode() for ex in examples] == [
        r["summary"] for r in XSUM_ROWS["test"]
    ]


def test_random_mock_data_loads(registered):
    with tfds.testing.mock_data(num_examples=2):
        task = seqio.get_mixture_or_task(xsum.TASK_NAME)
        examples = list(task.get_dataset(None, split="test", shuffle=False, num_epochs=1).as_numpy_iterator())
    assert len(examples) == 2
    assert all(ex["inputs_pretokenized"].decode().startswith("[CLM] Article: ") for ex in examples)


def test_registers_with_another_vocabulary(registered):
    xsum.register_xsum_tasks(get_vocabulary(tiny_spm_model(), required_pieces=()))
    vocab = seqio.get_mixture_or_task(xsum.TASK_NAME).output_features["targets"].vocabulary
    assert vocab.vocab_size == tiny_vocabulary().vocab_size


def test_max_eval_examples_caps_the_test_split(registered):
    xsum.register_xsum_tasks(tiny_vocabulary(), EvalSettings(max_eval_examples=2))
    assert len(_examples()) == 2


def test_the_official_cut_counts_the_text_tokens_in_both_conventions():
    article = "The cat sleeps on the warm mat. " * 20
    for tokenization in ("project", "official"):
        vocab = get_vocabulary(tiny_spm_model(), required_pieces=(), tokenization=tokenization)
        short = xsum.truncate_article(article, vocab, limit=40)
        text_ids = vocab.alexatm_tokenizer.encode(short)
        assert len(text_ids) + 2 <= 40 and short.endswith("mat."), tokenization


def test_reference_predictor_scores_100_through_seqio_evaluator(registered):
    vocab = tiny_vocabulary()
    with tfds.testing.mock_data(as_dataset_fn=_as_dataset):
        evaluator = seqio.Evaluator(
            mixture_or_task_name=xsum.TASK_NAME,
            feature_converter=seqio.EncDecFeatureConverter(pack=False),
            eval_split="test",
        )

    def predict_fn(dataset, model_feature_shapes=None):
        out = []
        for index, ex in dataset.as_numpy_iterator():
            reference = vocab.decode([int(t) for t in ex["decoder_target_tokens"] if t > 1])
            tokens = vocab.encode(f"{reference} <br><br><br> Article: more")
            out.append((index, np.pad(tokens, (0, 128 - len(tokens)))))
        return out

    metrics, _ = evaluator.evaluate(compute_metrics=True, predict_fn=predict_fn)
    result = metrics.result()[xsum.TASK_NAME]
    assert result == pytest.approx({"rouge1": 100.0, "rouge2": 100.0, "rougeL": 100.0, "rougeLsum": 100.0})
