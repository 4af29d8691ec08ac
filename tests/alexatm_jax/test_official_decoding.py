"""Greedy decoding parity with the official PyTorch release, from token ids and from string prompts.

The official `generate` fails with current transformers (docs/STACK.md), so the reference is step-by-step argmax over
the official model's forward pass, with the official scripts' `bad_words_ids` applied as transformers applies them.
Random official models (20B layout: untied embeddings, its own decoder start token) are converted and decoded by
`alexatm_jax` in the main venv (`official_decoding_worker.py`, run with `ALEXATM_JAX_PYTHON`). The string-prompt
model uses a real SentencePiece vocabulary: its prompts reach the official forward through the official tokenizer
(`AlexaTMTokenizerFast.from_pretrained`, as the official scripts load it) and ours through `Seq2SeqLM.generate`.
Run with `pytest --noconftest -m official tests/alexatm_jax/test_official_decoding.py` in the reference venv.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="runs in the reference venv: see .ci/run_official_parity.sh")
modeling = pytest.importorskip("alexa_teacher_models.modeling_atm",
                               reason="needs the official alexa-teacher-models package (reference venv)")
from alexa_teacher_models.configuration_atm import AlexaTMSeq2SeqConfig  # noqa: E402

pytestmark = pytest.mark.official

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("official_decoding_worker.py")
CONFIG = dict(vocab_size=97, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
              decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=32,
              share_embeddings=False, tie_word_embeddings=False, decoder_start_token_id=2, eos_token_id=2)
MAX_NEW = 12
SCALE = 12.0  # Weights x12 and an EOS bias of 1.5: varied tokens, outputs of lengths 12, 2, 12 and 1.
LENGTHS = [9, 5, 2, 7]  # Encoder lengths of the batch (right-padded to the longest).
VOCAB = REPO / "tasks" / "data" / "default_spm.model"  # 7,000 pieces, 12 languages; <s> 0, <pad> 1, </s> 2
TEXT_CONFIG = {**CONFIG, "vocab_size": 7000, "max_position_embeddings": 128}
BANNED = [[0], [2012, 2006]]  # the official scripts' bad_words_ids
PROMPTS = [  # (prompt, mode): the API adds "[CLM] " in CLM mode, as the official scripts do by hand
    ("Sentence:  The cat sleeps.; Translation in French:", "clm"),
    ("Il fait beau à Paris  aujourd'hui,", "clm"),
    ("Wie spät ist es? Bitte\nantworte kurz.", "clm"),
    ("東京へ行きます。", "clm"),
    ("मुझे कल सुबह सात बजे जगाओ", "denoising"),
    ("  wake me up at\tseven tomorrow [MASK] ", "denoising"),
    ("Article: Rain fell all night. ==> Short summary: <br><br><br> 😀", "clm"),
    ("¿Qué tiempo hace hoy en Madrid?", "denoising"),
]


def make_model(eos_bias: float, config: dict = CONFIG) -> object:
    torch.manual_seed(0)
    model = modeling.AlexaTMSeq2SeqForConditionalGeneration(AlexaTMSeq2SeqConfig(**config))
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("weight") and param.ndim == 2:  # Peaked distributions: few argmax near-ties.
                param.mul_(SCALE)
            if name.endswith(".bias"):
                param.add_(0.1 * torch.randn_like(param))
        model.final_logits_bias.copy_(0.05 * torch.randn_like(model.final_logits_bias))
        model.final_logits_bias[0, config["eos_token_id"]] += eos_bias
    return model.eval()


def banned_now(generated: list[int], banned: list[list[int]]) -> set[int]:
    """transformers' NoBadWordsLogitsProcessor: a banned sequence's last token is banned when the tokens generated
    so far (decoder start included) end with the rest of it."""
    return {seq[-1] for seq in banned if len(seq) == 1 or generated[-(len(seq) - 1):] == seq[:-1]}


def official_greedy_ids(model, ids: list[int], max_new: int, banned: list[list[int]]) -> list[int]:
    """Step-by-step argmax over the official forward for one unpadded input, banned tokens excluded."""
    eos, start = TEXT_CONFIG["eos_token_id"], TEXT_CONFIG["decoder_start_token_id"]
    dec = [start]
    with torch.no_grad():
        for _ in range(max_new):
            logits = model(input_ids=torch.tensor([ids]), decoder_input_ids=torch.tensor([dec])).logits[0, -1].float()
            for token in banned_now(dec, banned):
                logits[token] = -float("inf")
            token = int(torch.argmax(logits))
            dec.append(token)
            if token == eos:
                break
    return dec[1:]


def official_greedy(model, enc: np.ndarray, mask: np.ndarray) -> tuple[list[list[int]], list[float]]:
    """Argmax one token at a time over the full forward pass; an output ends at (and includes) EOS."""
    eos, start = CONFIG["eos_token_id"], CONFIG["decoder_start_token_id"]
    outputs, log_likelihoods = [], []
    with torch.no_grad():
        for row in range(len(enc)):
            dec, ll = [start], 0.0
            for _ in range(MAX_NEW):
                logits = model(input_ids=torch.from_numpy(enc[row:row + 1]).long(),
                               attention_mask=torch.from_numpy(mask[row:row + 1]).long(),
                               decoder_input_ids=torch.tensor([dec])).logits[0, -1].float()
                token = int(torch.argmax(logits))
                ll += float(torch.log_softmax(logits, -1)[token])
                dec.append(token)
                if token == eos:
                    break
            outputs.append(dec[1:])
            log_likelihoods.append(ll)
    return outputs, log_likelihoods


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    python = os.environ.get("ALEXATM_JAX_PYTHON", "/work/venv/bin/python")
    if not Path(python).is_file():
        pytest.skip(f"ALEXATM_JAX_PYTHON={python} does not exist: point it at the main (JAX) venv's python.")
    root = tmp_path_factory.mktemp("official_decoding")
    rng = np.random.default_rng(0)
    enc = np.full((len(LENGTHS), max(LENGTHS)), 1, np.int64)  # The official pad id under the mask.
    mask = np.zeros_like(enc)
    for row, n in enumerate(LENGTHS):
        enc[row, :n] = rng.integers(3, CONFIG["vocab_size"], n)
        enc[row, n - 1] = CONFIG["eos_token_id"]
        mask[row, :n] = 1
    model = make_model(eos_bias=1.5)
    model.save_pretrained(root / "official", safe_serialization=True)
    expected, expected_ll = official_greedy(model, enc, mask)
    text = text_reference(root)
    job = {"official": str(root / "official"), "work": str(root / "work"), "max_new_tokens": MAX_NEW,
           "inputs": [list(map(int, enc[row, :n])) for row, n in enumerate(LENGTHS)],
           "text": {"official": str(root / "official_text"), "vocab": str(VOCAB), "max_new_tokens": MAX_NEW,
                    "banned": BANNED, "prompts": [p for p, _ in PROMPTS], "modes": [m for _, m in PROMPTS]}}
    (root / "job.json").write_text(json.dumps(job))
    env = {**os.environ, "PYTHONPATH": str(REPO), "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([python, str(WORKER), str(root / "job.json")], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=900, check=False)
    assert done.returncode == 0, f"worker failed:\n{done.stdout}\n{done.stderr}"
    ours = json.loads((root / "work" / "result.json").read_text())
    return expected, expected_ll, ours, text


def text_reference(root: Path) -> dict:
    """The official pipeline on the string prompts: the official tokenizer's ids and text, the official greedy."""
    from alexa_teacher_models.tokenization_atm import AlexaTMTokenizerFast

    shutil.copy(VOCAB, root / "20b_tokenizer.model")
    tokenizer = AlexaTMTokenizerFast.from_pretrained(str(root), vocab_file=str(root / "20b_tokenizer.model"))
    model = make_model(eos_bias=4.0, config=TEXT_CONFIG)  # outputs of lengths 12, 2, 12, 1, 4, 2, 12, 12
    model.save_pretrained(root / "official_text", safe_serialization=True)
    ids, tokens, texts = [], [], []
    for prompt, mode in PROMPTS:
        ids.append(tokenizer("[CLM] " + prompt if mode == "clm" else prompt)["input_ids"])
        tokens.append(official_greedy_ids(model, ids[-1], MAX_NEW, BANNED))
        texts.append(tokenizer.decode(tokens[-1], skip_special_tokens=True))
    return {"input_ids": ids, "tokens": tokens, "texts": texts,
            "clm_prefix": tokenizer.convert_tokens_to_ids(["<s>", "\u2581", "[CLM]"])}


def test_official_outputs_are_varied(run):
    expected, _, _, text = run
    lengths = {len(x) for x in expected}
    assert len(lengths) > 1 and max(lengths) > 3, expected  # Some end at EOS early, some run longer.
    assert len({len(x) for x in text["tokens"]}) > 1 and len({tuple(x) for x in text["tokens"]}) > 2, text


@pytest.mark.parametrize("path", ["api", "api_unscanned", "predict_batch", "uncached"])
def test_greedy_tokens_match_official_argmax(run, path):
    expected, expected_ll, ours, _ = run
    assert ours[path]["tokens"] == expected
    np.testing.assert_allclose(ours[path]["log_likelihoods"], expected_ll, rtol=1e-4, atol=1e-3)


def test_string_prompts_reach_the_model_as_the_official_tokenizer_sends_them(run):
    _, _, ours, text = run
    assert ours["text"]["tokenization"] == "official"  # recorded by the converter, read by load()
    assert ours["text"]["input_ids"] == text["input_ids"]
    for ids, (_, mode) in zip(text["input_ids"], PROMPTS):  # <s> ▁ [CLM] ... </s>: what the model was fed
        assert (ids[:3] == text["clm_prefix"]) == (mode == "clm") and ids[0] == 0 and ids[-1] == 2


def test_greedy_generation_from_strings_matches_the_official_pipeline(run):
    _, _, ours, text = run
    assert ours["text"]["tokens"] == text["tokens"]
    assert ours["text"]["texts"] == text["texts"]
