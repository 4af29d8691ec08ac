#!/usr/bin/env bash
# The README's test command: set up the environment, lint, run the test suite, then the parity tests
# against the official PyTorch release in a separate virtual environment (so the main install has no torch).
#
#   bash scripts/run_tests.sh          # default suite (slow tests skipped) + official parity
#   bash scripts/run_tests.sh --all    # also the slow tests (end-to-end runs, multi-process, kill -9 resume)
set -euo pipefail
REPO="$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"  # -P: the checkout, also through a symlinked scripts/
cd "$REPO"
bash scripts/setup_env.sh
VENV="${VENV:-$REPO/.venv}"
PY="$VENV/bin/python"

MARKERS="not official and not slow and not gpu"
if [[ "${1:-}" == "--all" ]]; then
  MARKERS="not official and not gpu"
fi

echo "== ruff"
"$VENV/bin/ruff" check .
echo "== pytest -m \"$MARKERS\""
JAX_PLATFORMS=cpu "$PY" -m pytest -q -m "$MARKERS" --durations=15 tests
echo "== official parity (reference venv with the PyTorch release)"
bash .ci/run_official_parity.sh "$PY" -q
