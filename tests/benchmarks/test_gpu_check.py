"""benchmarks/gpu_check.py: rows fail soft and respect the time budget, nothing GPU machines lack is imported, and
`bash benchmarks/gpu_check.sh --smoke` prints the whole table on a CPU (numbers meaningless there)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "gpu_check.py"


@pytest.fixture(scope="module")
def check():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (dataclasses look their module up there)
    spec.loader.exec_module(module)
    return module


def test_a_failing_row_prints_its_error_and_the_table_goes_on(check, capsys):
    def fails():
        raise RuntimeError("cuDNN is not detected.\nsecond line")

    planned = [check.Planned("enc self S=512 B=32", "cudnn", fails),
               check.Planned("enc self S=512 B=32", "xla", lambda: check.Row("attention", "enc", "xla", ms="1.0"))]
    rows = check.run_section("attention", iter(planned), budget_s=60, end=time.monotonic() + 60)
    assert [r.status for r in rows] == ["error: RuntimeError: cuDNN is not detected.", "ok"]
    assert (rows[0].case, rows[0].impl) == ("enc self S=512 B=32", "cudnn")
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 2 and "cuDNN is not detected." in printed[0] and "second line" not in printed[0]


def test_rows_after_the_budget_are_skipped_not_run(check):
    ran = []
    planned = [check.Planned(f"case {i}", "", lambda i=i: ran.append(i) or check.Row("train", f"case {i}"))
               for i in range(3)]
    rows = check.run_section("train", iter(planned), budget_s=-1, end=time.monotonic() + 60)
    assert ran == [] and all(r.status.startswith("skipped") and "--only train" in r.status for r in rows)
    assert [r.case for r in rows] == ["case 0", "case 1", "case 2"]


def test_imports_nothing_the_gpu_machines_lack():
    script = textwrap.dedent(f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("gpu_check", {str(SCRIPT)!r})
        module = importlib.util.module_from_spec(spec)
        sys.modules["gpu_check"] = module
        spec.loader.exec_module(module)
        print(sorted(m for m in ("tensorflow", "seqio", "gin", "tensorflow_datasets") if m in sys.modules))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "JAX_PLATFORMS": "cpu"}, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.slow
def test_smoke_run_prints_every_section(tmp_path):
    """`bash benchmarks/gpu_check.sh --smoke` from another directory: decode, attention and train rows; on a CPU
    the cuDNN and Mosaic GPU rows fail soft and every other row runs."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHON": sys.executable,
           "XLA_FLAGS": "--xla_backend_optimization_level=0"}
    done = subprocess.run(["bash", str(REPO / "benchmarks" / "gpu_check.sh"), "--smoke", "--json", "rows.json"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1500, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout.splitlines()
    assert out[-1].endswith("imported none of ['tensorflow', 'seqio', 'gin']"), out[-1]
    rows = json.loads((tmp_path / "rows.json").read_text())
    by_section = {name: [r for r in rows if r["section"] == name] for name in ("decode", "attention", "train")}
    assert len(by_section["decode"]) == 5 and len(by_section["attention"]) == 12
    assert [r["impl"] for r in by_section["train"]] == ["remat none", "remat minimal", "remat full"]
    for r in rows:
        if r["impl"] == "cudnn":
            assert r["status"].startswith("error: RuntimeError: cuDNN is not detected"), r
        elif r["impl"] == "pallas-mosaic":
            assert r["status"].startswith("error: ValueError: backend='mosaic_gpu' compiles for Hopper"), r
        else:
            assert r["status"] == "ok" or r["status"].startswith("ok err"), r
    assert all(r["data"]["rel_err"] < 1e-2 for r in by_section["attention"] if r["impl"] in ("pallas", "xla"))
    assert sum(line.startswith(("decode ", "attention ", "train ")) for line in out) == 20
