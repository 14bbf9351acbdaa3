#!/usr/bin/env python3
"""mlv's engine against PyTorch on CPU, alternately in one run (torch, mlv, torch, mlv, ...),
same batch, same thread count; medians and min-max of the images/s. Also the per-layer profile
of mlv beside cblas_sgemm alone on the same shapes. Writes a Markdown report.

usage: bench.py --mlv BIN --work DIR --out REPORT.md [--reps 3] [--quick]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "engine"))
from torch_model import SeedNet  # noqa: E402

SEED_FILTERS, SEED_DROPOUT = [16, 64, 128, 128], [0.25, 0.25, 0.3, 0.4]

CONFIGS = [
    # name, image size, channels, filters, classes, images per class (80% are trained on)
    ("128x128x3, 4 blocks, 3 classes", 128, 3, SEED_FILTERS, 3, 134),
    ("28x28x1, 4 blocks, 10 classes", 28, 1, SEED_FILTERS, 10, 400),
    ("28x28x1, 2 blocks (16, 64), 10 classes", 28, 1, SEED_FILTERS[:2], 10, 400),
]
BATCH = 32


def torch_rates(size, channels, filters, classes, threads, seconds):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = SeedNet(size, channels, filters, [128, 64], SEED_DROPOUT[:len(filters)], classes)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.randn(BATCH, channels, size, size)
    y = torch.randint(0, classes, (BATCH,))

    def train_step():
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()

    def timed(step):
        for _ in range(2):
            step()
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            step()
            n += 1
        return n * BATCH / (time.perf_counter() - start)

    net.train()
    train = timed(train_step)
    net.eval()
    with torch.no_grad():
        infer = timed(lambda: net(x))
    return train, infer


def torch_rates_best_policy(size, channels, filters, classes, threads, seconds):
    """PyTorch in a fresh process per OpenMP wait policy (it is read when torch loads); with 2+
    threads the better of PASSIVE and ACTIVE, as the anchors were measured."""
    best = None
    for policy in (["PASSIVE", "ACTIVE"] if threads > 1 else ["PASSIVE"]):
        r = run([sys.executable, os.path.abspath(__file__), "--torch-only",
                 ",".join(map(str, [size, channels, classes, threads, seconds] + filters))],
                env=dict(os.environ, OMP_WAIT_POLICY=policy))
        t, i = map(float, r.stdout.split())
        best = (t, i) if best is None else (max(best[0], t), max(best[1], i))
    return best


def run(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return r


def mlv_rates(mlv, data, params, out, threads):
    r = run([mlv, "train", "--params", params, "--data", data, "--out", out, "--threads", str(threads)])
    epochs = re.findall(r"^epoch\s+\d+/\d+ .* ([\d.]+) img/s", r.stdout, re.M)
    train = float(epochs[-1])  # the last epoch: warm caches, steady state
    e = run([mlv, "evaluate", "--model", os.path.join(out, "model.safetensors"), "--data", data,
             "--split", "train", "--threads", str(threads)])
    infer = float(re.search(r"\(([\d.]+) img/s, forward passes only\)", e.stdout).group(1))
    return train, infer


def fmt(values):
    return f"{statistics.median(values):,.1f} ({min(values):,.1f}-{max(values):,.1f})"


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--torch-only":
        v = sys.argv[2].split(",")
        size, channels, classes, threads, seconds = int(v[0]), int(v[1]), int(v[2]), int(v[3]), float(v[4])
        t, i = torch_rates(size, channels, [int(f) for f in v[5:]], classes, threads, seconds)
        print(t, i)
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlv", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=1.5, help="PyTorch sampling time per measurement")
    ap.add_argument("--threads", default="1,2")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    lines = ["# Engine benchmark: mlv vs PyTorch on CPU", "",
             f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on `{os.uname().nodename}`, "
             f"{os.cpu_count()} CPUs; PyTorch {torch.__version__} (each measurement in a fresh process; with 2 "
             f"threads the better of OMP_WAIT_POLICY=PASSIVE and ACTIVE). "
             f"Batch {BATCH}; alternately torch, mlv, ... {a.reps} reps each; median (min-max) images/s.",
             "mlv training img/s is the last of 2 epochs' forward + backward + Adam over the training images "
             "(data decoding and validation excluded); inference is `mlv evaluate`'s forward passes on the "
             "training split, batches of 32. PyTorch: synthetic tensors, the same network, Adam.", "",
             "| config | threads | train PyTorch | train mlv | ratio | infer PyTorch | infer mlv | ratio |",
             "|---|---|---|---|---|---|---|---|"]
    for name, size, channels, filters, classes, per_class in CONFIGS:
        data = os.path.join(a.work, f"data-{size}-{channels}-{classes}")
        if not os.path.isdir(data):
            run([sys.executable, os.path.join(HERE, "..", "..", "scripts", "engine", "synthetic_dataset.py"), data,
                 "--classes", str(classes), "--per-class", str(per_class), "--size", str(size),
                 "--channels", str(channels)])
        params = os.path.join(a.work, f"params-{size}-{len(filters)}.yaml")
        with open(params, "w") as f:
            f.write(f"train:\n  image_size: {size}\n  input_channels: {channels}\n  conv_filters: {filters}\n"
                    f"  dropout_rates: {SEED_DROPOUT[:len(filters)]}\n  fc_sizes: [128, 64]\n"
                    f"  batch_size: {BATCH}\n  num_epochs: 2\n  early_stopping_patience: 0\n")
        for threads in [int(t) for t in a.threads.split(",")]:
            tt, ti, mt, mi = [], [], [], []
            for _ in range(a.reps):
                t = torch_rates_best_policy(size, channels, filters, classes, threads, a.seconds)
                tt.append(t[0]); ti.append(t[1])
                m = mlv_rates(a.mlv, data, params, os.path.join(a.work, "out"), threads)
                mt.append(m[0]); mi.append(m[1])
                print(f"{name} {threads}t: torch {t[0]:.1f}/{t[1]:.1f}  mlv {m[0]:.1f}/{m[1]:.1f}", flush=True)
            rt = statistics.median(mt) / statistics.median(tt)
            ri = statistics.median(mi) / statistics.median(ti)
            lines.append(f"| {name} | {threads} | {fmt(tt)} | {fmt(mt)} | {rt:.2f} | {fmt(ti)} | {fmt(mi)} | {ri:.2f} |")
    lines += ["", "## GEMM-heavy layers vs cblas_sgemm alone", "",
              "128x128x3 seed network, batch 32, one epoch with `MLV_ENGINE_PROFILE=1`: each layer's time; for "
              "the conv layers (im2col/col2im and the GEMMs) the GFLOP/s of their GEMM work, over all calls and "
              "for the best call, and at the end the best forward + backward calls against cblas_sgemm alone "
              "(best of 3) on the same three products (forward, weight gradient, input gradient) in the same "
              "layouts. The best-call figures compare like with like on this shared machine.", ""]
    data = os.path.join(a.work, "data-128-3-3")
    params = os.path.join(a.work, "params-128-4.yaml")
    for threads in [int(t) for t in a.threads.split(",")]:
        env = dict(os.environ, MLV_ENGINE_PROFILE="1")
        r = run([a.mlv, "train", "--params", params, "--data", data, "--out", os.path.join(a.work, "out"),
                 "--threads", str(threads), "--set", "num_epochs=1"], env=env)
        lines += [f"### {threads} thread{'s' if threads > 1 else ''}", "", "```", r.stderr.strip(), "```", ""]
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
