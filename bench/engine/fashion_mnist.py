#!/usr/bin/env python3
"""Fashion-MNIST with the 2-block net: mlv and a PyTorch reference with the same architecture,
params (Adam lr 1e-3, batch 32, seed 42, 1 thread), split (54,000 train / 6,000 val by seeded
shuffle of the official training set; the official 10,000 test images) and epochs; the best
epoch by validation loss is tested. Reports test accuracy and wall time per epoch.

usage: fashion_mnist.py --mlv BIN --work DIR --out REPORT.md [--epochs 10] [--limit N]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "engine"))
from pngio import read_png  # noqa: E402
from torch_model import SeedNet  # noqa: E402

FILTERS, DROPOUT = [16, 64], [0.25, 0.25]


def load_split(root, split):
    classes = sorted(os.listdir(os.path.join(root, "train")))
    xs, ys = [], []
    for label, name in enumerate(classes):
        d = os.path.join(root, split, name)
        for f in sorted(os.listdir(d)):
            w, h, c, px = read_png(os.path.join(d, f))
            xs.append(torch.frombuffer(bytearray(px), dtype=torch.uint8).view(1, h, w))
            ys.append(label)
    return torch.stack(xs).float() / 255, torch.tensor(ys)


def torch_reference(data, epochs, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(42)
    (xtr, ytr), (xva, yva), (xte, yte) = (load_split(data, s) for s in ("train", "val", "test"))
    mean, std = xtr.mean(), xtr.std(unbiased=False)
    xtr, xva, xte = ((x - mean) / std for x in (xtr, xva, xte))
    net = SeedNet(28, 1, FILTERS, [128, 64], DROPOUT, 10)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    best, best_state, times = float("inf"), None, []
    for _ in range(epochs):
        start = time.perf_counter()
        net.train()
        perm = torch.randperm(len(xtr))
        for i in range(0, len(perm), 32):
            idx = perm[i:i + 32]
            opt.zero_grad()
            F.cross_entropy(net(xtr[idx]), ytr[idx]).backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            val = sum(F.cross_entropy(net(xva[i:i + 256]), yva[i:i + 256], reduction="sum").item()
                      for i in range(0, len(xva), 256)) / len(xva)
        times.append(time.perf_counter() - start)
        if val < best:
            best, best_state = val, {k: v.clone() for k, v in net.state_dict().items()}
    net.load_state_dict(best_state)
    net.eval()
    with torch.no_grad():
        correct = sum((net(xte[i:i + 256]).argmax(1) == yte[i:i + 256]).sum().item() for i in range(0, len(xte), 256))
    return correct / len(xte), sum(times) / len(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlv", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0, help="use only N training images (a quick run)")
    a = ap.parse_args()
    data = os.path.join(a.work, f"data-{a.limit or 'full'}")
    if not os.path.isdir(data):
        cmd = [sys.executable, os.path.join(HERE, "..", "..", "scripts", "engine", "idx_to_png.py"), data]
        subprocess.run(cmd + (["--limit", str(a.limit)] if a.limit else []), check=True)
    params = os.path.join(a.work, "params.yaml")
    with open(params, "w") as f:
        f.write(f"train:\n  image_size: 28\n  input_channels: 1\n  conv_filters: {FILTERS}\n  dropout_rates: {DROPOUT}\n"
                f"  fc_sizes: [128, 64]\n  learning_rate: 0.001\n  batch_size: 32\n  num_epochs: {a.epochs}\n"
                f"  early_stopping_patience: 0\n  random_seed: 42\n")
    out = os.path.join(a.work, "out")
    r = subprocess.run([a.mlv, "train", "--params", params, "--data", data, "--out", out, "--threads", str(a.threads)],
                       check=True, capture_output=True, text=True)
    print(r.stdout)
    secs = [float(s) for s in re.findall(r"img/s\s+([\d.]+) s", r.stdout)]
    e = subprocess.run([a.mlv, "evaluate", "--model", os.path.join(out, "model.safetensors"), "--data", data,
                        "--out", os.path.join(a.work, "eval.json"), "--threads", str(a.threads)],
                       check=True, capture_output=True, text=True)
    mlv_acc = json.load(open(os.path.join(a.work, "eval.json")))["accuracy"]
    torch_acc, torch_epoch = torch_reference(data, a.epochs, a.threads)
    lines = ["# Fashion-MNIST: mlv vs PyTorch, 2-block net", "",
             f"{'full data set' if not a.limit else f'{a.limit} training images'}; {a.epochs} epochs; "
             f"{a.threads} thread(s); Adam lr 1e-3, batch 32, seed 42; the best epoch by validation loss is tested.", "",
             "| | test accuracy | seconds per epoch (train + validation) |", "|---|---|---|",
             f"| PyTorch {torch.__version__} | {torch_acc:.4f} | {torch_epoch:.1f} |",
             f"| mlv | {mlv_acc:.4f} | {sum(secs) / max(len(secs), 1):.1f} |", ""]
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
