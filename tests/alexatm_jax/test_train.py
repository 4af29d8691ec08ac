"""`python -m alexatm_jax.train` end to end in real subprocesses: run files, kill -9 + resume, other meshes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_fixtures as fx  # noqa: E402

from alexatm_jax.checkpoint import run_dir  # noqa: E402
from alexatm_jax.training.metrics import read_metrics  # noqa: E402


def _losses(model_dir: Path) -> dict[int, float]:
    """Train loss per step; a step re-run after a resume keeps its latest record."""
    return {r["step"]: r["loss"] for r in read_metrics(model_dir)}


def test_cli_trains_and_writes_a_loadable_model_dir(tmp_path):
    gin_file = fx.write_gin(tmp_path / "gin")
    model_dir = tmp_path / "run"
    proc = fx.run_train(gin_file, model_dir, "--gin.TRAIN_STEPS=3", "--gin.train_script.train.eval_every_steps=3")
    assert "Training summary: steps 0 -> 3" in proc.stdout
    for name in ("config.gin", "model_config.json", "metadata.json", "metrics.jsonl", "train_summary.json"):
        assert (model_dir / name).is_file(), name
    assert "TRAIN_STEPS = 3" in (model_dir / "config.gin").read_text()
    assert sorted(int(p.name) for p in model_dir.iterdir() if p.name.isdigit()) == [2, 3]
    assert list(_losses(model_dir)) == [1, 2, 3]
    assert read_metrics(model_dir, "validation")[0]["step"] == 3
    import alexatm_jax

    model = alexatm_jax.load(model_dir)
    assert model.logits(np.array([[9, 10, 11]]), np.array([[0, 9]])).shape == (1, 2, fx.VOCAB_SIZE)


@pytest.mark.slow
def test_kill_9_during_a_save_then_resume_is_bit_identical(tmp_path):
    """Run A: 8 steps. Run B: killed with SIGKILL while saving a checkpoint, then resumed to 8 steps."""
    gin_file = fx.write_gin(tmp_path / "gin", "config.ModelConfig.dropout_rate = 0.1")
    cache = f"--compilation_cache_dir={tmp_path / 'xla_cache'}"
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    common = ("--gin.TRAIN_STEPS=8", "--gin.train_script.train.eval_every_steps=None", cache)
    run_a = subprocess.Popen(fx.train_command(gin_file, a_dir, *common), env=fx.env(), cwd=fx.REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_b = subprocess.Popen(fx.train_command(gin_file, b_dir, *common, "--gin.train_script.train.throttle_s=0.4"),
                             env=fx.env(), cwd=fx.REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed_mid_save = False
    deadline = time.time() + 900  # start-up alone takes minutes on a loaded 2-core machine
    while run_b.poll() is None and time.time() < deadline:
        complete = [int(p.name) for p in b_dir.glob("[0-9]*") if p.name.isdigit()]
        saving = list(b_dir.glob("*.orbax-checkpoint-tmp*"))
        if complete and (saving or max(complete) >= 6):
            run_b.send_signal(signal.SIGKILL)
            killed_mid_save = bool(saving)
            break
        time.sleep(0.005)
    assert run_b.wait(timeout=60) == -signal.SIGKILL, "run B finished before it could be killed"
    latest = run_dir.find_checkpoint(b_dir)
    assert int(latest.name) < 8
    out_a, err_a = run_a.communicate(timeout=600)
    assert run_a.returncode == 0, err_a[-3000:]

    positions = latest / run_dir.DATA_ITERATOR_ITEM
    assert run_dir.data_stream_counts(positions) == [1]  # the input position was saved with the step
    resumed = fx.run_train(gin_file, b_dir, *common)
    assert f"steps {latest.name} -> 8" in resumed.stdout
    assert "by skipping" not in resumed.stderr  # restored, not re-read
    jax.tree_util.tree_map(np.testing.assert_array_equal, fx.restore_params(a_dir), fx.restore_params(b_dir))
    assert _losses(a_dir) == _losses(b_dir)
    from alexatm_jax import verify_checkpoint

    report = dict(verify_checkpoint.verify(b_dir))  # every step the kill left behind, and the resumed ones
    assert all(v.startswith("intact") for k, v in report.items() if k.startswith("step")), report
    print(f"killed mid-save: {killed_mid_save}; resumed from step {latest.name}")


@pytest.mark.slow
def test_checkpoints_restore_onto_a_different_mesh(tmp_path):
    """Saved on 8 devices (FSDP), resumed on 1 (data parallel), then on 8 again."""
    gin_file = fx.write_gin(tmp_path / "gin", "train_script.train.eval_every_steps = None")
    model_dir = tmp_path / "run"
    cache = f"--compilation_cache_dir={tmp_path / 'xla_cache'}"
    fsdp = "--gin_file=partitioning/fsdp.gin"
    steps = []
    for devices, extra, train_steps in ((8, fsdp, 2), (1, "--gin_file=partitioning/dp.gin", 3), (8, fsdp, 4)):
        proc = fx.run_train(gin_file, model_dir, extra, f"--gin.TRAIN_STEPS={train_steps}", cache,
                            num_devices=devices)
        steps.append(json.loads((model_dir / "train_summary.json").read_text()))
        assert f"-> {train_steps}" in proc.stdout
    assert [(s["start_step"], s["final_step"]) for s in steps] == [(0, 2), (2, 3), (3, 4)]
    losses = _losses(model_dir)
    assert sorted(losses) == [1, 2, 3, 4] and all(np.isfinite(list(losses.values())))
    assert "('embed', 'fsdp')" in (model_dir / "config.gin").read_text()
