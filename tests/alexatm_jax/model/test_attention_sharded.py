"""`attention_impl="pallas"` inside the partitioned train step and decoding on 8 simulated CPU devices.

For each `gin/partitioning/*.gin` file, the Pallas kernels must run once per device on its block of examples and
heads (inside a `shard_map`, never replicated by the SPMD partitioner) and give the loss, gradients and greedy
outputs of `attention_impl="xla"` (`sharded_attention_worker.py` does the work in a subprocess with 8 devices).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from alexatm_jax.training.optimizers import ALWAYS_FROZEN

REPO = Path(__file__).resolve().parents[3]
WORKER = Path(__file__).with_name("sharded_attention_worker.py")


def run_worker(tmp_path: Path, *partitionings: str) -> dict:
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8 --xla_backend_optimization_level=0",
           "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(REPO)}
    out = tmp_path / "out.json"
    done = subprocess.run([sys.executable, str(WORKER), str(out), *partitionings], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


def check(result: dict) -> None:
    mesh, rules = result["mesh"], dict((name, axes) for name, axes in result["rules"])
    batch_shards = math.prod(mesh[a] for a in rules["batch"])
    head_shards = mesh[rules["heads"]] if "heads" in rules else 1
    local_batch, local_heads = result["batch_size"] // batch_shards, result["num_heads"] // head_shards
    xla, pallas = result["xla"], result["pallas"]

    # Where the kernels ran: each device on its own examples and heads.
    names = {c["name"] for c in pallas["train_kernels"]}
    assert names == {"flash_attention_fwd", "flash_attention_bwd_dq", "flash_attention_bwd_dkdv"}, names
    assert {c["name"] for c in pallas["decode_kernels"]} == {"flash_attention_fwd", "decode_attention_split"}
    for call in pallas["train_kernels"] + pallas["decode_kernels"]:
        assert call["under_shard_map"], call
        shape = call["first_operand"]  # q [B, S, H, D], or [B, H, D] for the decode kernel
        heads = shape[1] if call["name"] == "decode_attention_split" else shape[2]
        assert (shape[0], heads) == (local_batch, local_heads), (call, mesh)

    # What they computed: the reference's loss, gradients and greedy decoding.
    np.testing.assert_allclose(pallas["loss"], xla["loss"], rtol=1e-5)
    # The trainer does not differentiate the always-frozen buffers: no gradient, no share of grad_norm.
    trained = {name: g for name, g in xla["grads"].items() if not any(b in name for b in ALWAYS_FROZEN)}
    assert len(trained) == len(xla["grads"]) - len(ALWAYS_FROZEN)
    norm = math.sqrt(sum(np.sum(np.square(g)) for g in trained.values()))
    np.testing.assert_allclose(pallas["grad_norm"], norm, rtol=1e-5)
    assert pallas["grads"].keys() == xla["grads"].keys()
    for name, grad in xla["grads"].items():
        expected = grad if name in trained else np.zeros_like(grad)
        np.testing.assert_allclose(pallas["grads"][name], expected, rtol=1e-4, atol=1e-6, err_msg=name)
    assert pallas["tokens"] == xla["tokens"]
    np.testing.assert_allclose(pallas["log_likelihoods"], xla["log_likelihoods"], atol=1e-4)


def test_pallas_kernels_under_fsdp_and_tensor_parallelism(tmp_path):
    """gin/partitioning/fsdp_tp.gin: batch over 4 devices, heads over 2."""
    check(run_worker(tmp_path, "fsdp_tp")["fsdp_tp"])


@pytest.mark.slow
def test_pallas_kernels_under_data_parallelism_and_fsdp(tmp_path):
    """gin/partitioning/dp.gin and fsdp.gin: batch over all 8 devices, heads whole."""
    results = run_worker(tmp_path, "dp", "fsdp")
    for name in ("dp", "fsdp"):
        check(results[name])
