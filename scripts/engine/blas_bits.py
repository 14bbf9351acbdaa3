#!/usr/bin/env python3
"""Do two OpenBLAS builds give the same bits on the engine's GEMM tiles?

Runs every distinct sgemm call that mlv's engine makes (the conv layers' fixed tiles from
`Tiling` in Sources/MLVEngine/EngineRuntime.swift and the dense layers' whole products, with the
engine's layouts, transposes and leading dimensions) through Debian's OpenBLAS
(libopenblas.so.0) and through PyPI's scipy-openblas32 (a newer OpenBLAS, symbols prefixed
`scipy_`), both with OPENBLAS_CORETYPE=Haswell and ONE OpenBLAS thread, as the engine calls
them, and reports whether the output bits agree. For contrast it also runs Debian's OpenBLAS
with 2 threads on the same calls (what the engine did before it tiled the products itself).

usage: bash scripts/engine/blas_bits.sh            (makes the git-ignored venv, then runs this)
       python3 blas_bits.py [--batch 32]
Exit 0 when every tile agrees bit for bit, 1 otherwise.
"""
import argparse
import ctypes
import os
import re
import sys

os.environ["OPENBLAS_CORETYPE"] = "Haswell"  # read when each library loads
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy_openblas32  # noqa: E402

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112
HERE = os.path.dirname(os.path.abspath(__file__))
RUNTIME = os.path.join(HERE, "..", "..", "Sources", "MLVEngine", "EngineRuntime.swift")


def tiling():
    """Tiling.width from EngineRuntime.swift: about L/8 in multiples of 512, within [minimum, maximum]."""
    text = open(RUNTIME).read()
    lo = int(re.search(r"static let minimum = (\d+)", text).group(1))
    hi = int(re.search(r"static let maximum = (\d+)", text).group(1))
    return lambda L: min(max((L // 8 + 511) // 512 * 512, lo), hi)


class Blas:
    def __init__(self, path, prefix=""):
        self.lib = ctypes.CDLL(path, mode=ctypes.RTLD_LOCAL)
        self.sgemm = getattr(self.lib, prefix + "cblas_sgemm")
        self.sgemm.restype = None
        f, i, p = ctypes.c_float, ctypes.c_int, ctypes.c_void_p
        self.sgemm.argtypes = [i, i, i, i, i, i, f, p, i, p, i, f, p, i]
        self.set_threads = getattr(self.lib, prefix + "openblas_set_num_threads")
        self.set_threads.argtypes = [i]
        cfg = getattr(self.lib, prefix + "openblas_get_config")
        cfg.restype = ctypes.c_char_p
        core = getattr(self.lib, prefix + "openblas_get_corename")
        core.restype = ctypes.c_char_p
        self.config, self.core = cfg().decode(), core().decode()

    def call(self, c, ta, tb, m, n, k, a, aoff, lda, b, boff, ldb, coff, ldc):
        ptr = lambda arr, off: arr.ctypes.data + 4 * off  # noqa: E731
        self.sgemm(ROW_MAJOR, ta, tb, m, n, k, 1.0, ptr(a, aoff), lda, ptr(b, boff), ldb, 0.0, ptr(c, coff), ldc)


def engine_calls(size, channels, filters, fc, classes, batch, width):
    """(name, transA, transB, M, N, K, lda, ldb, ldc, a rows×cols, b rows×cols, c rows×cols, offset)
    for one full tile and the last tile of every tiled product, as Conv.swift and Dense.swift call them."""
    calls = []
    c, s = channels, size
    for i, oc in enumerate(filters):
        L, K = batch * s * s, c * 9
        columns = reduction = width(L)
        starts = sorted({0, ((L - 1) // columns) * columns})
        for c0 in starts:
            n = min(columns, L - c0)
            calls.append((f"conv{i+1} forward cols {c0}+{n}", NO_TRANS, NO_TRANS, oc, n, K, K, L, L, (oc, K), (K, L), (oc, L), c0))
            if i > 0:
                calls.append((f"conv{i+1} dinput cols {c0}+{n}", TRANS, NO_TRANS, K, n, oc, K, L, L, (oc, K), (oc, L), (K, L), c0))
        tiles = (L + reduction - 1) // reduction
        for c0 in sorted({0, (tiles - 1) * reduction}):
            n = min(reduction, L - c0) if tiles > 1 else L
            calls.append((f"conv{i+1} dweight sum {c0}+{n}", NO_TRANS, TRANS, oc, K, n, L, L, K, (oc, L), (K, L), (oc, K), c0))
        c, s = oc, s // 2
    inputs = c * s * s
    for j, o in enumerate(fc + [classes]):
        calls.append((f"fc{j+1} forward", NO_TRANS, TRANS, batch, o, inputs, inputs, inputs, o, (batch, inputs), (o, inputs), (batch, o), 0))
        calls.append((f"fc{j+1} dweight", TRANS, NO_TRANS, o, inputs, batch, o, inputs, inputs, (batch, o), (batch, inputs), (o, inputs), 0))
        if j > 0:
            calls.append((f"fc{j+1} dinput", NO_TRANS, NO_TRANS, batch, inputs, o, o, inputs, inputs, (batch, o), (o, inputs), (batch, inputs), 0))
        inputs = o
    return calls


def run(blas, call, a, b, threads):
    name, ta, tb, m, n, k, lda, ldb, ldc, _, _, cshape, c0 = call
    blas.set_threads(threads)
    c = np.zeros(cshape, dtype=np.float32)
    # Tiles start at column c0 of the (…, L) operands: the A operand of dweight, B of forward/dinput.
    aoff = c0 if name.split()[1] == "dweight" and name.startswith("conv") else 0
    boff = c0 if name.startswith("conv") else 0
    coff = c0 if name.startswith("conv") and "dweight" not in name else 0
    blas.call(c, ta, tb, m, n, k, a, aoff, lda, b, boff, ldb, coff, ldc)
    return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    width = tiling()
    debian = Blas("libopenblas.so.0")
    pypi = Blas(os.path.join(scipy_openblas32.get_lib_dir(), "lib" + scipy_openblas32.get_library() + ".so"), "scipy_")
    print(f"Debian: {debian.config} (kernels {debian.core})")
    print(f"PyPI scipy-openblas32: {pypi.config} (kernels {pypi.core})")
    print(f"tiles: Tiling.width(L) columns (and column sums) per call; batch {args.batch}")
    configs = [
        ("128x128x3 seed net", 128, 3, [16, 64, 128, 128], [128, 64], 3),
        ("28x28x1 seed net", 28, 1, [16, 64, 128, 128], [128, 64], 10),
        ("48x48x3 [16,32,64]", 48, 3, [16, 32, 64], [128, 64], 10),
        ("test net 24x24x3", 24, 3, [6, 12], [16], 3),
    ]
    rng = np.random.default_rng(0)
    seen, agree, total, threaded_differ = set(), 0, 0, 0
    for cname, size, ch, filters, fc, classes in configs:
        batch = 16 if cname.startswith("test") else args.batch
        for call in engine_calls(size, ch, filters, fc, classes, batch, width):
            key = call[1:]
            if key in seen:
                continue
            seen.add(key)
            a = rng.standard_normal(call[9], dtype=np.float32)
            b = rng.standard_normal(call[10], dtype=np.float32)
            one = run(debian, call, a, b, 1)
            other = run(pypi, call, a, b, 1)
            two = run(debian, call, a, b, 2)
            same = one.tobytes() == other.tobytes()
            agree += same
            total += 1
            threaded_differ += one.tobytes() != two.tobytes()
            diff = np.abs(one.astype(np.float64) - other.astype(np.float64)).max()
            print(f"{'same' if same else 'DIFF'}  {cname}: {call[0]} (M={call[3]} N={call[4]} K={call[5]})"
                  + ("" if same else f" max |diff| {diff:.3g}")
                  + ("" if one.tobytes() == two.tobytes() else "  [Debian 2 threads: other bits]"))
    print(f"\n{agree} of {total} distinct tile calls give identical bits in Debian's {debian.config.split()[1]} "
          f"and PyPI's {pypi.config.split()[1]} (1 thread, Haswell kernels); "
          f"{threaded_differ} of {total} give other bits with 2 OpenBLAS threads.")
    sys.exit(0 if agree == total else 1)


if __name__ == "__main__":
    main()
