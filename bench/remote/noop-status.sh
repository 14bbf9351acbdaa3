#!/usr/bin/env bash
# A no-op push and `status -c` of N small files (1-64 KiB, seeded) on a local SeaweedFS
# (scripts/s3-test-server): one push, then REPS timed rounds of each.
#
#   bench/remote/noop-status.sh [N=20000] [REPS=5] [MLV=.build/release/mlv]
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
N="${1:-20000}"; REPS="${2:-5}"; MLV="$(realpath "${3:-$here/.build/release/mlv}")"
work="$(mktemp -d /tmp/mlv-bench-noop-XXXXXX)"
trap '"$here/scripts/s3-test-server" stop "$work/s3"; rm -rf "$work"' EXIT
"$here/scripts/s3-test-server" start "$work/s3" --owner $$ bench >/dev/null
. "$work/s3/env"; export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION=us-east-1
python3 - "$work/ws/data" "$N" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2]); rng = random.Random(42)
for i in range(n):
    d = os.path.join(root, f"d{i % 40:02d}"); os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:05d}.bin"), "wb") as f: f.write(rng.randbytes(rng.randint(1024, 65536)))
PY
cd "$work/ws"
"$MLV" init --no-git >/dev/null
"$MLV" add data >/dev/null
"$MLV" remote add -d s3 "s3://bench/p" >/dev/null
"$MLV" remote modify s3 endpoint_url "$S3_ENDPOINT"
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); python3 -c "print(f'{$e-$s:.3f}')"; }
echo "push $(t "$MLV" push) s ($N files)"
for _ in $(seq "$REPS"); do echo "no-op push $(t "$MLV" push) s, status -c $(t "$MLV" status -c) s"; done
