"""Multi-process training on one machine (2 processes x 4 CPU devices over gloo on 127.0.0.1).

2 processes match 1 process with the same 8 devices; a SIGTERM to one process stops both after the same step
with a checkpoint (JAX's preemption sync point) and exit 143; resuming restores each process's input position
and is bit-identical to the uninterrupted run; the same checkpoint resumes on 1 process reading both streams.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # train_fixtures

import train_fixtures as fx  # noqa: E402

from alexatm_jax.checkpoint import run_dir  # noqa: E402
from alexatm_jax.training.metrics import read_metrics  # noqa: E402

STEPS = 8
# The global batch is the concatenation of `num_shards` streams: the same 2 shards in every layout.
COMMON = ("--gin_file=partitioning/fsdp.gin", f"--gin.TRAIN_STEPS={STEPS}",
          "--gin.train/input_pipeline.DatasetConfig.num_shards=2",
          "--gin.validation/input_pipeline.DatasetConfig.num_shards=2")
TIMEOUT = 1800  # start-up and compilation take many minutes on a loaded 2-core machine

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(gin_file: Path, model_dir: Path, *bindings: str, processes: int) -> list[subprocess.Popen]:
    """One training run: `processes` processes sharing 8 devices."""
    if processes == 1:
        return [subprocess.Popen(fx.train_command(gin_file, model_dir, *COMMON, *bindings), env=fx.env(8),
                                 cwd=fx.REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
    port = _free_port()
    return [subprocess.Popen(
        fx.train_command(gin_file, model_dir, *COMMON, *bindings, f"--coordinator_address=127.0.0.1:{port}",
                         f"--process_count={processes}", f"--process_id={i}"),
        env=fx.env(8 // processes), cwd=fx.REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(processes)]


def _finish(procs: list[subprocess.Popen], expected: int = 0) -> list[str]:
    """Waits for every process; returns their stdout. Each must exit with `expected`."""
    outputs = [p.communicate(timeout=TIMEOUT) for p in procs]
    for p, (_, err) in zip(procs, outputs):
        assert p.returncode == expected, err[-4000:]
    return [out for out, _ in outputs]


def _losses(model_dir: Path) -> dict[int, float]:
    return {r["step"]: r["loss"] for r in read_metrics(model_dir)}


def _assert_identical(a, b) -> None:
    jax.tree_util.tree_map(np.testing.assert_array_equal, a, b)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Uninterrupted runs on 1 and 2 processes, and a 2-process run stopped by SIGTERM to process 1."""
    tmp = tmp_path_factory.mktemp("multihost")
    gin_file = fx.write_gin(tmp / "gin", "train_script.train.eval_every_steps = 4")
    dirs = {name: tmp / name for name in ("single", "multi", "preempted")}
    started = [_start(gin_file, dirs["single"], processes=1), _start(gin_file, dirs["multi"], processes=2),
               _start(gin_file, dirs["preempted"], "--gin.train_script.train.throttle_s=0.5", processes=2)]
    preempted = started[2]
    deadline = time.time() + TIMEOUT
    while preempted[1].poll() is None and time.time() < deadline:
        if max(_losses(dirs["preempted"]), default=0) >= 2:  # step 2 done: SIGTERM to process 1 only
            preempted[1].send_signal(signal.SIGTERM)
            break
        time.sleep(0.05)
    outputs = {"single": _finish(started[0]), "multi": _finish(started[1]), "preempted": _finish(preempted, 143)}
    return gin_file, dirs, outputs


def test_two_processes_match_one_process_with_the_same_devices(runs):
    _, dirs, outputs = runs
    assert f"Training summary: steps 0 -> {STEPS}" in outputs["multi"][0]  # process 0 prints it
    single, multi = _losses(dirs["single"]), _losses(dirs["multi"])
    assert list(single) == list(multi) == list(range(1, STEPS + 1))
    np.testing.assert_allclose(list(multi.values()), list(single.values()), rtol=1e-5)
    eval_single, eval_multi = read_metrics(dirs["single"], "validation"), read_metrics(dirs["multi"], "validation")
    assert eval_multi[0]["loss"] == pytest.approx(eval_single[0]["loss"], rel=1e-5)
    # Parameters near zero differ by accumulated rounding (different reduction order): absolute tolerance.
    jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5),
                           fx.restore_params(dirs["single"]), fx.restore_params(dirs["multi"]))


def test_sigterm_to_one_process_saves_on_both_and_resume_is_bit_identical(runs, tmp_path):
    gin_file, dirs, outputs = runs
    preempted = dirs["preempted"]
    stopped = int(run_dir.find_checkpoint(preempted).name)
    assert 2 < stopped < STEPS and "(stopped by SIGTERM)" in outputs["preempted"][0]
    positions = preempted / str(stopped) / run_dir.DATA_ITERATOR_ITEM
    assert run_dir.data_stream_counts(positions) == [2]  # each process saved its own stream

    on_one = tmp_path / "on_one_process"  # the same checkpoint, resumed below by a single process
    shutil.copytree(preempted, on_one)
    resumed = _start(gin_file, preempted, processes=2)
    single = _start(gin_file, on_one, processes=1)
    assert f"steps {stopped} -> {STEPS}" in _finish(resumed)[0]
    _finish(single)

    _assert_identical(fx.restore_params(dirs["multi"]), fx.restore_params(preempted))
    assert _losses(preempted) == _losses(dirs["multi"])
    # One process reads both streams from their saved positions: the same batches (other reduction order).
    continued = _losses(on_one)
    reference = _losses(dirs["single"])
    np.testing.assert_allclose([continued[s] for s in range(stopped + 1, STEPS + 1)],
                               [reference[s] for s in range(stopped + 1, STEPS + 1)], rtol=1e-5)
