"""Vocabulary: id layout, special pieces, TF-free tokenizer, seqio wrapper, train_vocab command."""

import os
import pickle
import random
import subprocess
import sys

import pytest

from tasks import seqio_vocabulary as SV
from tasks import vocabulary as V
from tasks.train_vocab import train_vocabulary


def _tiny_corpus(path):
    rng = random.Random(0)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyzé") for _ in range(rng.randint(2, 7))) for _ in range(300)]
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(1000):
            f.write(" ".join(rng.choice(words) for _ in range(12)) + "\n")


def test_default_vocabulary_layout():
    tok = V.get_tokenizer()
    assert os.path.exists(V.DEFAULT_SPM_PATH)
    assert {p: tok.sp.PieceToId(p) for p in V.TRAINED_LAYOUT} == V.TRAINED_LAYOUT
    assert (tok.bos_id, tok.pad_id, tok.eos_id, tok.unk_id) == (0, 1, 2, 3)
    assert (tok.clm_id, tok.doc_id, tok.mask_id) == (4, 5, 6)
    assert 7000 <= tok.vocab_size <= 9000


def test_3k_vocabulary_same_layout_fewer_pieces_longer_sentences():
    """The main job's vocabulary: the default one's ids for the special pieces, 3,000 pieces, ~20% more tokens."""
    small, default = V.get_tokenizer(V.DEFAULT_3K_SPM_PATH), V.get_tokenizer()
    assert {p: small.sp.PieceToId(p) for p in V.TRAINED_LAYOUT} == V.TRAINED_LAYOUT
    assert small.vocab_size == 3000
    texts = ["Réserve une table pour deux ce soir.", "What was the final score for Celtic on Wednesday?",
             "明日の朝7時に起こして。", "Spiel Clueso."]
    for text in texts:
        assert small.decode(small.encode(text)) == text
    assert sum(len(small.encode(t)) for t in texts) > sum(len(default.encode(t)) for t in texts)


def test_tokenizer_roundtrip_and_special_prefix():
    tok = V.get_tokenizer()
    text = "Wake me up at seven tomorrow"
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    # "[CLM] text" -> the [CLM] id first (no stray word-boundary piece), then the same ids as the text.
    assert tok.encode("[CLM] " + text) == [tok.clm_id] + ids
    assert tok.encode(text, add_eos=True)[-1] == tok.eos_id
    assert tok.decode(ids + [tok.eos_id] + ids) == text  # stops at EOS
    assert tok.decode([tok.vocab_size + 5]) == tok.decode([tok.unk_id])


def test_vocab_module_is_tensorflow_free(repo_root):
    code = (
        "import sys, tasks, tasks.vocabulary as v; t = v.get_tokenizer(); t.encode('hi');"
        "bad = [m for m in ('tensorflow', 'seqio', 'gin') if m in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=repo_root)


def test_missing_special_piece_errors_clearly(tmp_path):
    corpus = tmp_path / "c.txt"
    _tiny_corpus(corpus)
    import sentencepiece as spm

    # A model without our pieces, like a foreign vocabulary.
    spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(tmp_path / "plain"), vocab_size=40,
                                   minloglevel=2)
    with pytest.raises(ValueError, match=r"lacks the required piece\(s\) \['\[CLM\]', '\[DOC\]'\]"):
        V.SentencePieceTokenizer(tmp_path / "plain.model")
    with pytest.raises(ValueError, match=r"\[MASK\]"):
        SV.get_vocabulary(str(tmp_path / "plain.model"), required_pieces=["[MASK]"])
    tok = V.SentencePieceTokenizer(tmp_path / "plain.model", required_pieces=())
    with pytest.raises(KeyError, match=r"\[DOC\]"):
        _ = tok.doc_id
    assert tok.special_ids()["eos"] == tok.sp.eos_id()


def test_train_vocab_command(tmp_path, repo_root):
    corpus = tmp_path / "corpus.txt"
    _tiny_corpus(corpus)
    prefix = tmp_path / "out" / "spm"
    subprocess.run(
        [sys.executable, "-m", "tasks.train_vocab", f"--input={corpus}", f"--output_prefix={prefix}",
         "--vocab_size=120", "--no-byte_fallback"],
        check=True, cwd=repo_root, capture_output=True,
    )
    tok = V.SentencePieceTokenizer(f"{prefix}.model")
    assert tok.vocab_size == 120
    assert {p: tok.sp.PieceToId(p) for p in V.TRAINED_LAYOUT} == V.TRAINED_LAYOUT
    assert os.path.exists(f"{prefix}.vocab")


def test_seqio_vocabulary_matches_tokenizer(tmp_path):
    import tensorflow as tf

    vocab = SV.default_vocabulary()
    tok = vocab.alexatm_tokenizer
    assert (vocab.clm_id, vocab.doc_id, vocab.mask_id, vocab.eos_id) == (4, 5, 6, 2)
    assert vocab.pad_id == 0 and vocab.tokenizer_pad_id == 1  # seqio pads with 0; the model's pad is 1
    for text in ["[CLM] Set an alarm", "one [DOC] two [MASK]", "", "東京へ行きます。"]:
        expected = tok.encode(text)
        assert vocab.encode(text) == expected
        assert vocab.encode_tf(tf.constant(text)).numpy().tolist() == expected
    batch = vocab.encode_tf(tf.constant(["[CLM] a b", "c [DOC]"]))
    assert batch.to_list() == [tok.encode("[CLM] a b"), tok.encode("c [DOC]")]
    clone = pickle.loads(pickle.dumps(vocab))
    assert clone == vocab and clone.clm_id == vocab.clm_id


def test_wraps_external_model_by_name(tmp_path):
    # An "official-like" model: our pieces at other ids; they are looked up by name, ids unchanged.
    corpus = tmp_path / "c.txt"
    _tiny_corpus(corpus)
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(tmp_path / "ext"), vocab_size=120, minloglevel=2,
        user_defined_symbols=["<foo>", "[DOC]", "[CLM]"],  # no [MASK]: optional
    )
    vocab = SV.get_vocabulary(str(tmp_path / "ext.model"))
    sp = vocab.alexatm_tokenizer.sp
    assert vocab.clm_id == sp.PieceToId("[CLM]") != V.TRAINED_LAYOUT["[CLM]"]
    assert vocab.doc_id == sp.PieceToId("[DOC]")
    with pytest.raises(KeyError, match=r"\[MASK\]"):
        _ = vocab.mask_id
    path = str(tmp_path / "small.model")
    train_vocabulary(str(corpus), path[: -len(".model")], 120, byte_fallback=False)
    assert V.get_tokenizer(path).mask_id == 6


# ----------------------------------------------------------------------------- the official convention


def test_official_convention_wraps_inputs_and_targets_in_bos_and_eos():
    tok = V.get_tokenizer(required_pieces=(), tokenization=V.OFFICIAL_TOKENIZATION)
    space = tok.sp.PieceToId(V.SPACE_PIECE)
    ids = tok.encode_input("[CLM] Wake me up")
    assert ids[:3] == [tok.bos_id, space, tok.clm_id] and ids[-1] == tok.eos_id  # the lone "▁" is kept
    assert tok.clm_prefix_ids() == [tok.bos_id, space, tok.clm_id]
    assert tok.encode_target("seven") == [tok.bos_id, *tok.encode("seven"), tok.eos_id]  # tokenizer(text_target=)
    assert tok.encode_target("seven", add_eos=False)[-1] != tok.eos_id
    assert tok.encode_input("") == [tok.bos_id, tok.eos_id]
    assert tok.encode_input(" \n\t ") == [tok.bos_id, space, tok.eos_id]  # empty after stripping: a lone "▁"
    assert tok.encode("a  b") == tok.encode("a b") == tok.encode("a\nb")  # whitespace runs become one space
    # Decoding as the official scripts: special tokens skipped, spaces before punctuation cleaned up.
    assert tok.decode(tok.encode_input("Hello , world .")[:-1], stop_at_eos=False) == "Hello, world."
    assert "[MASK]" not in tok.decode(tok.encode_input("Hello [MASK] world"))


def test_project_convention_is_unchanged():
    tok = V.get_tokenizer()
    assert tok.tokenization == V.PROJECT_TOKENIZATION and not tok.adds_bos
    assert tok.encode_input("[CLM] Wake me up") == [tok.clm_id, *tok.encode("Wake me up"), tok.eos_id]
    assert tok.clm_prefix_ids() == [tok.clm_id]
    assert tok.encode_target("seven", add_eos=False) == tok.encode("seven")
    with pytest.raises(ValueError, match="tokenization='hf'"):
        V.SentencePieceTokenizer(V.DEFAULT_SPM_PATH, tokenization="hf")


def test_official_tokenizer_pickles():
    tok = V.SentencePieceTokenizer(V.DEFAULT_SPM_PATH, tokenization=V.OFFICIAL_TOKENIZATION)
    clone = pickle.loads(pickle.dumps(tok))
    assert clone.encode_input("[CLM] Il fait beau") == tok.encode_input("[CLM] Il fait beau")


def test_seqio_vocabulary_in_the_official_convention():
    import tensorflow as tf

    vocab = SV.get_vocabulary(tokenization=V.OFFICIAL_TOKENIZATION)
    tok = vocab.alexatm_tokenizer
    assert vocab.adds_bos and vocab != SV.default_vocabulary()
    texts = ["[CLM] Set an alarm", "wie  spät\nist es", "", "東京へ行きます。"]
    for text in texts:
        expected = tok.encode_target(text, add_eos=False)  # <s> + the text's official ids; seqio adds </s>
        assert vocab.encode(text) == expected
        assert vocab.encode_tf(tf.constant(text)).numpy().tolist() == expected
    assert vocab.encode_tf(tf.constant(texts)).to_list() == [tok.encode_target(t, add_eos=False) for t in texts]
    ids = tok.encode_input("Hello , world")
    assert vocab.decode(ids) == "Hello, world"
    assert vocab.decode_tf(tf.constant([ids, ids])).numpy().tolist() == [b"Hello, world"] * 2
    assert pickle.loads(pickle.dumps(vocab)).encode("[CLM] x") == vocab.encode("[CLM] x")


def test_a_task_in_the_official_convention_feeds_bos_text_eos():
    """Fine-tuning targets as the official fine-tuning code builds them: `tokenizer(text_target=y)`."""
    import seqio
    import tensorflow as tf

    vocab = SV.get_vocabulary(tokenization=V.OFFICIAL_TOKENIZATION)
    tok = vocab.alexatm_tokenizer
    features = SV.generation_features(vocab)
    task = seqio.Task(
        "official_convention_probe",
        source=seqio.FunctionDataSource(
            lambda split, shuffle_files, seed=None: tf.data.Dataset.from_tensor_slices(
                {"inputs": ["[CLM] Intent: alarm; Utterance:"], "targets": ["wake me up at seven"]}),
            splits=("train",)),
        output_features=features,
        preprocessors=[seqio.preprocessors.tokenize, seqio.preprocessors.append_eos],
    )
    ex = next(task.get_dataset(None, split="train", shuffle=False).as_numpy_iterator())
    assert ex["inputs"].tolist() == tok.encode_input("[CLM] Intent: alarm; Utterance:")
    assert ex["targets"].tolist() == tok.encode_target("wake me up at seven")
    assert ex["targets"][0] == tok.bos_id and ex["targets"][-1] == tok.eos_id
