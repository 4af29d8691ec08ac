#!/usr/bin/env bash
# The README's main job: on a fresh machine, set up the environment, pretrain the tiny AlexaTM model on the
# embedded multilingual corpus (80% denoising / 20% causal LM, gin-configured, a few hundred steps on CPU),
# then show what it learnt: denoising reconstructions, CLM continuations, few-shot intent generation.
#
#   bash scripts/main_job.sh [MODEL_DIR] [extra --gin.X=... flags for training]
# Running it again with the same MODEL_DIR resumes (or, at TRAIN_STEPS already, only shows the demo).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
bash scripts/setup_env.sh
PY="${VENV:-$REPO/.venv}/bin/python"
MODEL_DIR="${1:-runs/default_tiny}"
shift || true

echo "== Pretraining the tiny model into $MODEL_DIR"
"$PY" -m alexatm_jax.train --gin_file=gin/experiments/default_tiny.gin --gin.MODEL_DIR="'$MODEL_DIR'" "$@"
echo "== What it learnt (held-out sentences)"
"$PY" -m alexatm_jax.demo --checkpoint="$MODEL_DIR"
