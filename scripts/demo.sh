#!/usr/bin/env bash
# The demo job (until the pipeline demo replaces it): a throwaway git repo made an mlv
# workspace, data generated and added, its status shown, a change detected and rolled back.
set -euo pipefail
mlv=${1:?usage: demo.sh PATH_TO_MLV}
work=$(mktemp -d "${TMPDIR:-/tmp}/mlv-demo-XXXXXX")
trap 'rm -rf "$work"' EXIT
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

"$mlv" doctor
cd "$work"
git init -q .
git config user.name "mlv demo"
git config user.email "demo@example.invalid"
step mlv init;  "$mlv" init
python3 - <<'PY'
import os, random
r = random.Random(7)
for c in ("cats", "dogs"):
    os.makedirs(f"data/images/{c}", exist_ok=True)
    for i in range(200):
        open(f"data/images/{c}/{i:03d}.bin", "wb").write(r.randbytes(r.randint(1024, 8192)))
open("data/labels.csv", "w").write("".join(f"{i},{r.choice(['cat','dog'])}\n" for i in range(400)))
PY
step mlv add data/images data/labels.csv -m "Track the dataset"
"$mlv" add data/images data/labels.csv -m "Track the dataset"
step git log --stat --format=%s; git log --stat --format=%s | cat
step cat data/images.mlv; cat data/images.mlv
step mlv status; "$mlv" status
echo "tampered" >> data/images/cats/000.bin; rm data/images/dogs/199.bin; echo "new" > data/images/dogs/new.bin
step "mlv status   # after editing one image, deleting one, adding one"; "$mlv" status
step "mlv status --check   # exits 1 for CI"; "$mlv" status --check || echo "(exit $?)"
step mlv checkout --force; "$mlv" checkout --force
step mlv status; "$mlv" status
step mlv cache verify; "$mlv" cache verify
