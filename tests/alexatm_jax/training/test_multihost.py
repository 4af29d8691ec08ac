"""Multi-process training on one machine: 2 processes x 4 CPU devices match 1 process x 8 devices."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # train_fixtures

import train_fixtures as fx  # noqa: E402

from alexatm_jax.training.metrics import read_metrics  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_match_one_process_with_the_same_devices(tmp_path):
    gin_file = fx.write_gin(tmp_path / "gin", "train_script.train.eval_every_steps = 4")
    # The global batch is the concatenation of `num_shards` streams: the same 2 shards in both layouts.
    common = ("--gin_file=partitioning/fsdp.gin", "--gin.TRAIN_STEPS=4",
              "--gin.train/input_pipeline.DatasetConfig.num_shards=2",
              "--gin.validation/input_pipeline.DatasetConfig.num_shards=2")
    single_dir, multi_dir = tmp_path / "single", tmp_path / "multi"
    port = _free_port()
    procs = [subprocess.Popen(fx.train_command(gin_file, single_dir, *common), env=fx.env(8), cwd=fx.REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
    for process_id in range(2):
        procs.append(subprocess.Popen(
            fx.train_command(gin_file, multi_dir, *common, f"--coordinator_address=127.0.0.1:{port}",
                             "--process_count=2", f"--process_id={process_id}"),
            env=fx.env(4), cwd=fx.REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=400) for p in procs]
    for p, (_, err) in zip(procs, outputs):
        assert p.returncode == 0, err[-4000:]
    assert "Training summary: steps 0 -> 4" in outputs[1][0]  # process 0 prints it
    single = [(r["step"], r["loss"]) for r in read_metrics(single_dir)]
    multi = [(r["step"], r["loss"]) for r in read_metrics(multi_dir)]
    assert [s for s, _ in single] == [s for s, _ in multi] == [1, 2, 3, 4]
    np.testing.assert_allclose([v for _, v in multi], [v for _, v in single], rtol=1e-5)
    eval_single, eval_multi = read_metrics(single_dir, "validation"), read_metrics(multi_dir, "validation")
    assert eval_multi[0]["loss"] == pytest.approx(eval_single[0]["loss"], rel=1e-5)
    # Parameters near zero differ by accumulated rounding (different reduction order): absolute tolerance.
    jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5),
                           fx.restore_params(single_dir), fx.restore_params(multi_dir))
