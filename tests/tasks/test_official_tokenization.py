"""The official tokenization against ids recorded from the official `AlexaTMTokenizerFast`, in the default suite.

The golden file holds, for 211 strings (the official scripts' prompt shapes, whitespace, emoji, Unicode
normalisation, special-token literals, empty strings, `[CLM]` prompts in three languages, `[MASK]`), the ids that
`AlexaTMTokenizerFast.from_pretrained(dir, vocab_file=tasks/data/default_spm.model)` gave in the reference venv
(transformers 4.29.2, tokenizers 0.13.3, alexa-teacher-models 1.0.1). The live comparison on more strings and
vocabularies is `test_official_tokenizer_parity.py` (reference venv, marker `official`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasks import official_tokenization as ot
from tasks.vocabulary import DEFAULT_SPM_PATH, OFFICIAL_TOKENIZATION, SentencePieceTokenizer

GOLDEN = Path(__file__).with_name("data") / "official_tokenization_golden.json"
CASES = json.loads(GOLDEN.read_text(encoding="utf-8"))["cases"]


@pytest.fixture(scope="module")
def tok() -> SentencePieceTokenizer:
    return SentencePieceTokenizer(DEFAULT_SPM_PATH, required_pieces=(), tokenization=OFFICIAL_TOKENIZATION)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['category']}-{k}" for k, c in enumerate(CASES)])
def test_ids_equal_the_official_tokenizers(case, tok):
    assert tok.encode_input(case["text"]) == case["from_pretrained_ids"]
    assert tok.encode_target(case["text"]) == case["from_pretrained_ids"]  # text_target= gives the same ids


def test_the_golden_strings_cover_what_the_issue_names():
    texts = "".join(c["text"] for c in CASES)
    for needle in ("[CLM]", "[MASK]", "<br>", "  ", "\n", "\t", "😀"):
        assert needle in texts
    assert sum(not c["text"].strip() for c in CASES) >= 8  # empty after stripping


def test_the_pipeline_rules(tok):
    official = tok.official
    space = official.piece_to_id[ot.SPACE]
    assert official.encode("[CLM] hello")[:3] == [official.bos_id, space, official.piece_to_id["[CLM]"]]
    assert official.encode("") == [official.bos_id, official.eos_id]
    assert official.encode(" \n\t ") == [official.bos_id, space, official.eos_id]
    assert official.encode("a b ")[-2] == space  # a trailing space survives as a lone "▁"
    assert official.encode("[CLM] the quick brown fox", max_length=5)[-1] == official.eos_id
    # from_pretrained registers [PAD] (absent from this vocabulary) after the pieces: its id is the vocabulary size.
    assert official.pad_id == len(official.pieces) and len(official) == len(official.pieces) + 1
    # Decoding skips the registered special tokens; the lone "▁" before [MASK] stays a space, as officially.
    assert official.decode(official.encode("hello [MASK] world"), skip_special_tokens=True) == "hello  world"


def test_a_model_file_its_bytes_and_a_processor_agree():
    import sentencepiece as spm

    blob = Path(DEFAULT_SPM_PATH).read_bytes()
    by_path = ot.OfficialTokenizer(DEFAULT_SPM_PATH)
    assert ot.OfficialTokenizer(blob).encode("[CLM] hi") == by_path.encode("[CLM] hi")
    processor = spm.SentencePieceProcessor(model_file=DEFAULT_SPM_PATH)
    assert ot.OfficialTokenizer(processor).encode("[CLM] hi") == by_path.encode("[CLM] hi")
    assert by_path.pieces == tuple(processor.id_to_piece(i) for i in range(processor.get_piece_size()))
