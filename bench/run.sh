#!/usr/bin/env bash
# `make bench` (after `make release`): the workspace benchmark, mlv vs DVC vs the machine's floor;
# the pipeline benchmark (mlv vs DVC); the remote benchmark (mlv vs s5cmd on SeaweedFS); then the
# engine benchmark (mlv vs PyTorch). See bench/README.md.
#   MLV_BENCH_SCALE=small|full   workload size (default small; the issue's targets are at full)
#   MLV_BENCH_REPS=N             reps per tool and scenario (default 3, at least 3)
#   MLV=/path/to/mlv             binary to measure (default .build/release/mlv)
#   MLV_BENCH_ONLY=a,b           run only these scenarios (no results file is written)
set -euo pipefail
cd "$(dirname "$0")/.."

export MLV_BENCH_SCALE="${MLV_BENCH_SCALE:-small}"
export MLV_BENCH_REPS="${MLV_BENCH_REPS:-3}"
export MLV="${MLV:-$PWD/.build/release/mlv}"
DVC_VERSION=3.67.1   # the peer measured in ../shared/ANCHORS.md; never a dependency of mlv

if [ ! -x "$MLV" ]; then
  echo "bench: no mlv binary at $MLV (run: make bench, or swift build -c release)" >&2
  exit 1
fi
for tool in git openssl python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done

# The peer, in its own venv (git-ignored).
if [ ! -x bench/venv/bin/dvc ]; then
  echo "==> creating bench/venv with dvc $DVC_VERSION"
  python3 -m venv bench/venv
  bench/venv/bin/pip install -q "dvc==$DVC_VERSION"
fi
export DVC="$PWD/bench/venv/bin/dvc"

bench/venv/bin/python bench/workspace.py

bench/venv/bin/python bench/pipeline.py

if [ -x bench/remote/small-files.sh ]; then
  bash bench/remote/small-files.sh 2000 "$MLV_BENCH_REPS"
fi

if [ -x bench/engine/run.sh ]; then
  bash bench/engine/run.sh
fi
