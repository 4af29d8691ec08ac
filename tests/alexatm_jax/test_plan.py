"""`python -m alexatm_jax.plan`: the 20B model's memory per device, compiled on simulated CPU devices."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from alexatm_jax import plan
from tests.alexatm_jax.decoding_fixtures import REPO

GB = 1e9


def _plan(*flags: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("XLA_FLAGS", None)
    return subprocess.run([sys.executable, "-m", "alexatm_jax.plan", "--gin_file=models/alexatm_20b.gin", *flags],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)


def test_20b_decode_fits_in_40gb_per_device_on_8_devices():
    done = _plan("--num_devices=8", "--step=decode", "--batch_size=8", "--input_length=1024",
                 "--target_length=256", "--device_memory_gib=37.25", "--json")  # 37.25 GiB = 40 GB
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["mesh"] == {"data": 1, "fsdp": 4, "tensor": 2}  # partitioning/fsdp_tp.gin by default
    assert report["param_dtype"] == "bfloat16" and 19.5e9 < report["num_params"] < 20e9
    # Parameters split over all 8 devices (FSDP x tensor parallel): 2 bytes each / 8.
    assert abs(report["param_bytes"] - 2 * report["num_params"] / 8) < 0.02 * report["param_bytes"]
    # KV cache: 32 decoder layers x (K, V) x batch 8 x (256 self + 1024 cross positions) x 4096 x bf16,
    # split over the batch (fsdp=4) and the heads (tensor=2).
    cache = 32 * 2 * 8 * (256 + 1024) * 4096 * 2 / 8
    assert abs(report["cache_bytes"] - cache) < 0.01 * cache
    assert report["peak_bytes"] < 40 * GB
    parts = plan.memory_breakdown(report)  # what the notebooks tabulate and chart
    assert sum(parts.values()) == report["peak_bytes"] and parts["KV cache"] == report["cache_bytes"]
    assert parts["optimiser state"] == 0


def test_batch_of_one_keeps_the_batch_whole_and_still_fits():
    done = _plan("--num_devices=8", "--step=decode", "--batch_size=1", "--input_length=1024",
                 "--device_memory_gib=37.25")
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "fits in 37.25 GiB per device" in done.stdout and "KV cache" in done.stdout


def test_bad_lengths_are_explained():
    done = _plan("--num_devices=2", "--step=forward", "--input_length=5000")
    assert done.returncode == 2 and "input_length=5000" in done.stderr
