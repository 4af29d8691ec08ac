#!/usr/bin/env bash
# One GPU check (issue 14), as run on the project's GPU machines: from a plain checkout (nothing installed beyond
# the jax, flax and optax those machines carry), from any working directory (relative paths such as --json's are
# the caller's). Arguments go to gpu_check.py, e.g.
#   bash benchmarks/gpu_check.sh                  # the whole check, one table, under 8 minutes on an H100/H200
#   bash benchmarks/gpu_check.sh --only train     # one section
#   bash benchmarks/gpu_check.sh --smoke          # tiny shapes on any machine
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"
# JAX takes 75% of GPU memory by default; the 8192-token XLA attention rows need more.
export XLA_PYTHON_CLIENT_MEM_FRACTION="${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.95}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"  # XLA's C++ logging: warnings and errors only
exec "${PYTHON:-python3}" "$repo/benchmarks/gpu_check.py" "$@"
