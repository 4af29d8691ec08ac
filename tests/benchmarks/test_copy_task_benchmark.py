"""benchmarks/copy_task.py: its batches are a copy task, and the command prints its table as a user runs it."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def test_batches_copy_their_inputs_with_shifted_decoder_inputs(load_benchmark, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))  # the script imports its sibling train_step
    bench = load_benchmark("copy_task")
    batch = bench.copy_batch(np.random.default_rng(0), 3, 5, 10)
    np.testing.assert_array_equal(batch["decoder_target_tokens"], batch["encoder_input_tokens"])
    np.testing.assert_array_equal(batch["decoder_input_tokens"][:, 1:], batch["encoder_input_tokens"][:, :-1])
    assert (batch["decoder_input_tokens"][:, 0] == 0).all()
    assert batch["encoder_input_tokens"].min() >= 7 and batch["encoder_input_tokens"].max() < 17


def test_the_command_prints_a_loss_table_per_variant():
    proc = subprocess.run(
        [sys.executable, "benchmarks/copy_task.py", "--steps=2", "--every=1", "--batch=2", "--length=4",
         "--variants=official,shared+init+frozen"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| variant | loss@1 | loss@2 | s |" in proc.stdout
    for name in ("official", "shared+init+frozen"):
        row = re.search(rf"^\| {re.escape(name)} \| ([\d.]+) \| ([\d.]+) \|", proc.stdout, re.M)
        # Two steps learn nothing: near the initial loss, log(vocab_size 7000) = 8.85.
        assert row and all(7.0 < float(v) < 11.0 for v in row.groups()), proc.stdout
    bad = subprocess.run([sys.executable, "benchmarks/copy_task.py", "--variants=nope"], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "unknown variant" in bad.stderr
