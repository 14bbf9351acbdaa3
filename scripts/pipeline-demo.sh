#!/usr/bin/env bash
# The pipeline demo: a throwaway git repo whose pipeline.yaml generates an image dataset, trains
# the built-in conv net on it and evaluates it; then the things a user does with a pipeline:
# repro, a no-op repro, a param change, --check for CI, params/metrics diff, plots, the DAG.
set -euo pipefail
mlv=$(cd "$(dirname "${1:?usage: pipeline-demo.sh PATH_TO_MLV}")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/mlv-pipeline-demo-XXXXXX")
trap 'rm -rf "$work"' EXIT
export PATH="$(dirname "$mlv"):$PATH"   # stages call `mlv train` and `mlv evaluate`
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

cd "$work"
git init -q .
git config user.name "mlv demo"
git config user.email "demo@example.invalid"
mlv init >/dev/null
mkdir gen && cp "$here/engine/synthetic_dataset.py" "$here/engine/pngio.py" gen/
cat > params.yaml <<'YAML'
data:
  classes: 3
  per_class: 40
  seed: 1
train:
  image_size: 32
  input_channels: 3
  conv_filters: [8, 16]
  fc_sizes: [32]
  dropout_rates: [0.1, 0.1]
  learning_rate: 0.003
  batch_size: 16
  num_epochs: 4
  early_stopping_patience: 3
  random_seed: 42
YAML
cat > pipeline.yaml <<'YAML'
stages:
  generate:
    cmd: python3 gen/synthetic_dataset.py data/images --classes ${data.classes} --per-class ${data.per_class} --size ${train.image_size} --seed ${data.seed}
    deps: [gen/synthetic_dataset.py, gen/pngio.py]
    params: [data, train.image_size]
    outs: [data/images]
  train:
    cmd: mlv train --data data/images --out model --threads 2
    deps: [data/images]
    params: [train]
    outs: [model/model.safetensors]
    metrics: [{model/metrics.json: {cache: false}}]
    plots:
    - model/history.csv: {x: epoch, y: [train_loss, val_loss], title: Loss, cache: false}
  evaluate:
    cmd: mlv evaluate --model model/model.safetensors --data data/images --split val --out eval.json --threads 2
    deps: [model/model.safetensors, data/images]
    metrics: [{eval.json: {cache: false}}]
YAML
git add -A && git commit -qm "A pipeline" >/dev/null

step mlv dag; mlv dag
step mlv repro -m '"Train the first model"'; mlv repro -m "Train the first model"
step "mlv repro   # nothing changed"; mlv repro
step cat pipeline.lock; sed -n 1,24p pipeline.lock; echo "  …"
step "sed -i 's/learning_rate: 0.003/learning_rate: 0.01/' params.yaml"; sed -i 's/learning_rate: 0.003/learning_rate: 0.01/' params.yaml
step "mlv repro --check   # for CI: exit 1 and why"; mlv repro --check || echo "(exit $?)"
step mlv params diff; mlv params diff
step mlv repro; mlv repro
step mlv metrics diff; mlv metrics diff
step mlv plots diff; mlv plots diff
step "sed -i 's/learning_rate: 0.01/learning_rate: 0.003/' params.yaml && mlv repro   # back: restored from the run-cache, nothing retrained"
sed -i 's/learning_rate: 0.01/learning_rate: 0.003/' params.yaml && mlv repro
step mlv status; mlv status
