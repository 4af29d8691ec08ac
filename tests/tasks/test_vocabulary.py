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
