"""Times the README's main job as a new user meets it, and prints what its demo measured.

    python benchmarks/main_job.py                  # a copy of this checkout, fresh .venv, cold installer cache
    python benchmarks/main_job.py --reuse_venv     # the same, with this checkout's .venv (training + demo only)
    python benchmarks/main_job.py --installer=pip  # pip instead of uv for the install

Copies the checkout's files (tracked and untracked, not ignored: what a clone plus local changes holds) into a
temporary directory, runs `bash scripts/main_job.sh` there and splits its wall time at the script's own phase lines
(install, "== Pretraining", "== What it learnt"). Prints one table: the time of each phase, the training summary
(loss first/last, validation loss) and the demo's numbers (denoising similarity vs copying the input, CLM language
match, few-shot language and intent match), plus the load average, since the machines are shared.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PHASES = (("install", None), ("train", "== Pretraining"), ("demo", "== What it learnt"))


def checkout_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    return [f for f in listed if (REPO / f).is_file()]


def copy_checkout(target: Path) -> None:
    for name in checkout_files():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target / name)


def run_main_job(workdir: Path, env: dict[str, str]) -> tuple[dict[str, float], str]:
    """Runs the script; returns seconds per phase and everything it printed."""
    start = time.monotonic()
    marks = {"install": start}
    lines = []
    proc = subprocess.Popen(["bash", "scripts/main_job.sh"], cwd=workdir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        sys.stdout.write(line)
        lines.append(line)
        for phase, marker in PHASES:
            if marker and line.startswith(marker):
                marks[phase] = time.monotonic()
    if proc.wait() != 0:
        raise SystemExit(f"main_job.sh failed with exit code {proc.returncode}")
    end = time.monotonic()
    names = [p for p, _ in PHASES if p in marks]
    times = {p: (marks[names[i + 1]] if i + 1 < len(names) else end) - marks[p] for i, p in enumerate(names)}
    times["total"] = end - start
    return times, "".join(lines)


def parse_results(output: str) -> dict[str, str]:
    out = {}
    if m := re.search(r"loss first ([\d.]+) last ([\d.]+)(?: \(validation ([\d.]+)\))?", output):
        out["train loss first / last"] = f"{m.group(1)} / {m.group(2)}"
        out["validation loss"] = m.group(3) or "n/a"
    if m := re.search(r"steps (\d+) -> (\d+)", output):
        out["steps"] = f"{m.group(1)} -> {m.group(2)}"
    if m := re.search(r"throughput ([\d,]+) tokens/s, ([\d.]+) s/step", output):
        out["throughput"] = f"{m.group(1)} tokens/s, {m.group(2)} s/step"
    if m := re.search(r"Demo numbers: (\{.*\})", output):
        numbers = json.loads(m.group(1))
        out["denoising similarity (copy baseline, margin)"] = (
            f"{numbers['denoise_similarity']}% ({numbers['copy_similarity']}%, {numbers['denoise_margin']:+})")
        out["CLM continuations in the prompt's language"] = f"{numbers['clm_language_match']}%"
        out["few-shot: prompt's language / asked intent"] = (
            f"{numbers['fewshot_language_match']}% / {numbers['fewshot_intent_match']}%")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reuse_venv", action="store_true", help="use this checkout's .venv (no install timed)")
    parser.add_argument("--installer", choices=("uv", "pip"), default="uv")
    parser.add_argument("--keep", action="store_true", help="keep the temporary checkout (its runs/ and .venv)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="alexatm_main_job_"))
    copy_checkout(workdir)
    env = dict(os.environ, INSTALLER=args.installer)
    cache = Path(tempfile.mkdtemp(prefix="alexatm_installer_cache_"))
    env.update(UV_CACHE_DIR=str(cache / "uv"), PIP_CACHE_DIR=str(cache / "pip"))  # cold, as on a fresh machine
    if args.reuse_venv:
        # The copy's install step must find the venv up to date (else it would point the venv at the copy).
        stamp = REPO / ".venv" / ".alexatm_jax_installed"
        with open(REPO / "pyproject.toml") as f:
            want = subprocess.run(["cksum"], stdin=f, capture_output=True, text=True).stdout.strip()
        if not stamp.is_file() or not stamp.read_text().startswith(want):
            raise SystemExit("--reuse_venv: .venv is not installed from this pyproject.toml; run "
                             "bash scripts/setup_env.sh first.")
        env["VENV"] = str(REPO / ".venv")
    load_before = os.getloadavg()
    try:
        times, output = run_main_job(workdir, env)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    load_after = os.getloadavg()

    rows = [(f"{phase} (s)", f"{seconds:.0f}") for phase, seconds in times.items()]
    rows += list(parse_results(output).items())
    rows.append(("load average before / after (1 min)", f"{load_before[0]:.1f} / {load_after[0]:.1f}"))
    rows.append(("installer", "reused .venv" if args.reuse_venv else args.installer))
    width = max(len(k) for k, _ in rows)
    print(f"\n| {'main job':<{width}} | value |\n|{'-' * (width + 2)}|-------|")
    for key, value in rows:
        print(f"| {key:<{width}} | {value} |")


if __name__ == "__main__":
    main()
