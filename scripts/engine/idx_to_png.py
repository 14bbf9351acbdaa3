#!/usr/bin/env python3
"""Converts MNIST-style IDX files (as Debian's dataset-fashion-mnist installs them) into an
image folder mlv reads: OUT/{train,val,test}/<label>-<name>/<index>.png, 8-bit gray.
The official training set is split by a seeded shuffle into train and val (--val images);
the official test set becomes test.

usage: idx_to_png.py OUT [--src /usr/share/datasets/fashion-mnist] [--val 6000] [--seed 42] [--limit N]
"""
import argparse
import gzip
import os
import random
import struct

from pngio import write_png

FASHION_CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return dims, data[4 + 4 * ndim:]


def find(src, stem):
    for name in (stem + ".gz", stem):
        if os.path.exists(os.path.join(src, name)):
            return os.path.join(src, name)
    raise SystemExit(f"{src}: no {stem}[.gz]")


def write_split(out, split, images, labels, indices, rows, cols, names):
    for i in indices:
        d = os.path.join(out, split, f"{labels[i]}-{names[labels[i]]}")
        os.makedirs(d, exist_ok=True)
        write_png(os.path.join(d, f"{i:05d}.png"), cols, rows, 1, images[i * rows * cols:(i + 1) * rows * cols])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--src", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--val", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--limit", type=int, default=0, help="keep only the first N training and N/6 test images")
    a = ap.parse_args()
    (n, rows, cols), train_images = read_idx(find(a.src, "train-images-idx3-ubyte"))
    _, train_labels = read_idx(find(a.src, "train-labels-idx1-ubyte"))
    (m, _, _), test_images = read_idx(find(a.src, "t10k-images-idx3-ubyte"))
    _, test_labels = read_idx(find(a.src, "t10k-labels-idx1-ubyte"))
    names = FASHION_CLASSES if max(train_labels) < len(FASHION_CLASSES) else [str(k) for k in range(max(train_labels) + 1)]
    order = list(range(n))
    random.Random(a.seed).shuffle(order)
    if a.limit:
        order, m = order[:a.limit], max(1, a.limit // 6)
    n_val = min(a.val, len(order) // 10) if a.limit else a.val
    write_split(a.out, "val", train_images, train_labels, sorted(order[:n_val]), rows, cols, names)
    write_split(a.out, "train", train_images, train_labels, sorted(order[n_val:]), rows, cols, names)
    write_split(a.out, "test", test_images, test_labels, range(m), rows, cols, names)
    print(f"{a.out}: {len(order) - n_val} train, {n_val} val, {m} test images of {rows}x{cols}")


if __name__ == "__main__":
    main()
