"""Our official-convention tokenizer against the official `AlexaTMTokenizerFast`, live, on hundreds of strings.

Runs in the reference venv (`.ci/run_official_parity.sh`: transformers 4.29.2, tokenizers 0.13, protobuf 3.20.3,
alexa-teacher-models 1.0.1; marker `official`). The official tokenizer is loaded as the official scripts load it,
`AlexaTMTokenizerFast.from_pretrained(dir, vocab_file=...)`. Vocabularies: the project's own, a 20B-like model
trained here (unigram, nmt_nfkc, `<unk>` 0 `<s>` 1 `</s>` 2, `[PAD] [CLM] [DOC] [MASK] <br>` as user-defined
pieces, no byte fallback) and, when `ALEXATM_20B_TOKENIZER` names it, the released `20b_tokenizer.model`.
Strings: sentences of the 12 languages (plain, `[CLM] `-prefixed, with `[MASK]`), the official scripts' prompt
shapes, repeated spaces, newlines, tabs, emoji, Unicode normalisation cases, special-token literals and inputs
that are empty after stripping.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

pytest.importorskip("alexa_teacher_models.tokenization_atm",
                    reason="runs in the reference venv: see .ci/run_official_parity.sh")

from tasks.corpus import LANGUAGE_NAMES, LANGUAGES, generate  # noqa: E402
from tasks.vocabulary import OFFICIAL_TOKENIZATION, SentencePieceTokenizer  # noqa: E402

pytestmark = pytest.mark.official

REPO = Path(__file__).resolve().parents[2]
PROJECT_VOCAB = REPO / "tasks" / "data" / "default_spm.model"
WHITESPACE = ["two  spaces", "three   spaces here", "  leading", "trailing  ", " both ", "a\nb", "a\n\nb", "a\tb",
              "\ttab lead", "trail tab\t", "new\nline\n", "mix \t\n \r mix", "a \u3000 b", "end\u00a0",
              "spaces    before [MASK]    after", "[CLM]    wide", "  [CLM] lead", "[CLM] trailing ", "[CLM]\nnewline",
              "[CLM]\ttab", "x [MASK]", "[MASK] x", "  [MASK]  ", " [CLM] ", "\r\nwindows\r\nnewlines\r\n"]
EMPTY_AFTER_STRIP = ["", " ", "  ", "\n", "\t", "\r\n", " \n\t ", "\u3000", "\u00a0", "\u200b"]
EMOJI_AND_UNICODE = ["emoji 😀 ok", "😀😀😀", "I ❤️ it", "family 👨‍👩‍👧‍👦 here", "flag 🇫🇷 🇯🇵", "thumbs 👍🏽 up",
                     "ｆｕｌｌ ｗｉｄｔｈ ＡＢＣ １２３", "ﬁne ﬂow", "① ② ⑩", "H₂O x² ™", "café café", "Straße ß",
                     "ｶﾞｷﾞ halfwidth kana", "ﻻ presentation forms", "“quotes” «guillemets»", "—dash–en",
                     "क़ ख़ ग़", "ந் தமிழ் கொ", "ొ తెలుగు కై", "मराठी ळ ऱ्या", "كِتَابٌ مُفِيدٌ", "日本語ﾃｷｽﾄ　全角"]
SPECIAL_LITERALS = ["<s>", "</s>", "<pad>", "<unk>", "[PAD]", "[DOC]", "[MASK]", "[CLM]", "<br>", "<s>x</s>",
                    "a <unk> b", "[CLM] [CLM] twice", "[CLM][MASK]", "[CLM]Hello", "x[CLM]y", "[DOC] one [DOC] two",
                    "<br><br><br>", " <br> ", "[MASK][MASK]", "\u2581", "\u2581x", "Hello\u2581world"]


def _sentences(per_language: int = 12) -> dict[str, list[str]]:
    out = {}
    for language in LANGUAGES:
        texts = [u.text for u in generate("validation", languages=[language])]
        out[language] = random.Random(language).sample(texts, min(per_language, len(texts)))
    return out


def _prompts(sentences: dict[str, list[str]]) -> list[str]:
    """The official scripts' prompt shapes (Flores-101 with its double space, XSum with `<br><br><br>`)."""
    out = []
    for k, source in enumerate(LANGUAGES):
        target = LANGUAGES[(k + 1) % len(LANGUAGES)]
        s0, s1, t0 = sentences[source][0], sentences[source][1], sentences[target][0]
        name = LANGUAGE_NAMES[target]
        out.append(f"[CLM] Sentence:  {s0}; Translation in {name}: {t0}; Sentence:  {s1}; Translation in {name}:")
        out.append(f"[CLM] Article: {s0} {s1} ==> Short summary: {s0} <br><br><br> Article: {s1} ==> Short summary:")
    return out


def strings() -> list[str]:
    sentences = _sentences()
    cases = []
    for texts in sentences.values():
        cases += texts + [f"[CLM] {t}" for t in texts[:4]]
        words = texts[0].split()
        cases += [" ".join(words[:k] + ["[MASK]"] + words[k + 1:]) for k in range(min(2, len(words)))]
    cases += _prompts(sentences) + WHITESPACE + EMPTY_AFTER_STRIP + EMOJI_AND_UNICODE + SPECIAL_LITERALS
    rng = random.Random(0)
    atoms = ["[CLM]", "[MASK]", "<br>", "</s>", " ", "  ", "\n", "\t", "😀", "ﬁ", "e\u0301", "。", ".", " ,", "'s",
             *[w for texts in sentences.values() for w in texts[0].split()[:3]]]
    cases += ["".join(rng.choice(atoms) for _ in range(rng.randint(1, 10))) for _ in range(100)]
    return cases


CASES = strings()


def _mimic_20b(directory: Path) -> Path:
    import sentencepiece as spm

    corpus = directory / "corpus.txt"
    corpus.write_text("\n".join(u.text for u in generate("train")) + "\n" + "😀 café “quotes” —\n" * 3,
                      encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(directory / "mimic20b"), vocab_size=4000, model_type="unigram",
        normalization_rule_name="nmt_nfkc", unk_id=0, bos_id=1, eos_id=2, pad_id=-1, byte_fallback=False,
        user_defined_symbols=["[PAD]", "[CLM]", "[DOC]", "[MASK]", "<br>"], character_coverage=0.9995,
        num_threads=1, minloglevel=2)
    return directory / "mimic20b.model"


@pytest.fixture(scope="module", params=["project", "mimic20b", "released"])
def pair(request, tmp_path_factory):
    """(ours, official) for one vocabulary."""
    from alexa_teacher_models.tokenization_atm import AlexaTMTokenizerFast

    root = tmp_path_factory.mktemp(request.param)
    if request.param == "project":
        vocab = PROJECT_VOCAB
    elif request.param == "mimic20b":
        vocab = _mimic_20b(root)
    else:
        vocab = os.environ.get("ALEXATM_20B_TOKENIZER")
        if not vocab:
            pytest.skip("set ALEXATM_20B_TOKENIZER=/path/20b_tokenizer.model to check the released vocabulary")
    shutil.copy(vocab, root / "20b_tokenizer.model")
    official = AlexaTMTokenizerFast.from_pretrained(str(root), vocab_file=str(root / "20b_tokenizer.model"))
    ours = SentencePieceTokenizer(vocab, required_pieces=(), tokenization=OFFICIAL_TOKENIZATION)
    return ours, official


def test_the_strings_cover_what_the_issue_names():
    assert len(CASES) >= 300
    text = "".join(CASES)
    for needle in ("[CLM]", "[MASK]", "<br>", "  ", "\n", "\t", "😀"):
        assert needle in text
    assert sum(not c.strip() for c in CASES) >= 8
    assert all(any(s in CASES for s in sentences) for sentences in _sentences().values())  # all 12 languages


def test_input_ids_equal_the_official_tokenizers(pair):
    ours, official = pair
    mismatches = [(text, ours.encode_input(text), official(text)["input_ids"]) for text in CASES
                  if ours.encode_input(text) != official(text)["input_ids"]]
    assert not mismatches, mismatches[:5]


def test_target_ids_equal_text_target(pair):
    ours, official = pair
    mismatches = [text for text in CASES if ours.encode_target(text) != official(text_target=text)["input_ids"]]
    assert not mismatches, mismatches[:5]


def test_decoding_equals_the_official_scripts(pair):
    ours, official = pair
    for text in CASES:
        ids = official(text)["input_ids"]
        assert ours.decode(ids, stop_at_eos=False) == official.decode(ids, skip_special_tokens=True), text


def test_special_ids_agree(pair):
    ours, official = pair
    assert (ours.official.bos_id, ours.official.eos_id, ours.official.pad_id) == (
        official.bos_token_id, official.eos_token_id, official.pad_token_id)
    assert len(ours.official) == len(official)
