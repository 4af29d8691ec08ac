#!/usr/bin/env bash
# Creates (or reuses) the project's virtual environment at $VENV (default .venv) and installs the project
# (editable) with its data and test extras, quietly. Safe to run again: it reinstalls only when pyproject.toml
# changed since the last install (a stamp in the venv records its hash).
#
#   VENV=/path/to/venv PYTHON=python3.11 EXTRAS=data,test,notebooks bash scripts/setup_env.sh
#   INSTALLER=pip bash scripts/setup_env.sh     # pip instead of uv
#   PIP_VERBOSE=1 bash scripts/setup_env.sh     # the installer's full output, for debugging an install
#
# The packages are installed by uv (itself installed into the venv by pip) when the package index is reachable
# for it: uv installs the ~100 packages (TensorFlow alone unpacks to 1.9 GB) in 1.5 minutes where pip takes 4-8
# on the same 2-core machine (benchmarks/RESULTS.md). pip does the install when uv cannot (INSTALLER=pip forces it).
set -euo pipefail
REPO="$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"  # -P: the checkout, also through a symlinked scripts/
VENV="${VENV:-$REPO/.venv}"
PYTHON="${PYTHON:-python3}"
EXTRAS="${EXTRAS:-data,test}"
INSTALLER="${INSTALLER:-uv}"
STAMP="$VENV/.alexatm_jax_installed"

# Installer noise that says nothing about this install is dropped: setuptools' notice for every editable install
# ("Editable installation. Please be careful with folders in your working directory...", silenced by its warning
# message in the build backend), "WARNING: Location '...' is ignored" for each package that a machine's extra
# index or find-links directory (pip.conf, not this project) lacks, and uv's line per installed package. Other
# warnings and all errors still print.
export PYTHONWARNINGS="ignore:Editable installation"
drop_noise() {
  grep -v -E "^WARNING: Location '.*' is ignored|^ [-+~] [A-Za-z0-9_.-]+==|^ +(Building|Built) " >&2 || true
}

pip_quietly() {
  if [[ -n "${PIP_VERBOSE:-}" ]]; then
    "$VENV/bin/python" -m pip --disable-pip-version-check "$@"
  else
    "$VENV/bin/python" -m pip --quiet --disable-pip-version-check "$@" 2>&1 | drop_noise
  fi
}

install_with_uv() {
  pip_quietly install "uv>=0.5" || return 1
  if [[ -n "${PIP_VERBOSE:-}" ]]; then
    "$VENV/bin/uv" pip install --python "$VENV/bin/python" "$@"
  else
    # What is left: "Resolved / Prepared / Installed N packages in T".
    "$VENV/bin/uv" pip install --python "$VENV/bin/python" "$@" 2>&1 | drop_noise
  fi
}

if [[ ! -x "$VENV/bin/python" ]]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
    echo "error: alexatm-jax needs Python >= 3.10; $PYTHON is $("$PYTHON" --version 2>&1). Set PYTHON=python3.11." >&2
    exit 2
  }
  echo "Creating virtual environment in $VENV"
  "$PYTHON" -m venv "$VENV"
  pip_quietly install --upgrade pip
fi
WANT="$(cksum < "$REPO/pyproject.toml") $EXTRAS"
if [[ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]]; then
  echo "Installing alexatm-jax[$EXTRAS] and its dependencies into $VENV (a few minutes on a fresh machine)"
  rm -f "$STAMP"
  if [[ "$INSTALLER" != uv ]] || ! install_with_uv -e "$REPO[$EXTRAS]"; then
    [[ "$INSTALLER" == uv ]] && echo "uv could not install; installing with pip instead"
    pip_quietly install -e "$REPO[$EXTRAS]"
  fi
  echo "$WANT" > "$STAMP"
fi
