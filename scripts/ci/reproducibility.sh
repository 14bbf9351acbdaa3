#!/usr/bin/env bash
# Git-driven reproducibility, as a CI job for any commit runs it (`make test` runs this after the
# unit and end-to-end tests). Usage: scripts/ci/reproducibility.sh PATH_TO_MLV
#
#   1. A fresh clone of HEAD runs `mlv repro --force` on ONE CPU (the committed lock was made on
#      another count): every hash in pipeline.lock, the trained model included, must come out
#      identical, and `mlv repro --check` and `mlv status --check` must pass; `mlv repro --verify`
#      reruns every stage in a scratch copy and reports per stage.
#   2. That clone pushes to a real S3 server (SeaweedFS on loopback, SigV4 checked); a second
#      fresh clone pulls, and its outputs match the lock with a clean status.
#   3. The check must fail when it should: one flipped byte in a committed hash is reported,
#      naming the stage and the file.
set -euo pipefail
mlv_bin=$(cd "$(dirname "${1:?usage: reproducibility.sh PATH_TO_MLV}")" && pwd)/$(basename "$1")
repo=$(cd "$(dirname "$0")/../.." && pwd)
export PATH="$(dirname "$mlv_bin"):$PATH"
work=$(mktemp -d "${TMPDIR:-/tmp}/mlv-ci-XXXXXX")
cleanup() { "$repo/scripts/s3-test-server" stop "$work/s3" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
step() { printf '\n==> %s\n' "$*"; }
fail() { echo "reproducibility: FAILED: $*" >&2; exit 1; }

step "1. fresh clone of $(git -C "$repo" rev-parse --short HEAD), mlv repro --force on one CPU"
git clone -q "$repo" "$work/a"
cd "$work/a"
one_cpu=()
if command -v taskset >/dev/null && taskset -c 0 true 2>/dev/null; then one_cpu=(taskset -c 0); fi
"${one_cpu[@]}" mlv repro --force
git diff --exit-code --stat -- pipeline.lock models reports || fail "the clone's outputs differ from what the commit recorded"
mlv repro --check || fail "repro --check after repro --force"
mlv status --check || fail "status --check after repro --force"
echo "every hash in pipeline.lock reproduced (${one_cpu[*]:-all CPUs}; the lock was made on another CPU count)"

step "1b. mlv repro --verify: every stage rerun in a scratch copy, compared stage by stage"
mlv repro --verify | grep -v '^epoch' || fail "repro --verify"

step "2. push to SeaweedFS, pull into a second fresh clone"
"$repo/scripts/s3-test-server" start "$work/s3" --owner $$ mlv-ci >/dev/null
# shellcheck disable=SC1091
source "$work/s3/env"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
remote() {
  mlv remote add --local -d ci "s3://mlv-ci/demo"
  mlv remote modify --local ci endpoint_url "$S3_ENDPOINT"
}
remote
mlv push -r ci
git clone -q "$repo" "$work/b"
cd "$work/b"
remote
mlv pull -r ci
mlv status --check || fail "status --check after pull"
mlv repro --check || fail "repro --check after pull"
want=$(sed -n '/^  train:/,/^  [a-z]/p' pipeline.lock | sed -n 's/.*sha256: \([0-9a-f]\{64\}\)$/\1/p' | tail -1)
have=$(sha256sum models/model.safetensors | cut -d' ' -f1)
[ "$want" = "$have" ] || fail "pulled model $have, lock says $want"
echo "pulled every output; model.safetensors $have as the lock says"

step "3. a flipped byte in a committed hash is caught"
cp pipeline.lock "$work/lock.orig"
python3 - <<'PY'
import re
text = open("pipeline.lock").read()
stage = text.index("\n  train:")
out = text.index("- path: models/model.safetensors", stage)
i = text.index("sha256: ", out) + len("sha256: ")
text = text[:i] + ("0" if text[i] != "0" else "1") + text[i + 1:]
open("pipeline.lock", "w").write(text)
PY
set +e
out=$(mlv repro --check 2>&1); rc=$?
set -e
echo "$out"
[ "$rc" -ne 0 ] || fail "repro --check passed with a tampered lock"
grep -q "train" <<<"$out" && grep -q "models/model.safetensors" <<<"$out" || fail "the message names neither the stage nor the file"
cp "$work/lock.orig" pipeline.lock
mlv repro --check >/dev/null || fail "repro --check after restoring the lock"
echo "reproducibility: all checks passed"
