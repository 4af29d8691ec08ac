"""The README is tested as a user reads it: its Python runs, its commands run (or CI runs them).

* Every ```python block runs, in order, in the working directory of the tiny main job (`tests/main_job_fixtures`),
  against the checkpoint that job trained at the README's relative path `runs/default_tiny`.
* Every command of the ```bash blocks matches exactly one rule below: run by CI as printed (`.ci/run`), or run
  here as printed with small stand-ins appended or put in place (few steps, tiny data at the paths the README
  names). A command marked `# needs: ...` in the README (data, weights or hardware CI lacks) still runs here on
  stand-ins, or, for the accelerator-sized training run, has its flags and gin configuration checked.
A README command that no rule covers fails the test: new commands come with a way to test them.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util  # noqa: F401  gin-config 0.5.0 on Python 3.11 needs importlib.util imported first
import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import gin
from tests.main_job_fixtures import MODEL_DIR, REPO, user_environment

README = REPO / "README.md"
NEEDS_MARK = "# needs:"


@dataclasses.dataclass(frozen=True)
class Command:
    """One README command (continuation lines joined) and its `# needs:` mark, if the line above has one."""

    text: str
    needs: str | None

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.text, comments=True)


def fenced_blocks(language: str, text: str | None = None) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text or README.read_text(), re.M | re.S)


def readme_commands(text: str | None = None) -> list[Command]:
    commands, needs, pending = [], None, ""
    for block in fenced_blocks("bash", text):
        for line in block.splitlines():
            stripped = line.strip()
            if not pending and stripped.startswith("#"):
                if stripped.startswith(NEEDS_MARK):
                    needs = stripped[len(NEEDS_MARK):].strip()
                continue
            stripped = re.sub(r"\s+#\s.*$", "", stripped)  # a trailing comment (README commands quote no '#')
            if not stripped:
                continue
            pending += stripped[:-1] + " " if stripped.endswith("\\") else stripped
            if not stripped.endswith("\\"):
                commands.append(Command(re.sub(r"\s+", " ", pending).strip(), needs))
                pending, needs = "", None
    return commands


# ---------------------------------------------------------------------------------------------------------------
# How each README command is tested. `run(command, cwd)` runs it with its stand-ins; CI rules name the .ci/run step.

CI_STEPS = [line.split("step ", 1)[1] for line in (REPO / ".ci" / "run").read_text().splitlines()
            if line.startswith("step ")]
FLORES_CODES = ("ara", "eng", "fra", "deu", "hin", "ita", "jpn", "mar", "por", "spa", "tam", "tel")


@dataclasses.dataclass(frozen=True)
class Rule:
    pattern: str  # matched (re.search) against the command's text
    ci_step: str | None = None  # the .ci/run step that runs the command as printed
    run: Callable[[Command, Path], None] | None = None
    needs_mark: bool = False  # the README must mark it `# needs:`


def _module_main(argv: list[str]) -> tuple[str, list[str]]:
    assert argv[:2] == ["python", "-m"], argv
    return argv[2], argv[3:]


def run_in_process(*extra: str) -> Callable[[Command, Path], None]:
    """Calls the command's `main(argv)` in this process (as `python -m` would), with `extra` flags appended."""
    def run(command: Command, cwd: Path) -> None:
        module, argv = _module_main(command.argv)
        gin.clear_config()
        try:
            rc = importlib.import_module(module).main([*argv, *extra])
        finally:
            gin.clear_config()
        assert rc in (None, 0), f"{command.text} exited {rc}"
    return run


def run_subprocess(*extra: str, timeout: float = 900) -> Callable[[Command, Path], None]:
    def run(command: Command, cwd: Path) -> None:
        argv = command.argv
        argv = [sys.executable, *argv[1:]] if argv[0] == "python" else argv
        env = dict(user_environment(), VENV=sys.prefix)
        proc = subprocess.run([*argv, *extra], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
        assert proc.returncode == 0, f"{command.text}: exit {proc.returncode}\n{proc.stdout[-3000:]}\n" \
                                     f"{proc.stderr[-3000:]}"
    return run


def check_configuration_only(command: Command, cwd: Path) -> None:
    """For runs no CI machine can do: the flags parse and the gin files and bindings make a valid configuration."""
    from alexatm_jax.cli import app, gin_config

    module, argv = _module_main(command.argv)
    entry = importlib.import_module(module).COMMAND
    from absl import flags

    fv = flags.FlagValues()
    app.define_common_flags(fv, entry)
    entry.define_flags(fv)
    fv([entry.prog, *app.rewrite_gin_args(argv)])
    try:
        gin_config.parse(fv.gin_file, fv.gin_bindings, fv.gin_search_paths)
    finally:
        gin.clear_config()


def with_setup(setup: Callable[[Path], None], run: Callable[[Command, Path], None]) -> Callable[[Command, Path], None]:
    def both(command: Command, cwd: Path) -> None:
        setup(cwd)
        run(command, cwd)
    return both


def tiny_flores(cwd: Path) -> None:
    """All 12 Flores-101 languages (a few sentences each) and a SentencePiece model where the README names them."""
    from tests.tasks.eval_fixtures import FLORES_SENTENCES, tiny_spm_model

    for split, sentences in FLORES_SENTENCES["eng"].items():
        for i, code in enumerate(FLORES_CODES):
            path = cwd / "data" / "flores101_dataset" / split / f"{code}.{split}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(f"{s} ({code} {i})\n" for s in sentences))
    shutil.copy(tiny_spm_model(), cwd / "data" / "flores101_spm.model")


def tiny_superglue(cwd: Path) -> None:
    from tests.tasks.eval_fixtures import write_superglue_jsonl

    write_superglue_jsonl(str(cwd / "data" / "superglue"))


def prompts_file(cwd: Path) -> None:
    (cwd / "prompts.jsonl").write_text("".join(json.dumps({"inputs": t}) + "\n" for t in ("Wake me up at", "Play")))


def official_release(cwd: Path) -> None:
    """An official-format directory, exported from the tiny run, where the README expects the 20B release."""
    from alexatm_jax import convert_checkpoint

    assert convert_checkpoint.main([f"--input={MODEL_DIR}", "--export", "--output=official/alexatm-20b"]) == 0


EVAL_BUDGET = ("--gin.MAX_EVAL_EXAMPLES=2", "--gin.MAX_DECODE_LENGTH=4", "--gin.BATCH_SIZE=4")
RULES = [
    Rule(r"^bash scripts/main_job\.sh$", ci_step="bash scripts/main_job.sh"),
    Rule(r"^bash scripts/run_tests\.sh$", ci_step="bash scripts/run_tests.sh --all"),
    Rule(r"^bash scripts/main_job\.sh runs/default_tiny --gin\.TRAIN_STEPS=\d+$",
         run=run_subprocess("--gin.TRAIN_STEPS=4")),
    Rule(r"alexatm_jax\.train --gin_file=gin/experiments/default_tiny\.gin .*runs/default_tiny",
         run=run_in_process("--gin.TRAIN_STEPS=5", "--gin.train_script.train.progress_bar=False")),
    Rule(r"alexatm_jax\.train --gin_file=gin/models/alexatm_1b\.gin", run=check_configuration_only, needs_mark=True),
    Rule(r"^python -m tasks\.inspect ", run=run_in_process()),
    Rule(r"alexatm_jax\.eval .*flores101_1shot_from_eng", run=with_setup(tiny_flores, run_in_process(*EVAL_BUDGET)),
         needs_mark=True),
    Rule(r"alexatm_jax\.eval .*super_glue_zeroshot", run=with_setup(tiny_superglue, run_in_process(*EVAL_BUDGET)),
         needs_mark=True),
    Rule(r"alexatm_jax\.eval .*checkpoints/alexatm-20b.*mlsum_1shot", run=check_configuration_only, needs_mark=True),
    Rule(r"alexatm_jax\.eval .*checkpoints/alexatm-20b.*squad_v2_1shot", run=check_configuration_only,
         needs_mark=True),
    Rule(r"^python -m alexatm_jax\.report eval/default_tiny$", run=run_in_process()),
    Rule(r"alexatm_jax\.infer .*INPUT_FILE=\"'prompts\.jsonl'\"",
         run=with_setup(prompts_file, run_in_process("--gin.MAX_NEW_TOKENS=4",
                                                     "--gin.infer.infer.progress_bar=False"))),
    Rule(r"alexatm_jax\.convert_checkpoint --input=official/alexatm-20b ",
         run=with_setup(official_release, run_in_process()), needs_mark=True),
    Rule(r"alexatm_jax\.convert_checkpoint --export --input=runs/default_tiny ", run=run_in_process()),
    Rule(r"^python -m alexatm_jax\.plan ", run=run_subprocess()),
]


def rule_for(command: Command) -> Rule:
    matches = [rule for rule in RULES if re.search(rule.pattern, command.text)]
    assert len(matches) == 1, f"README command covered by {len(matches)} rules (need one): {command.text}"
    return matches[0]


# ---------------------------------------------------------------------------------------------------------------


def test_the_parser_finds_commands_continuations_and_marks():
    text = ("```bash\n# needs: data\npython -m a --x \\\n  --y=\"'b c'\"\n# a note\nls  # a comment\n```\n"
            "```python\nx = 1\n```\n")
    assert readme_commands(text) == [Command("python -m a --x --y=\"'b c'\"", "data"), Command("ls", None)]
    assert readme_commands(text)[0].argv == ["python", "-m", "a", "--x", "--y='b c'"]
    assert fenced_blocks("python", text) == ["x = 1\n"]


def test_every_readme_command_is_run_by_ci_or_by_a_test():
    commands = readme_commands()
    assert len(commands) >= 10 and fenced_blocks("python")
    for command in commands:
        rule = rule_for(command)
        if rule.ci_step:
            assert rule.ci_step in CI_STEPS, f"{command.text}: .ci/run does not run {rule.ci_step!r}"
        if rule.needs_mark:
            assert command.needs, f"{command.text}: the README must mark what it needs ({NEEDS_MARK} ...)"
    assert all(any(re.search(rule.pattern, c.text) for c in commands) for rule in RULES), "a rule for no command"


def test_the_python_blocks_run_against_the_model_the_main_job_trained(tiny_main_job, monkeypatch):
    monkeypatch.chdir(tiny_main_job.cwd)
    namespace: dict = {}
    for block in fenced_blocks("python"):
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102  the README's own code
    lm = namespace["lm"]
    from alexatm_jax.checkpoint import run_dir

    assert lm.config == run_dir.read_model_config(tiny_main_job.model_dir)
    assert isinstance(lm.generate("Il fait beau à", max_new_tokens=4), str)
    logits = namespace["logits"]
    assert logits.shape == (1, len(namespace["ids"]), lm.config.vocab_size) and np.isfinite(logits).all()


@pytest.mark.slow
def test_the_readme_commands_run_with_small_stand_ins(tiny_main_job, tmp_path, monkeypatch):
    """In README order, in a copy of the main job's working directory (the run is trained on, not shared) that
    also has the checkout's `scripts/` (the README's commands run from the repository root)."""
    cwd = tmp_path / "work"
    shutil.copytree(tiny_main_job.cwd, cwd, symlinks=True)
    (cwd / "scripts").symlink_to(REPO / "scripts")
    monkeypatch.chdir(cwd)
    monkeypatch.syspath_prepend(str(REPO))
    for command in readme_commands():
        rule = rule_for(command)
        if rule.run is not None:
            rule.run(command, cwd)
    from alexatm_jax.checkpoint import run_dir

    assert run_dir.find_checkpoint(cwd / MODEL_DIR).name == "5"
    assert (cwd / "eval" / "default_tiny" / "metrics.json").is_file()
    assert (cwd / "infer" / "default_tiny" / "predict.jsonl").read_text().count("\n") == 2
    assert (cwd / "checkpoints" / "alexatm-20b").is_dir() and (cwd / "exported" / "default_tiny").is_dir()
