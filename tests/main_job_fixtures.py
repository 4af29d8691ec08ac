"""The README's main job on a tiny budget, run the way a user runs it, shared by the main-job and README tests.

`scripts/main_job.sh` installs, then runs two commands; these are the same two commands, with a budget of a few
steps and a few demo examples, in a subprocess, from a fresh working directory full of user folders (`runs/`,
`models/`, `experiments/`), with the relative MODEL_DIR the README prints. The environment is the user's: none of
the test suite's quieting variables.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MODEL_DIR = "runs/default_tiny"
# What scripts/main_job.sh runs (keep in step with it), then the small budget appended (later flags win).
TRAIN_COMMAND = ("-m", "alexatm_jax.train", "--gin_file=gin/experiments/default_tiny.gin",
                 f"--gin.MODEL_DIR='{MODEL_DIR}'")
TRAIN_BUDGET = ("--gin.TRAIN_STEPS=3", "--gin.train_script.train.eval_every_steps=3",
                "--gin.checkpoint_manager.CheckpointConfig.save_every_steps=3")
DEMO_COMMAND = ("-m", "alexatm_jax.demo", f"--checkpoint={MODEL_DIR}")
DEMO_BUDGET = ("--num_examples=4", "--num_shown=2", "--num_few_shot=2")
# Variables the test suite sets for itself that a user's shell does not have.
SUITE_ONLY_ENVIRONMENT = ("TF_CPP_MIN_LOG_LEVEL", "JAX_PLATFORMS", "PYTHONPATH")


@dataclasses.dataclass(frozen=True)
class MainJobRun:
    """Where the tiny main job ran and what each of its commands printed."""

    cwd: Path
    train: subprocess.CompletedProcess
    demo: subprocess.CompletedProcess

    @property
    def model_dir(self) -> Path:
        return self.cwd / MODEL_DIR


def user_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SUITE_ONLY_ENVIRONMENT}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def crowded_working_directory(root: Path) -> Path:
    """A fresh directory holding user folders named like the project's gin folders (one of them a package)."""
    for folder in ("runs", "models", "experiments"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "models" / "__init__.py").write_text("")
    return root


def run_python(cwd: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=user_environment(), capture_output=True, text=True,
                          timeout=timeout)


def run_tiny_main_job(root: Path) -> MainJobRun:
    cwd = crowded_working_directory(root)
    train = run_python(cwd, *TRAIN_COMMAND, *TRAIN_BUDGET)
    if train.returncode != 0:
        raise AssertionError(f"training failed ({train.returncode}):\n{train.stdout}\n{train.stderr[-5000:]}")
    demo = run_python(cwd, *DEMO_COMMAND, *DEMO_BUDGET)
    if demo.returncode != 0:
        raise AssertionError(f"demo failed ({demo.returncode}):\n{demo.stdout}\n{demo.stderr[-5000:]}")
    return MainJobRun(cwd, train, demo)


@pytest.fixture(scope="session")
def tiny_main_job(tmp_path_factory) -> MainJobRun:
    """The tiny main job, run once per test session (the README test loads what it trained)."""
    return run_tiny_main_job(tmp_path_factory.mktemp("main_job"))
