#!/usr/bin/env python3
"""Two mlv binaries alternately (A, B, A, B, ...) on the engine benchmark's configs: training
and inference images/s at each thread count, medians and min-max. For before/after numbers on a
shared machine, where only alternating runs compare like with like.

usage: ab.py --a OLD_MLV --b NEW_MLV [--reps 3] [--threads 1,2] [--configs 128] [--work DIR]
Training img/s is the last of 2 epochs (as bench.py); inference is `mlv evaluate`'s forward
passes over the training split.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
SEED_FILTERS, SEED_DROPOUT = [16, 64, 128, 128], [0.25, 0.25, 0.3, 0.4]
CONFIGS = {  # as bench.py: size, channels, filters, classes, images per class
    "128": ("128x128x3, 4 blocks, 3 classes", 128, 3, SEED_FILTERS, 3, 134),
    "28": ("28x28x1, 4 blocks, 10 classes", 28, 1, SEED_FILTERS, 10, 400),
    "28s": ("28x28x1, 2 blocks (16, 64), 10 classes", 28, 1, SEED_FILTERS[:2], 10, 400),
}


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def rates(mlv, data, params, out, threads):
    s = run([mlv, "train", "--params", params, "--data", data, "--out", out, "--threads", str(threads)])
    train = float(re.findall(r"^epoch\s+\d+/\d+ .* ([\d.]+) img/s", s, re.M)[-1])
    e = run([mlv, "evaluate", "--model", os.path.join(out, "model.safetensors"), "--data", data,
             "--split", "train", "--threads", str(threads)])
    return train, float(re.search(r"\(([\d.]+) img/s, forward passes only\)", e).group(1))


def fmt(v):
    return f"{statistics.median(v):,.1f} ({min(v):,.1f}-{max(v):,.1f})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--configs", default="128")
    ap.add_argument("--work", default=os.path.join(ROOT, "bench", "work", "engine"))
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    print("| config | threads | train A | train B | B/A | infer A | infer B | B/A |")
    print("|---|---|---|---|---|---|---|---|")
    for key in a.configs.split(","):
        name, size, channels, filters, classes, per_class = CONFIGS[key]
        data = os.path.join(a.work, f"data-{size}-{channels}-{classes}")
        if not os.path.isdir(data):
            run([sys.executable, os.path.join(ROOT, "scripts", "engine", "synthetic_dataset.py"), data,
                 "--classes", str(classes), "--per-class", str(per_class), "--size", str(size),
                 "--channels", str(channels)])
        params = os.path.join(a.work, f"params-{size}-{len(filters)}.yaml")
        with open(params, "w") as f:
            f.write(f"train:\n  image_size: {size}\n  input_channels: {channels}\n  conv_filters: {filters}\n"
                    f"  dropout_rates: {SEED_DROPOUT[:len(filters)]}\n  fc_sizes: [128, 64]\n"
                    f"  batch_size: 32\n  num_epochs: 2\n  early_stopping_patience: 0\n")
        for threads in [int(t) for t in a.threads.split(",")]:
            r = {"a": ([], []), "b": ([], [])}
            for _ in range(a.reps):
                for which, mlv in (("a", a.a), ("b", a.b)):
                    t, i = rates(mlv, data, params, os.path.join(a.work, "out-ab"), threads)
                    r[which][0].append(t)
                    r[which][1].append(i)
                    print(f"  {name} {threads}t {which}: train {t:.1f} infer {i:.1f}", file=sys.stderr, flush=True)
            (ta, ia), (tb, ib) = r["a"], r["b"]
            print(f"| {name} | {threads} | {fmt(ta)} | {fmt(tb)} | {statistics.median(tb) / statistics.median(ta):.2f} "
                  f"| {fmt(ia)} | {fmt(ib)} | {statistics.median(ib) / statistics.median(ia):.2f} |", flush=True)


if __name__ == "__main__":
    main()
