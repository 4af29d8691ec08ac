"""benchmarks/loop_overhead.py: its tiny case is the main job's model, and the command prints its table."""

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_tiny_is_the_main_jobs_model(load_benchmark, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))  # the script imports its sibling train_step
    bench = load_benchmark("loop_overhead")
    from alexatm_jax.cli import gin_config
    from alexatm_jax.model.config import ModelConfig

    tiny = bench.model_config("tiny")
    gin_config.parse(["experiments/default_tiny.gin"], ["MODEL_DIR='unused'"])
    assert tiny == gin_config.call(ModelConfig)
    assert not tiny.scan_layers and tiny.share_embeddings and tiny.vocab_size == 3000  # not models/alexatm_tiny.gin
    assert bench.model_config("small").d_model > tiny.d_model


def test_the_command_prints_its_table():
    proc = subprocess.run(
        [sys.executable, "benchmarks/loop_overhead.py", "--models=tiny", "--steps=2", "--repeats=1"],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| model | devices | batch | steps | bare_ms |" in proc.stdout, proc.stdout
    assert re.search(r"^\| tiny \| 1x cpu \| 32x\(32\+32\) \| 2 \| [\d.]+ \|", proc.stdout, re.M), proc.stdout
