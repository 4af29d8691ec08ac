"""The README's main job, as a user runs it (tiny budget): quiet console, relative MODEL_DIR, demo numbers, rerun.

`tests/main_job_fixtures.py` runs the train entry point and the demo exactly as `scripts/main_job.sh` does, from a
fresh working directory full of user folders; these tests read what they printed and wrote. CI also runs the real
`bash scripts/main_job.sh` twice (.ci/run).
"""

from __future__ import annotations

import json
import re
import subprocess

from alexatm_jax.checkpoint import run_dir
from tests.main_job_fixtures import DEMO_BUDGET, DEMO_COMMAND, REPO, TRAIN_BUDGET, TRAIN_COMMAND, run_python

# What library noise looks like on stderr: log records (Python's and absl C++'s), warnings, start-up banners.
NOISE = re.compile(r"warn|error|^[IWEF]\d{4} |^(INFO|DEBUG)\b|absl|oneDNN|cuda|tensorflow|orbax|deprecat|"
                   r"traceback|pad_id|cache", re.I)
# A handful at most (none is expected); --verbosity=1 shows many more.
MAX_NOISE_LINES = 2


def noise_lines(stderr: str) -> list[str]:
    """Lines of `stderr` that are library noise, not our progress bars (tqdm redraws with carriage returns)."""
    lines = [line.strip() for line in re.split(r"[\r\n]+", stderr)]
    return [line for line in lines if line and NOISE.search(line)]


def test_train_prints_a_progress_bar_and_a_summary_and_no_noise(tiny_main_job):
    train = tiny_main_job.train
    assert "train:" in train.stderr and "3/3" in train.stderr  # the tqdm bar
    assert "Training summary: steps 0 -> 3" in train.stdout
    assert len(noise_lines(train.stderr)) <= MAX_NOISE_LINES, noise_lines(train.stderr)
    assert str(tiny_main_job.model_dir / "3") in train.stdout  # the relative MODEL_DIR, resolved once
    assert not any(line.startswith(("WARNING", "INFO")) for line in train.stdout.splitlines())


def test_demo_prints_its_three_views_with_numbers_and_no_noise(tiny_main_job):
    demo = tiny_main_job.demo
    assert len(noise_lines(demo.stderr)) <= MAX_NOISE_LINES, noise_lines(demo.stderr)
    out = demo.stdout
    assert re.search(r"token similarity \d+\.\d% \(copying the corrupted input: \d+\.\d%\), margin [+-]\d+\.\d", out)
    assert re.search(r"Continuations in the prompt's language: \d+/4", out)
    assert re.search(r"in the prompt's language \d+/2, of the shown intent \d+/2 \(by chance 1/22\), \d+/2 of them "
                     r"new text", out)
    numbers = json.loads(out.split("Demo numbers: ", 1)[1].splitlines()[0])
    assert {"denoise_margin", "clm_language_match", "fewshot_intent_match", "fewshot_new_intent_match"} <= set(numbers)


def test_verbosity_1_brings_the_library_logs_back(tiny_main_job):
    """The noise filter is real: the same demo with --verbosity=1 prints library log lines again."""
    demo = run_python(tiny_main_job.cwd, *DEMO_COMMAND, *DEMO_BUDGET, "--num_examples=1", "--verbosity=1")
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert len(noise_lines(demo.stderr)) > MAX_NOISE_LINES, demo.stderr[-3000:]


def test_running_the_main_job_again_keeps_the_run_and_only_shows_the_demo(tiny_main_job):
    summary_before = run_dir.train_summary_path(tiny_main_job.model_dir).read_text()
    again = run_python(tiny_main_job.cwd, *TRAIN_COMMAND, *TRAIN_BUDGET)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "already trained to step 3" in again.stdout
    assert run_dir.train_summary_path(tiny_main_job.model_dir).read_text() == summary_before
    assert [step for step, _ in run_dir.step_dirs(tiny_main_job.model_dir)] == [3]


def test_finetune_tiny_starts_from_what_the_main_job_trained(tiny_main_job):
    """gin/experiments/finetune_tiny.gin fine-tunes the main job's model (its vocabulary, shared embeddings)."""
    finetune = run_python(
        tiny_main_job.cwd, "-m", "alexatm_jax.train", "--gin_file=gin/experiments/finetune_tiny.gin",
        "--gin.CHECKPOINT_PATH='runs/default_tiny'", "--gin.MODEL_DIR='runs/intent'", "--gin.TRAIN_STEPS=2",
        "--gin.train_script.train.eval_every_steps=2", "--gin.EVAL_BATCHES=1", "--gin.BATCH_SIZE=2")
    assert finetune.returncode == 0, finetune.stderr[-3000:]
    assert "Training summary: steps 0 -> 2" in finetune.stdout
    pretrained = json.loads((tiny_main_job.model_dir / "model_config.json").read_text())
    finetuned = json.loads((tiny_main_job.cwd / "runs" / "intent" / "model_config.json").read_text())
    assert {k: v for k, v in finetuned.items() if k != "dropout_rate"} == {
        k: v for k, v in pretrained.items() if k != "dropout_rate"}


def test_main_job_script_is_what_the_tests_and_readme_run():
    """The commands above are the script's; the README and CI name the script without arguments."""
    script = (REPO / "scripts" / "main_job.sh").read_text()
    assert "-m alexatm_jax.train --gin_file=gin/experiments/default_tiny.gin" in script
    assert 'MODEL_DIR="runs/default_tiny"' in script and "-m alexatm_jax.demo --checkpoint=" in script
    assert "bash scripts/main_job.sh" in (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    steps = [line.split("step ", 1)[1] for line in ci if line.startswith("step ")]
    assert steps == ["bash scripts/main_job.sh", "bash scripts/run_tests.sh --all", "bash scripts/main_job.sh"]
    assert subprocess.run(["bash", "-n", str(REPO / "scripts" / "main_job.sh")]).returncode == 0


def test_tensorflow_start_up_lines_are_silenced_only_when_quiet(tmp_path):
    """The console set-up every command runs: TensorFlow's native start-up lines go, and come back verbose."""
    script = ("import sys\nfrom alexatm_jax.cli import app\napp.configure_console(int(sys.argv[1]))\n"
              "import tensorflow as tf\nprint(int(tf.reduce_sum(tf.constant([1, 2]))))\n")
    quiet, verbose = (run_python(tmp_path, "-c", script, level) for level in ("0", "1"))
    assert quiet.returncode == 0 and verbose.returncode == 0, quiet.stderr + verbose.stderr
    assert quiet.stdout.strip() == verbose.stdout.strip() == "3"
    assert noise_lines(quiet.stderr) == []
    assert len(noise_lines(verbose.stderr)) > MAX_NOISE_LINES, verbose.stderr
