#!/usr/bin/env bash
# Runs scripts/engine/blas_bits.py in a git-ignored venv (scripts/engine/.venv) with numpy and
# PyPI's scipy-openblas32; see the script for what it checks.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=$HERE/.venv
if ! "$VENV/bin/python" -c "import numpy, scipy_openblas32" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q numpy scipy-openblas32
fi
exec "$VENV/bin/python" "$HERE/blas_bits.py" "$@"
