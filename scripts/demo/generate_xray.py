#!/usr/bin/env python3
"""Writes the demo's synthetic chest-X-ray-like dataset: DIR/<class>/NNNN.png, 64x64 gray.

Three classes of textures over a lung-field background with rib shadows:
  clear     - the background only
  haze      - a diffuse haze over part of the field (lower contrast, brighter towards one side)
  opacity   - one to three localised round opacities

The bytes depend on --seed and --per-class only: the random numbers come from SplitMix64, every
pixel is computed with +, -, *, / and floor on IEEE doubles (no libm, whose last bits may differ
between machines), and PNGs are written with stored (uncompressed) deflate blocks, so no zlib
version can change them. Standard library only.
"""
import argparse
import os
import struct
import zlib

SIZE = 64
MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        """A double in [0, 1) from the top 53 bits."""
        return (self.next() >> 11) / 9007199254740992.0

    def between(self, lo, hi):
        return lo + (hi - lo) * self.uniform()


def smooth_noise(rng, cells):
    """Value noise: a (cells+1)^2 lattice of random values, bilinearly interpolated."""
    lattice = [[rng.uniform() for _ in range(cells + 1)] for _ in range(cells + 1)]
    step = SIZE / cells
    out = []
    for y in range(SIZE):
        fy = (y + 0.5) / step
        iy = min(int(fy), cells - 1)
        ty = fy - iy
        row = []
        for x in range(SIZE):
            fx = (x + 0.5) / step
            ix = min(int(fx), cells - 1)
            tx = fx - ix
            a = lattice[iy][ix] * (1 - tx) + lattice[iy][ix + 1] * tx
            b = lattice[iy + 1][ix] * (1 - tx) + lattice[iy + 1][ix + 1] * tx
            row.append(a * (1 - ty) + b * ty)
        out.append(row)
    return out


def triangle(t):
    """A triangle wave with period 1 in [0, 1] (a sine's shape without libm)."""
    f = t - int(t // 1)
    return 2 * f if f < 0.5 else 2 - 2 * f


def image(rng, kind):
    brightness = rng.between(0.30, 0.42)
    coarse = smooth_noise(rng, 4)
    fine = smooth_noise(rng, 16)
    period = rng.between(7.0, 11.0)
    phase = rng.uniform()
    bend = rng.between(-0.08, 0.08)
    px = [[0.0] * SIZE for _ in range(SIZE)]
    for y in range(SIZE):
        for x in range(SIZE):
            cx = (x - 31.5) / 32.0
            rib = triangle((y + bend * 32.0 * cx * cx * 4.0) / period + phase)
            px[y][x] = brightness + 0.12 * coarse[y][x] + 0.05 * fine[y][x] + 0.06 * rib
    if kind == "haze":
        strength = rng.between(0.25, 0.45)
        side = rng.next() % 4
        for y in range(SIZE):
            for x in range(SIZE):
                g = [y, SIZE - 1 - y, x, SIZE - 1 - x][side] / (SIZE - 1.0)
                a = strength * (0.35 + 0.65 * g)
                px[y][x] = px[y][x] * (1 - a) + 0.78 * a
    elif kind == "opacity":
        for _ in range(1 + rng.next() % 3):
            bx, by = rng.between(12, 52), rng.between(12, 52)
            r = rng.between(4.0, 9.0)
            amp = rng.between(0.22, 0.40)
            for y in range(max(0, int(by - r) - 1), min(SIZE, int(by + r) + 2)):
                for x in range(max(0, int(bx - r) - 1), min(SIZE, int(bx + r) + 2)):
                    d2 = ((x - bx) * (x - bx) + (y - by) * (y - by)) / (r * r)
                    if d2 < 1:
                        w = (1 - d2) * (1 - d2)
                        px[y][x] += amp * w
    rows = []
    for y in range(SIZE):
        row = bytearray(SIZE)
        for x in range(SIZE):
            v = px[y][x] + rng.between(-0.03, 0.03)
            row[x] = max(0, min(255, int(v * 255 + 0.5)))
        rows.append(bytes(row))
    return rows


def png_gray8(rows):
    """PNG bytes (8-bit gray) with stored deflate blocks: independent of any zlib version."""
    raw = b"".join(b"\x00" + r for r in rows)
    blocks = bytearray(b"\x78\x01")
    for start in range(0, len(raw), 65535):
        chunk = raw[start:start + 65535]
        final = 1 if start + 65535 >= len(raw) else 0
        blocks += struct.pack("<BHH", final, len(chunk), len(chunk) ^ 0xFFFF) + chunk
    blocks += struct.pack(">I", zlib.adler32(raw) & 0xFFFFFFFF)

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", bytes(blocks)) + chunk(b"IEND", b"")


CLASSES = ["clear", "haze", "opacity"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output folder (replaced)")
    ap.add_argument("--per-class", type=int, default=800)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    if not 1 <= args.per_class <= 100000:
        ap.error("--per-class must be between 1 and 100000")
    for k, name in enumerate(CLASSES):
        folder = os.path.join(args.out, name)
        os.makedirs(folder, exist_ok=True)
        for stale in os.listdir(folder):
            os.remove(os.path.join(folder, stale))
        rng = SplitMix64(args.seed * 1000003 + k)
        for i in range(args.per_class):
            with open(os.path.join(folder, "%04d.png" % i), "wb") as f:
                f.write(png_gray8(image(rng, name)))
    print("wrote %d images in %d classes to %s" % (args.per_class * len(CLASSES), len(CLASSES), args.out))


if __name__ == "__main__":
    main()
