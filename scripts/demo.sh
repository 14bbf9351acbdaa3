#!/usr/bin/env bash
# `make demo`: the repository's own pipeline (pipeline.yaml) reproduced with the mlv just built:
# a synthetic X-ray dataset generated, split, validated, a conv net trained and evaluated; then
# the metrics, the plots page and a push of every output to the default remote, a local folder.
# A second run finds nothing stale and is done in seconds. Downloads nothing; starts nothing.
set -euo pipefail
mlv_bin=${1:?usage: demo.sh PATH_TO_MLV}
cd "$(dirname "$0")/.."
export PATH="$(cd "$(dirname "$mlv_bin")" && pwd):$PATH"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step mlv doctor; mlv doctor
step mlv dag; mlv dag
step mlv repro; time mlv repro
step mlv metrics show; mlv metrics show
step mlv plots show; mlv plots show
step mlv push; mlv push
step mlv status; mlv status
step mlv repro --check; mlv repro --check
