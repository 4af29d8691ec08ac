#!/usr/bin/env bash
# Creates (or reuses) the project's virtual environment at $VENV (default .venv) and installs the project
# with its data, evaluation and test extras. Safe to run again: it only installs what is missing.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$REPO/.venv}"
PYTHON="${PYTHON:-python3}"

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "Creating virtual environment in $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
fi
if ! "$VENV/bin/python" -c "import alexatm_jax, seqio, gin, clu" > /dev/null 2>&1; then
  echo "Installing alexatm-jax and its dependencies (about two minutes on a fresh machine)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$REPO[data,test]"
fi
