"""benchmarks/step_profile.py: op names are grouped as documented, and the command prints both tables."""

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_op_kinds_and_sources(load_benchmark, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))  # the script imports its sibling train_step
    bench = load_benchmark("step_profile")
    assert bench.op_kind("ynn_fusion.130") == "GEMM (YNNPACK)"
    assert bench.op_kind("dot.24") == "GEMM (plain dot)"
    assert bench.op_kind("bitcast_dynamic-update-slice_fusion.2") == "scan stacking (dynamic slices)"
    assert bench.op_kind("wrapped_broadcast.19") == "broadcasts"
    assert bench.op_kind("transpose_copy_fusion") == "copies and transposes"
    assert bench.op_kind("and_reduce_fusion.2") == "reductions"
    assert bench.op_kind("subtract_exponential_fusion") == "other fused elementwise"
    assert bench.CONTAINER_OPS.match("while.6") and not bench.CONTAINER_OPS.match("while_body_fusion")
    hlo = ('  %ynn_fusion.7 = f32[4,8]{1,0} fusion(%a, %b), kind=kCustom, calls=%f, '
           'metadata={op_name="jit(_train_step)/decode/dot_general" stack_frame_id=3}')
    assert bench.op_sources(hlo) == {"ynn_fusion.7": "jit(_train_step)/decode/dot_general"}


def test_the_command_prints_kinds_and_slowest_ops():
    proc = subprocess.run(
        [sys.executable, "benchmarks/step_profile.py", "--gin_file=gin/models/alexatm_tiny.gin", "--batch_size=2",
         "--encoder_length=8", "--decoder_length=8", "--steps=2", "--warmup=1", "--top=5"],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "| kind | ms_per_step | share | ops_per_step |" in out and "| op | kind | ms_per_step | source |" in out
    gemm = re.search(r"^\| GEMM \(YNNPACK\) \| ([\d.e+-]+) \|", out, re.M)
    assert gemm and float(gemm.group(1)) > 0, out
    assert len(re.findall(r"^\| [\w.-]+ \| [^|]+ \| [\d.e+-]+ \| .+ \|$", out, re.M)) >= 5, out
