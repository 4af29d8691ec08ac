#!/usr/bin/env bash
# The README's main job: on a fresh machine, set up the environment, pretrain the tiny AlexaTM model on the
# embedded multilingual corpus (80% denoising / 20% causal LM, gin-configured, a few minutes on 2 CPU cores),
# then show what it learnt on held-out sentences: denoising reconstructions, CLM continuations, few-shot
# intent generation, each with a number.
#
#   bash scripts/main_job.sh                               # MODEL_DIR runs/default_tiny (inside the checkout)
#   bash scripts/main_job.sh MODEL_DIR [--gin.X=... ...]   # another MODEL_DIR (relative to where you are)
#   bash scripts/main_job.sh runs/default_tiny --gin.TRAIN_STEPS=2000   # train on from the last checkpoint
#
# Running it again with the same MODEL_DIR resumes from the latest checkpoint, or, when TRAIN_STEPS is already
# reached, only shows the demo. Add --verbosity=1 to see library logs.
set -euo pipefail
REPO="$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"  # -P: the checkout, also through a symlinked scripts/
if [[ $# -ge 1 && "$1" != --* ]]; then
  MODEL_DIR="$1"  # as given: the commands resolve it against this working directory
  shift
else
  cd "$REPO"
  MODEL_DIR="runs/default_tiny"
fi
VERBOSITY=()
for arg in "$@"; do
  [[ "$arg" == --verbosity=* || "$arg" == -v=* ]] && VERBOSITY=("$arg")
done

bash "$REPO/scripts/setup_env.sh"
PY="${VENV:-$REPO/.venv}/bin/python"

echo "== Pretraining the tiny model into $MODEL_DIR"
"$PY" -m alexatm_jax.train --gin_file=gin/experiments/default_tiny.gin --gin.MODEL_DIR="'$MODEL_DIR'" "$@"
echo "== What it learnt (held-out sentences)"
"$PY" -m alexatm_jax.demo --checkpoint="$MODEL_DIR" ${VERBOSITY[@]+"${VERBOSITY[@]}"}
