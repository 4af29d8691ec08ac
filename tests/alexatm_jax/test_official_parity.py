"""Parity with the official PyTorch release: random official models -> converter -> `alexatm_jax.load` gives
the official logits, and our export loads back into the official model unchanged.

Runs in the reference venv (torch, transformers 4.29.2, alexa-teacher-models 1.0.1; no JAX): the JAX half runs
in a subprocess with the main venv's python (`ALEXATM_JAX_PYTHON`, default /work/venv/bin/python), see
`official_parity_worker.py`. Run with
`pytest --noconftest -m official tests/alexatm_jax/test_official_parity.py` (tests/conftest.py imports JAX),
or `.ci/run_official_parity.sh MAIN_VENV_PYTHON`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="runs in the reference venv: see .ci/run_official_parity.sh")
modeling = pytest.importorskip("alexa_teacher_models.modeling_atm",
                               reason="needs the official alexa-teacher-models package (reference venv)")
from alexa_teacher_models.configuration_atm import AlexaTMSeq2SeqConfig  # noqa: E402

pytestmark = pytest.mark.official

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("official_parity_worker.py")
TOLERANCE = 1e-4


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    config: dict[str, Any]
    batch: int
    encoder_length: int
    decoder_length: int
    safetensors: bool
    max_shard_size: str | None = None  # Sharded official directory when set.
    scan_layers: bool = True  # Layout the converter writes (both layouts are loaded either way).
    dtype: str = "float32"  # Converter --dtype; bfloat16 compares against the official model rounded to bf16.
    export_max_shard_size: str = "10GB"


CASES = [
    # The official defaults: shared embeddings, tied LM head (tie_word_embeddings absent from config.json),
    # decoder_start_token_id absent (falls back to bos). Encoder length = max_position_embeddings.
    Case("default_shared_tied_bin", dict(vocab_size=101, d_model=32, encoder_layers=2, decoder_layers=3,
                                         encoder_attention_heads=4, decoder_attention_heads=8,
                                         encoder_ffn_dim=64, decoder_ffn_dim=40, max_position_embeddings=16,
                                         layer_norm_eps=1e-5),
         batch=3, encoder_length=16, decoder_length=9, safetensors=False, scan_layers=False),
    # The AlexaTM 20B layout: nothing shared or tied; decoder longer than encoder.
    Case("untied_20b_like_safetensors", dict(vocab_size=67, d_model=24, encoder_layers=3, decoder_layers=2,
                                             encoder_attention_heads=3, decoder_attention_heads=2,
                                             encoder_ffn_dim=96, decoder_ffn_dim=48,
                                             max_position_embeddings=20, share_embeddings=False,
                                             tie_word_embeddings=False, decoder_start_token_id=2),
         batch=2, encoder_length=11, decoder_length=13, safetensors=True, export_max_shard_size="6KB"),
    Case("unshared_tied_sharded_safetensors", dict(vocab_size=53, d_model=16, encoder_layers=1,
                                                   decoder_layers=1, encoder_attention_heads=2,
                                                   decoder_attention_heads=4, encoder_ffn_dim=32,
                                                   decoder_ffn_dim=24, max_position_embeddings=12,
                                                   type_vocab_size=3, share_embeddings=False,
                                                   tie_word_embeddings=True),
         batch=4, encoder_length=7, decoder_length=5, safetensors=True, max_shard_size="4KB",
         scan_layers=False),
    Case("shared_untied_sharded_bin", dict(vocab_size=75, d_model=20, encoder_layers=2, decoder_layers=2,
                                           encoder_attention_heads=5, decoder_attention_heads=1,
                                           encoder_ffn_dim=44, decoder_ffn_dim=36, max_position_embeddings=24,
                                           share_embeddings=True, tie_word_embeddings=False),
         batch=4, encoder_length=10, decoder_length=6, safetensors=False, max_shard_size="5KB"),
    Case("untied_bfloat16", dict(vocab_size=64, d_model=32, encoder_layers=2, decoder_layers=2,
                                 encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=64,
                                 decoder_ffn_dim=64, max_position_embeddings=16, share_embeddings=False,
                                 tie_word_embeddings=False),
         batch=2, encoder_length=8, decoder_length=8, safetensors=True, dtype="bfloat16"),
]


def make_official_model(case: Case, seed: int) -> Any:
    """A random official model whose every parameter matters (biases, norms, logits bias moved off init)."""
    torch.manual_seed(seed)
    model = modeling.AlexaTMSeq2SeqForConditionalGeneration(AlexaTMSeq2SeqConfig(**case.config))
    with torch.no_grad():
        for name, param in model.named_parameters():
            param.add_(0.02 * torch.randn_like(param))
            if name.endswith(".bias"):
                param.add_(0.1 * torch.randn_like(param))
            if "norm" in name and name.endswith(".weight"):
                param.add_(0.3 * torch.randn_like(param))
        model.final_logits_bias.copy_(0.5 * torch.randn_like(model.final_logits_bias))
        if case.dtype == "bfloat16":
            for tensor in [*model.parameters(), model.final_logits_bias]:
                tensor.copy_(tensor.to(torch.bfloat16).to(torch.float32))
    return model.eval()


def make_inputs(case: Case, vocab_size: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    enc = rng.integers(0, vocab_size, (case.batch, case.encoder_length))
    dec = rng.integers(0, vocab_size, (case.batch, case.decoder_length))
    mask = np.ones_like(enc)
    for row in range(1, case.batch):  # Right padding of various lengths; row 0 unpadded.
        real = max(1, case.encoder_length - 3 * row)
        mask[row, real:] = 0
        enc[row, real:] = 1  # The official pad id (masked either way).
    return {"encoder_input_tokens": enc.astype(np.int32), "decoder_input_tokens": dec.astype(np.int32),
            "encoder_mask": mask.astype(np.int32)}


def official_logits(model: Any, inputs: dict[str, np.ndarray]) -> np.ndarray:
    with torch.no_grad():
        out = model(input_ids=torch.from_numpy(inputs["encoder_input_tokens"]).long(),
                    attention_mask=torch.from_numpy(inputs["encoder_mask"]).long(),
                    decoder_input_ids=torch.from_numpy(inputs["decoder_input_tokens"]).long())
    return out.logits.float().numpy()


def save_official(model: Any, case: Case, directory: Path) -> None:
    kwargs = {"safe_serialization": case.safetensors}
    if case.max_shard_size:
        kwargs["max_shard_size"] = case.max_shard_size
    model.save_pretrained(directory, **kwargs)
    # save_pretrained leaves out fields at PretrainedConfig's defaults: the converter must apply the same.
    config = json.loads((directory / "config.json").read_text())
    for field in ("tie_word_embeddings", "decoder_start_token_id"):
        assert field in case.config or field not in config, field
    files = {p.name for p in directory.iterdir()}
    suffix = ".safetensors" if case.safetensors else ".bin"
    assert any(f.endswith(suffix) for f in files), files
    assert any(f.endswith(".index.json") for f in files) == bool(case.max_shard_size), files


@pytest.fixture(scope="module")
def parity_run(tmp_path_factory) -> dict[str, dict[str, Any]]:
    """Builds every case's official model and directory, then runs the JAX worker once for all of them."""
    python = os.environ.get("ALEXATM_JAX_PYTHON", "/work/venv/bin/python")
    if not Path(python).is_file():
        pytest.skip(f"ALEXATM_JAX_PYTHON={python} does not exist: point it at the main (JAX) venv's python.")
    root = tmp_path_factory.mktemp("parity")
    results, jobs = {}, []
    for seed, case in enumerate(CASES):
        model = make_official_model(case, seed)
        inputs = make_inputs(case, case.config["vocab_size"], seed)
        official_dir, work = root / case.name / "official", root / case.name / "work"
        save_official(model, case, official_dir)
        np.savez(root / case.name / "inputs.npz", **inputs)
        results[case.name] = {"model": model, "logits": official_logits(model, inputs), "work": work,
                              "inputs": inputs}
        jobs.append({"official": str(official_dir), "work": str(work), "scan_layers": case.scan_layers,
                     "dtype": case.dtype, "load_dtype": "float32" if case.dtype != "float32" else None,
                     "inputs": str(root / case.name / "inputs.npz"),
                     "export_max_shard_size": case.export_max_shard_size})
    (root / "jobs.json").write_text(json.dumps(jobs))
    env = {**os.environ, "PYTHONPATH": str(REPO), "JAX_PLATFORMS": "cpu",
           "ALEXATM_PARITY_TORCH_SITE": str(Path(torch.__file__).resolve().parents[1])}
    done = subprocess.run([python, str(WORKER), str(root / "jobs.json")], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=1200, check=False)
    assert done.returncode == 0, f"worker failed:\n{done.stdout}\n{done.stderr}"
    return results


def _result(parity_run, case: Case) -> dict[str, Any]:
    result = parity_run[case.name]
    error = result["work"] / "error.txt"
    if error.exists():
        pytest.fail(f"converting/loading {case.name} failed in the JAX venv:\n{error.read_text()}")
    return result


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("scan", [True, False], ids=["scan", "unscanned"])
def test_converted_logits_match_official(parity_run, case, scan):
    result = _result(parity_run, case)
    ours = np.load(result["work"] / f"logits_scan{int(scan)}.npy")
    official = result["logits"]
    assert ours.dtype == np.float32 and ours.shape == official.shape
    assert np.abs(official).max() > 0.5  # The logits bias and perturbed weights make them non-trivial.
    np.testing.assert_allclose(ours, official, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_export_loads_into_the_official_model_unchanged(parity_run, case):
    result = _result(parity_run, case)
    exported = result["work"] / "exported"
    sharded = (exported / "model.safetensors.index.json").exists()
    assert sharded == (case.export_max_shard_size != "10GB")
    model = modeling.AlexaTMSeq2SeqForConditionalGeneration.from_pretrained(exported).eval()
    original = result["model"].state_dict()
    loaded = model.state_dict()
    assert set(loaded) == set(original)
    for name, tensor in original.items():
        assert torch.equal(loaded[name], tensor), name
    np.testing.assert_array_equal(official_logits(model, result["inputs"]), result["logits"])
