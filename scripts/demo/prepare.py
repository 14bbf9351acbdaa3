#!/usr/bin/env python3
"""Splits an image-folder dataset DIR/<class>/*.png into OUT/{train,val,test}/<class>/*.png.

Per class, files sorted by name are shuffled with SplitMix64(--seed) and cut by --val and --test
fractions (the rest is train); files are copied byte for byte. Deterministic, standard library only.
"""
import argparse
import os
import shutil

MASK = (1 << 64) - 1


def splitmix(seed):
    state = seed & MASK
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--val", type=float, default=0.15)
    ap.add_argument("--test", type=float, default=0.15)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    if not (0 <= args.val < 1 and 0 <= args.test < 1 and args.val + args.test < 1):
        ap.error("--val and --test must be fractions whose sum is below 1")
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    classes = sorted(c for c in os.listdir(args.src) if not c.startswith("."))
    counts = {"train": 0, "val": 0, "test": 0}
    for k, name in enumerate(classes):
        files = sorted(f for f in os.listdir(os.path.join(args.src, name)) if f.endswith(".png"))
        rng = splitmix(args.seed * 1000003 + k)
        for i in range(len(files) - 1, 0, -1):          # Fisher-Yates, the SplitMix way
            j = next(rng) % (i + 1)
            files[i], files[j] = files[j], files[i]
        n_val, n_test = int(len(files) * args.val), int(len(files) * args.test)
        parts = {"val": files[:n_val], "test": files[n_val:n_val + n_test], "train": files[n_val + n_test:]}
        for split, names in parts.items():
            folder = os.path.join(args.out, split, name)
            os.makedirs(folder, exist_ok=True)
            for f in names:
                shutil.copyfile(os.path.join(args.src, name, f), os.path.join(folder, f))
            counts[split] += len(names)
    print("split %d classes: %d train, %d val, %d test" % (len(classes), counts["train"], counts["val"], counts["test"]))


if __name__ == "__main__":
    main()
