#!/usr/bin/env bash
# Parity tests against the official PyTorch release (pytest -m official), in a fresh reference venv: logits and
# checkpoint conversion, greedy decoding from token ids and from string prompts, and the official tokenizer's ids.
#
# Usage: .ci/run_official_parity.sh MAIN_VENV_PYTHON [extra pytest args]
#   MAIN_VENV_PYTHON: python of the main (JAX) venv; the tests run the converter and our model with it.
#   REF_VENV=DIR      reuse (or create and keep) the reference venv at DIR instead of a temporary one.
set -euo pipefail

if [[ $# -lt 1 || ! -x "$1" ]]; then
  echo "usage: $0 MAIN_VENV_PYTHON [pytest args]  (e.g. $0 /work/venv/bin/python)" >&2
  exit 2
fi
MAIN_PYTHON="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
shift
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [[ -n "${REF_VENV:-}" ]]; then
  VENV="$REF_VENV"
else
  TMP="$(mktemp -d)"
  trap 'rm -rf "$TMP"' EXIT
  VENV="$TMP/venv"
fi

# pip's "WARNING: Location '...' is ignored" for each package a machine's extra index (pip.conf, not this project)
# lacks says nothing about this install; other warnings and all errors still print (as in scripts/setup_env.sh).
pip_install() {
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$@" 2>&1 \
    | { grep -v -E "^WARNING: Location '.*' is ignored" >&2 || true; }
  return "${PIPESTATUS[0]}"
}

if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV"
  PIP=(pip_install)
  # The CPU wheel of torch lies on local disk on the project's machines; an index would offer the CUDA one.
  if compgen -G "/opt/wheels/torch-2.13.0*.whl" > /dev/null; then
    "${PIP[@]}" --no-deps --no-index --find-links /opt/wheels torch==2.13.0
  fi
  # protobuf 3.20: newer releases break transformers 4.29's slow-to-fast tokenizer conversion (docs/STACK.md);
  # regex: the project's official tokenization reads grapheme clusters with it.
  "${PIP[@]}" torch==2.13.0 transformers==4.29.2 protobuf==3.20.3 safetensors sentencepiece regex numpy pytest
  # Its declared deps (torch<2) would pull a 2 GB CUDA torch 1.13.
  "${PIP[@]}" --no-deps alexa-teacher-models==1.0.1
fi

cd "$REPO"
# --noconftest: tests/conftest.py imports JAX, which the reference venv does not have.
ALEXATM_JAX_PYTHON="$MAIN_PYTHON" "$VENV/bin/python" -m pytest --noconftest -p no:cacheprovider -m official \
  tests/alexatm_jax/test_official_parity.py tests/alexatm_jax/test_official_decoding.py \
  tests/tasks/test_official_tokenizer_parity.py "$@"
