"""The embedded default corpus: coverage, size, split hygiene, determinism, scripts and prompt format."""

import dataclasses
import re
from collections import Counter

import pytest

from tasks import corpus
from tasks.corpus import (
    INTENTS,
    LANGUAGE_NAMES,
    LANGUAGES,
    Utterance,
    documents,
    few_shot_intent_examples,
    few_shot_intent_prompt,
    generate,
    shown_intent_prompt,
    write_text,
)
from tasks.corpus.generation import intent_pool, is_validation, language_data

SCRIPTS = {
    "ar": re.compile(r"[\u0600-\u06FF]"),
    "hi": re.compile(r"[\u0900-\u097F]"),
    "mr": re.compile(r"[\u0900-\u097F]"),
    "ja": re.compile(r"[\u3040-\u30FF\u4E00-\u9FFF]"),
    "ta": re.compile(r"[\u0B80-\u0BFF]"),
    "te": re.compile(r"[\u0C00-\u0C7F]"),
}
NON_LATIN = re.compile(r"[\u0600-\u06FF\u0900-\u097F\u3040-\u30FF\u4E00-\u9FFF\u0B80-\u0BFF\u0C00-\u0C7F]")


@pytest.fixture(scope="module")
def train() -> list[Utterance]:
    return generate("train")


@pytest.fixture(scope="module")
def validation() -> list[Utterance]:
    return generate("validation")


def test_constants():
    assert LANGUAGES == ("ar", "en", "fr", "de", "hi", "it", "ja", "mr", "pt", "es", "ta", "te")
    assert set(LANGUAGE_NAMES) == set(LANGUAGES) and LANGUAGE_NAMES["mr"] == "Marathi"
    assert len(INTENTS) >= 20 and len(set(INTENTS)) == len(INTENTS)
    assert corpus.SPLITS == ("train", "validation")


def test_every_language_has_every_intent_with_several_templates(train, validation):
    for language in LANGUAGES:
        templates = language_data(language)
        assert all(len(templates[intent]) >= 5 for intent in INTENTS), language
    pairs = {(u.language, u.intent) for u in train}
    assert pairs == {(lang, intent) for lang in LANGUAGES for intent in INTENTS}
    assert {u.language for u in validation} == set(LANGUAGES)


def test_train_is_large_and_balanced(train):
    texts = {u.text for u in train}
    assert len(texts) >= 50_000
    assert len(texts) == len(train), "generate() returns distinct sentences"
    per_language = Counter(u.language for u in train)
    assert min(per_language.values()) >= 4_000
    assert max(per_language.values()) < 1.2 * min(per_language.values())


def test_validation_is_sizeable_and_disjoint_from_train(train, validation):
    per_language = Counter(u.language for u in validation)
    assert min(per_language[lang] for lang in LANGUAGES) >= 300
    assert not {u.text for u in train} & {u.text for u in validation}
    # The split is a function of the text, so it holds across seeds too.
    other_seed = {u.text for u in generate("train", languages=["en", "ja"], seed=7)}
    assert not other_seed & {u.text for u in validation}
    assert all(is_validation(u.text) for u in validation) and not any(is_validation(u.text) for u in train)


def test_same_seed_same_output_other_seed_other_sampling(train):
    english = [u for u in train if u.language == "en"]
    intent_pool.cache_clear()  # regenerate from scratch rather than from the cache
    assert generate("train", languages=["en"]) == english
    reseeded = generate("train", languages=["en"], seed=1)
    assert [u.text for u in reseeded] != [u.text for u in english]
    assert {u.text for u in reseeded} != {u.text for u in english}


def test_subsets_match_the_full_corpus(train):
    subset = generate("train", languages=["fr"], intents=["get_weather", "set_alarm"])
    expected = [u for u in train if u.language == "fr" and u.intent in ("get_weather", "set_alarm")]
    assert sorted(u.text for u in subset) == sorted(u.text for u in expected)
    assert generate("train", languages="te") == [u for u in train if u.language == "te"]


def test_text_is_clean(train, validation):
    for u in train + validation:
        assert u.text and u.text == u.text.strip(), u
        assert "{" not in u.text and "}" not in u.text, u
        assert "  " not in u.text and "\n" not in u.text, u
        u.text.encode("utf-8")
    with pytest.raises(dataclasses.FrozenInstanceError):
        train[0].text = "changed"


def test_each_language_is_written_in_its_script(train):
    for u in train:
        if u.language in SCRIPTS:
            assert SCRIPTS[u.language].search(u.text), u
        else:
            assert re.search(r"[A-Za-z]", u.text) and not NON_LATIN.search(u.text), u


def test_documents_are_single_language_paragraphs():
    docs = documents("train", languages=["en", "ja", "hi"])
    assert docs and all(set(d) == {"text", "language"} for d in docs)
    assert {d["language"] for d in docs} == {"en", "ja", "hi"}
    english_words = [len(d["text"].split()) for d in docs if d["language"] == "en"]
    assert 20 <= sorted(english_words)[len(english_words) // 2] <= 80
    japanese_chars = [len(d["text"]) for d in docs if d["language"] == "ja"]
    assert 40 <= sorted(japanese_chars)[len(japanese_chars) // 2] <= 300
    hindi = [u.text for u in generate("train", languages=["hi"])]
    chunks = {" ".join(hindi[i : i + 6]) for i in range(0, len(hindi), 6)}
    assert {d["text"] for d in docs if d["language"] == "hi"} == chunks
    assert documents("train", languages=["en"]) == documents("train", languages=["en"])
    assert len(documents("train", languages=["en"], utterances_per_document=1)) == len(
        generate("train", languages=["en"])
    )
    with pytest.raises(ValueError, match="utterances_per_document"):
        documents(utterances_per_document=0)


def test_validation_documents_hold_only_validation_sentences():
    docs = documents("validation", languages=["de"], utterances_per_document=1)
    assert {d["text"] for d in docs} == {u.text for u in generate("validation", languages=["de"])}


def test_few_shot_prompt_names_three_shot_intents_then_the_target():
    example = few_shot_intent_prompt("fr", "book_taxi", seed=3)
    assert set(example) == {"inputs", "targets", "language", "target_intent"}
    inputs = example["inputs"]
    assert inputs.startswith("[CLM] Intent: ") and inputs.endswith("Intent: book_taxi; Utterances:")
    named = re.findall(r"Intent: (\w+);", inputs)
    assert len(named) == 4 and named[-1] == "book_taxi" and "book_taxi" not in named[:3]
    assert set(named[:3]) <= set(INTENTS)
    assert example["targets"] in intent_pool("fr", "book_taxi", 3)["train"]
    for block, intent in zip(inputs.split(" ; ")[:3], named[:3]):
        shots = block.split("Utterances: ", 1)[1].split(" | ")
        assert len(shots) == 2 and all(s in intent_pool("fr", intent, 3)["train"] for s in shots)
    assert few_shot_intent_prompt("fr", "book_taxi", seed=3) == example


def test_few_shot_prompt_options_and_errors():
    example = few_shot_intent_prompt(
        "ja", "play_music", shot_intents=["get_weather", "set_alarm"], shots_per_intent=3, prefix=""
    )
    assert example["inputs"].startswith("Intent: get_weather; Utterances: ")
    assert example["inputs"].count(" | ") == 4
    with pytest.raises(ValueError, match="unseen"):
        few_shot_intent_prompt("en", "set_alarm", shot_intents=["set_alarm", "get_weather"])
    with pytest.raises(ValueError, match="get_weather"):
        few_shot_intent_prompt("en", "fly_to_moon")
    with pytest.raises(ValueError, match="ar, en, fr"):
        few_shot_intent_prompt("xx", "set_alarm")


def test_shown_intent_prompt_joins_held_out_requests_of_one_intent():
    example = shown_intent_prompt("de", "set_timer", shots=2, seed=3)
    assert set(example) == {"inputs", "shots", "language", "target_intent"}
    assert example["language"] == "de" and example["target_intent"] == "set_timer"
    shots = example["shots"]
    assert len(set(shots)) == 2 and example["inputs"] == " ".join(shots)
    assert set(shots) <= set(intent_pool("de", "set_timer", 3)["validation"])
    assert not example["inputs"].startswith("[CLM]")  # the caller asks for the CLM mode
    assert shown_intent_prompt("de", "set_timer", shots=2, seed=3) == example
    assert shown_intent_prompt("de", "set_timer", shots=2, seed=4) != example
    assert set(shown_intent_prompt("de", "set_timer", shots=3, split="train")["shots"]) <= set(
        intent_pool("de", "set_timer", 0)["train"])
    with pytest.raises(ValueError, match="shots must be >= 1"):
        shown_intent_prompt("de", "set_timer", shots=0)
    with pytest.raises(ValueError, match="unknown intent 'nap'"):
        shown_intent_prompt("de", "nap")


def test_few_shot_examples_cycle_over_languages_and_intents():
    examples = few_shot_intent_examples("validation")
    assert len(examples) == len(LANGUAGES) * len(INTENTS)
    assert [e["language"] for e in examples[: len(LANGUAGES)]] == list(LANGUAGES)
    assert {(e["language"], e["target_intent"]) for e in examples} == {
        (lang, intent) for lang in LANGUAGES for intent in INTENTS
    }
    assert all(is_validation(e["targets"]) for e in examples)
    assert len(few_shot_intent_examples("train", num_examples=5)) == 5


def test_write_text(tmp_path):
    path = tmp_path / "sub" / "corpus.txt"
    count = write_text(path, "validation")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert count == len(lines) == len(generate("validation"))
    assert lines == [u.text for u in generate("validation")]


def test_errors_name_the_valid_choices():
    with pytest.raises(ValueError, match="train, validation"):
        generate("test")
    with pytest.raises(ValueError, match="ar, en, fr, de"):
        generate(languages=["en", "zh"])
    with pytest.raises(ValueError, match="get_weather"):
        generate(intents=["order_pizza"])
