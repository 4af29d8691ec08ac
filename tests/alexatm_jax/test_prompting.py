"""Strings reach a model as it was trained: the checkpoint's tokenization convention, read by `load`; the vocabulary
size rule; the official generation defaults."""

from __future__ import annotations

import pytest

import alexatm_jax
from alexatm_jax import prompting
from alexatm_jax.checkpoint import run_dir
from tasks.vocabulary import OFFICIAL_TOKENIZATION, PROJECT_TOKENIZATION, TOKENIZATIONS, get_tokenizer
from tests.alexatm_jax.decoding_fixtures import VOCAB_PATH, save_checkpoint, small_config


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    directory, _ = save_checkpoint(tmp_path_factory.mktemp("prompting") / "ckpt", small_config())
    return directory


def _set_tokenization(directory, value):
    metadata = run_dir.read_metadata(directory)
    metadata.pop("format", None)
    if value is None:
        metadata.pop(run_dir.TOKENIZATION_FIELD, None)
    else:
        metadata[run_dir.TOKENIZATION_FIELD] = value
    run_dir.write_metadata(directory, **metadata)


def test_load_feeds_strings_in_the_checkpoints_convention(checkpoint):
    _set_tokenization(checkpoint, OFFICIAL_TOKENIZATION)  # what the converter records
    lm = alexatm_jax.load(checkpoint)
    assert lm.tokenization == OFFICIAL_TOKENIZATION
    official = get_tokenizer(VOCAB_PATH, required_pieces=(), tokenization=OFFICIAL_TOKENIZATION)
    ids = prompting.encode_inputs(lm.tokenizer, ["Il fait beau à"], "clm")[0]
    assert ids == official.encode_input("[CLM] Il fait beau à")
    assert ids[0] == official.bos_id and ids[-1] == official.eos_id
    assert isinstance(lm.generate("Il fait beau à", max_new_tokens=3), str)
    # The convention can be overridden, and a checkpoint written before the field existed is the project's.
    assert alexatm_jax.load(checkpoint, tokenization=PROJECT_TOKENIZATION).tokenization == PROJECT_TOKENIZATION
    _set_tokenization(checkpoint, None)
    lm = alexatm_jax.load(checkpoint)
    assert lm.tokenization == PROJECT_TOKENIZATION
    ids = prompting.encode_inputs(lm.tokenizer, ["Il fait beau à"], "clm")[0]
    assert ids[0] == lm.tokenizer.clm_id and ids[-1] == lm.tokenizer.eos_id


def test_scoring_targets_follow_the_convention(checkpoint):
    _set_tokenization(checkpoint, OFFICIAL_TOKENIZATION)
    lm = alexatm_jax.load(checkpoint)
    tok = lm.tokenizer
    # String targets are tokenised as `tokenizer(text_target=...)` without `</s>`: `<s> yes`.
    assert prompting.encode_targets(tok, [" yes"], add_eos=False) == [[tok.bos_id, *tok.encode(" yes")]]
    by_string = lm.score("Is the sky blue? Answer:", " yes")
    by_ids = lm.score(prompting.encode_inputs(tok, ["Is the sky blue? Answer:"], "clm")[0],
                      [tok.bos_id, *tok.encode(" yes")])
    assert by_string == pytest.approx(by_ids)


def test_an_unknown_convention_is_an_error_naming_the_choices(checkpoint):
    with pytest.raises(ValueError, match="'official' for converted official checkpoints"):
        alexatm_jax.load(checkpoint, tokenization="sentencepiece")
    assert set(TOKENIZATIONS) == {OFFICIAL_TOKENIZATION, PROJECT_TOKENIZATION}
    assert run_dir.OFFICIAL_TOKENIZATION == OFFICIAL_TOKENIZATION  # what the converter writes, the tasks read


def test_a_vocabulary_that_is_not_the_models_names_both_sizes(tmp_path):
    directory, _ = save_checkpoint(tmp_path / "padded", small_config(vocab_size=7000 + 128))
    lm = alexatm_jax.load(directory)
    with pytest.raises(ValueError, match=r"has 7000 pieces but the model's vocab_size is 7128 .*7040"):
        lm.generate("hello", max_new_tokens=2)
    padded, _ = save_checkpoint(tmp_path / "padded_ok", small_config(vocab_size=7040))  # 7000 rounded up to 128
    assert isinstance(alexatm_jax.load(padded).generate("hello", max_new_tokens=2), str)


def test_a_checkpoint_without_vocabulary_takes_no_strings_until_given_one(tmp_path):
    directory, _ = save_checkpoint(tmp_path / "novocab", vocab_path=None)
    with pytest.raises(ValueError, match="vocab_path"):
        alexatm_jax.load(directory).generate("hello", max_new_tokens=2)
    assert isinstance(alexatm_jax.load(directory, vocab_path=VOCAB_PATH).generate("hello", max_new_tokens=2), str)


def test_generation_defaults_of_each_convention():
    project = get_tokenizer(VOCAB_PATH, required_pieces=())
    assert prompting.generation_defaults(project, PROJECT_TOKENIZATION) == (64, [])
    official = get_tokenizer(VOCAB_PATH, required_pieces=(), tokenization=OFFICIAL_TOKENIZATION)
    # max_length=64 of the official scripts counts the decoder start token: 63 new tokens; the released id 0,
    # `<unk>`, is banned by name; the released vocabulary's pair (2012, 2006) means nothing in 7,000 pieces.
    assert prompting.generation_defaults(official, OFFICIAL_TOKENIZATION) == (63, [[official.unk_id]])
    assert official.unk_id == 3

    class Released:  # a vocabulary of the released one's size: the official ids as they are
        vocab_size = 150_000

    assert prompting.generation_defaults(Released(), OFFICIAL_TOKENIZATION) == (63, [[0], [2012, 2006]])



def test_fine_tuning_a_checkpoint_feeds_its_convention_or_stops(checkpoint):
    from alexatm_jax import train
    from alexatm_jax.errors import ConfigError

    _set_tokenization(checkpoint, OFFICIAL_TOKENIZATION)
    train._check_tokenization(checkpoint, OFFICIAL_TOKENIZATION)  # `<s> y </s>` targets: as it was trained
    with pytest.raises(ConfigError, match=r"'official' tokenization .* tokenization='official'"):
        train._check_tokenization(checkpoint, PROJECT_TOKENIZATION)
    _set_tokenization(checkpoint, None)
    train._check_tokenization(checkpoint, None)
