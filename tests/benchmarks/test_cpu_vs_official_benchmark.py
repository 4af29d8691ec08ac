"""benchmarks/cpu_vs_official.py: its JAX half runs end to end on a small checkpoint in the official format.

The PyTorch half needs the reference venv (torch and the official release) and runs only where
`.ci/run_official_parity.sh` made one; the JAX half is what breaks when the project's own interfaces move.
"""

import json
import subprocess
import sys
from pathlib import Path

import flax.linen as nn
import jax

from alexatm_jax.checkpoint import params as checkpoints
from alexatm_jax.checkpoint.official import convert
from alexatm_jax.model.config import ModelConfig
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel

REPO = Path(__file__).resolve().parents[2]


def test_the_jax_half_converts_the_official_model_and_times_the_three_metrics(load_benchmark, tmp_path):
    bench = load_benchmark("cpu_vs_official")
    # The benchmark's inputs draw ids from its 61M config's vocabulary; the rest of the model is tiny.
    cfg = ModelConfig(vocab_size=bench.CONFIG["vocab_size"], d_model=16, num_encoder_layers=1, num_decoder_layers=1,
                      num_encoder_heads=2, num_decoder_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                      max_position_embeddings=32, share_embeddings=True, tie_word_embeddings=True)
    params = nn.meta.unbox(EncoderDecoderModel(cfg).init(jax.random.PRNGKey(0)))
    checkpoints.save_params(tmp_path / "ours", params, cfg)
    workdir = tmp_path / "work"
    convert.export_official(tmp_path / "ours", workdir / "official")
    bench.make_inputs(workdir / "inputs.npz", batch=2, input_length=8, target_length=8)

    proc = subprocess.run(
        [sys.executable, "benchmarks/cpu_vs_official.py", "--side=jax", "--variant=scan", f"--workdir={workdir}",
         "--steps=1", "--warmup=1", "--batch=2", "--input_length=8", "--target_length=8"],
        cwd=REPO, capture_output=True, text=True, timeout=600)

    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["side"] == "JAX (scan)" and result["batch_tokens"] == 2 * (8 + 8)
    for metric in bench.METRICS:
        assert result[metric]["wall"], result
    assert 9.0 < result["initial_loss"] < 12.0  # about log(32000) = 10.4 for a freshly initialised model
