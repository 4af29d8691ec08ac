"""Greedy decoding parity with the official PyTorch release.

The official `generate` fails with current transformers (docs/STACK.md), so the reference is step-by-step argmax over
the official model's forward pass. A random official model (20B layout: untied embeddings, its own decoder
start token) is converted and decoded by `alexatm_jax` in the main venv (`official_decoding_worker.py`, run
with `ALEXATM_JAX_PYTHON`). Run with
`pytest --noconftest -m official tests/alexatm_jax/test_official_decoding.py` in the reference venv.
"""

from __future__ import annotations

import json
import os
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


def make_model(eos_bias: float) -> object:
    torch.manual_seed(0)
    model = modeling.AlexaTMSeq2SeqForConditionalGeneration(AlexaTMSeq2SeqConfig(**CONFIG))
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("weight") and param.ndim == 2:  # Peaked distributions: few argmax near-ties.
                param.mul_(SCALE)
            if name.endswith(".bias"):
                param.add_(0.1 * torch.randn_like(param))
        model.final_logits_bias.copy_(0.05 * torch.randn_like(model.final_logits_bias))
        model.final_logits_bias[0, CONFIG["eos_token_id"]] += eos_bias
    return model.eval()


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
    job = {"official": str(root / "official"), "work": str(root / "work"), "max_new_tokens": MAX_NEW,
           "inputs": [list(map(int, enc[row, :n])) for row, n in enumerate(LENGTHS)]}
    (root / "job.json").write_text(json.dumps(job))
    env = {**os.environ, "PYTHONPATH": str(REPO), "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([python, str(WORKER), str(root / "job.json")], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=900, check=False)
    assert done.returncode == 0, f"worker failed:\n{done.stdout}\n{done.stderr}"
    ours = json.loads((root / "work" / "result.json").read_text())
    return expected, expected_ll, ours


def test_official_outputs_are_varied(run):
    expected, _, _ = run
    lengths = {len(x) for x in expected}
    assert len(lengths) > 1 and max(lengths) > 3, expected  # Some end at EOS early, some run longer.


@pytest.mark.parametrize("path", ["api", "api_unscanned", "predict_batch", "uncached"])
def test_greedy_tokens_match_official_argmax(run, path):
    expected, expected_ll, ours = run
    assert ours[path]["tokens"] == expected
    np.testing.assert_allclose(ours[path]["log_likelihoods"], expected_ll, rtol=1e-4, atol=1e-3)
