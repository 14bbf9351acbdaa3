#!/usr/bin/env python3
"""Writes a deterministic synthetic image folder DIR/<class>/*.png: class k draws a bright
square in quadrant k % 4 on noise (a task a small conv net learns in a few epochs).

usage: synthetic_dataset.py OUT_DIR [--classes 3] [--per-class 40] [--size 32] [--channels 3] [--seed 1]
"""
import argparse
import os
import random

from pngio import write_png


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--classes", type=int, default=3)
    ap.add_argument("--per-class", type=int, default=40)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--channels", type=int, default=3, choices=[1, 3])
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    s, c = a.size, a.channels
    for k in range(a.classes):
        d = os.path.join(a.out, f"class{k}")
        os.makedirs(d, exist_ok=True)
        qx, qy = (k % 4) % 2, (k % 4) // 2
        for i in range(a.per_class):
            px = bytearray(rng.randrange(0, 90) for _ in range(s * s * c))
            half = s // 2
            x0 = qx * half + rng.randrange(0, max(1, half // 4))
            y0 = qy * half + rng.randrange(0, max(1, half // 4))
            side = max(2, half * 3 // 4)
            tint = [rng.randrange(150, 256) for _ in range(c)]
            for y in range(y0, min(s, y0 + side)):
                for x in range(x0, min(s, x0 + side)):
                    for ch in range(c):
                        px[(y * s + x) * c + ch] = tint[ch] if k < 4 else 255 - tint[ch]
            write_png(os.path.join(d, f"img{i:04d}.png"), s, s, c, bytes(px))


if __name__ == "__main__":
    main()
