#!/usr/bin/env bash
# The demo job: a throwaway workspace, some data added, its status shown.
set -euo pipefail
mlv=${1:?usage: demo.sh PATH_TO_MLV}
work=$(mktemp -d "${TMPDIR:-/tmp}/mlv-demo-XXXXXX")
trap 'rm -rf "$work"' EXIT
"$mlv" doctor
echo "==> demo workspace: $work"
cd "$work"
git init -q .
"$mlv" version
