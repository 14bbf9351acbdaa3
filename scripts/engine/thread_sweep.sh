#!/usr/bin/env bash
# Trains the same data and params with --threads 1..N and prints, per thread count, the SHA-256
# of model.safetensors, metrics.json and history.csv, then whether all runs agree.
# Meant for a machine with many cores (copy a stripped release binary with its shared libraries
# and a small dataset there); everything else it needs is written to a temporary folder.
#
# usage: scripts/engine/thread_sweep.sh MLV_BINARY DATA_DIR [MAX_THREADS] [PARAMS_YAML]
#   MAX_THREADS defaults to the number of CPUs; PARAMS_YAML to a small 48x48x3 net, 3 epochs.
#   Extra env: SWEEP_THREADS="1 2 3 7 16" picks the counts instead.
# Exit 0 when every run gave the same three files, 1 otherwise.
set -euo pipefail
MLV=${1:?usage: thread_sweep.sh MLV_BINARY DATA_DIR [MAX_THREADS] [PARAMS_YAML]}
DATA=${2:?usage: thread_sweep.sh MLV_BINARY DATA_DIR [MAX_THREADS] [PARAMS_YAML]}
MAX=${3:-$(nproc)}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PARAMS=${4:-$WORK/params.yaml}
if [ -z "${4:-}" ]; then
  cat >"$PARAMS" <<'YAML'
train:
  image_size: 48
  input_channels: 3
  conv_filters: [16, 32, 64]
  dropout_rates: [0.25, 0.25, 0.3]
  fc_sizes: [128, 64]
  batch_size: 32
  num_epochs: 3
  random_seed: 42
YAML
fi
echo "host: $(uname -n), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
"$MLV" doctor 2>/dev/null | grep -E '^(mlv|OpenBLAS|engine) ' || true
printf '%-8s %-64s  %-64s  %s\n' threads model.safetensors metrics.json history.csv
first=""
status=0
for t in ${SWEEP_THREADS:-$(seq 1 "$MAX")}; do
  out=$WORK/out-$t
  "$MLV" train --params "$PARAMS" --data "$DATA" --out "$out" --threads "$t" >"$WORK/log-$t" 2>&1 || {
    echo "threads $t: train failed:"; cat "$WORK/log-$t"; exit 2; }
  line=$(cd "$out" && sha256sum model.safetensors metrics.json history.csv | awk '{printf "%s  ", $1}')
  printf '%-8s %s\n' "$t" "$line"
  if [ -z "$first" ]; then first=$line; elif [ "$line" != "$first" ]; then status=1; fi
done
if [ $status = 0 ]; then echo "all thread counts gave identical bytes"; else echo "DIFFERENT bytes between thread counts"; fi
exit $status
