#!/usr/bin/env bash
# The engine benchmark (called by `make bench`): mlv vs PyTorch on CPU, alternately in one run,
# plus the Fashion-MNIST accuracy run when ENGINE_FMNIST=1 (Debian's dataset-fashion-mnist,
# installed when missing; about 10 minutes). Writes bench/results/engine.md (and engine-fmnist.md).
# Arguments go to bench.py, e.g. --reps 5 or --threads 1.
# PyTorch, numpy and safetensors go into bench/venv (never dependencies of mlv).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
MLV=${MLV:-$ROOT/.build/release/mlv}
[ -x "$MLV" ] || swift build -c release
VENV=$ROOT/bench/venv
if ! "$VENV/bin/python" -c "import torch, safetensors" 2>/dev/null; then
  python3 -m venv "$VENV"
  # A CPU-only torch wheel from the local wheel folder (PIP_FIND_LINKS) when there is one, else
  # PyPI's, which pulls the CUDA libraries (several GB).
  local_torch=$(ls "${PIP_FIND_LINKS:-/nonexistent}"/torch-*cpu*.whl 2>/dev/null | head -1 || true)
  "$VENV/bin/pip" install -q ${local_torch:-torch} safetensors numpy
fi
mkdir -p bench/results bench/work/engine
"$VENV/bin/python" bench/engine/bench.py --mlv "$MLV" --work bench/work/engine --out bench/results/engine.md "$@"
if [ "${ENGINE_FMNIST:-0}" = 1 ]; then
  if [ ! -d /usr/share/datasets/fashion-mnist ]; then
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dataset-fashion-mnist
  fi
  "$VENV/bin/python" bench/engine/fashion_mnist.py --mlv "$MLV" --work bench/work/engine/fmnist --out bench/results/engine-fmnist.md
fi
