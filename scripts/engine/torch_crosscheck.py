#!/usr/bin/env python3
"""Cross-checks of mlv's engine against PyTorch (torch and safetensors from PyPI, in a venv;
never dependencies of mlv itself).

  torch_crosscheck.py predict --mlv BIN [--work DIR]
      Trains a small model with `mlv train`, loads model.safetensors with
      safetensors.torch.load_file into the equivalent torch.nn module (strict state_dict), and
      compares its logits with `mlv predict --json` on the same images. Fails above 1e-4.

  torch_crosscheck.py grads IN.safetensors OUT.safetensors
      Reads weights (PyTorch names), `input` (N, C, H, W) and `labels` (N) written by the Swift
      test TorchCrossCheckTests, runs forward + backward of the mean cross-entropy in PyTorch
      (dropout off) and writes `logits`, `loss` and `grad.<name>` for every parameter.
"""
import argparse
import json
import os
import subprocess
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "engine"))
from pngio import read_png  # noqa: E402
from torch_model import SeedNet  # noqa: E402  (the one PyTorch twin of mlv's network)


def model_from_checkpoint(path):
    from safetensors import safe_open
    with safe_open(path, "pt") as f:
        meta = f.metadata()
    arch = json.loads(meta["mlv.architecture"])
    size, channels = int(meta["mlv.image_size"]), int(meta["mlv.input_channels"])
    net = SeedNet(size, channels, arch["conv_filters"], arch["fc_sizes"], arch["dropout_rates"], arch["num_classes"])
    net.load_state_dict(load_file(path), strict=True)
    return net.eval(), meta, size, channels


def check_predict(mlv, work):
    here = os.path.dirname(os.path.abspath(__file__))
    data = os.path.join(work, "data")
    subprocess.run([sys.executable, os.path.join(here, "synthetic_dataset.py"), data, "--classes", "3",
                    "--per-class", "12", "--size", "24", "--channels", "3", "--seed", "5"], check=True)
    params = os.path.join(work, "params.yaml")
    with open(params, "w") as f:
        f.write("train:\n  image_size: 24\n  input_channels: 3\n  conv_filters: [8, 16, 16]\n"
                "  dropout_rates: [0.25, 0.25, 0.3]\n  fc_sizes: [32, 16]\n  num_epochs: 2\n  batch_size: 8\n")
    out = os.path.join(work, "out")
    subprocess.run([mlv, "train", "--params", params, "--data", data, "--out", out], check=True, stdout=subprocess.DEVNULL)
    model = os.path.join(out, "model.safetensors")
    pred = subprocess.run([mlv, "predict", "--json", "--model", model, os.path.join(data, "class1")],
                          check=True, capture_output=True, text=True)
    items = json.loads(pred.stdout)
    net, meta, size, channels = model_from_checkpoint(model)
    norm = json.loads(meta["mlv.normalization"])
    mean = torch.tensor(norm["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(norm["std"]).view(1, -1, 1, 1)
    batch = []
    for item in items:
        w, h, c, px = read_png(item["file"])
        assert (w, h, c) == (size, size, channels), "the check uses images already at the model's size"
        batch.append(torch.frombuffer(bytearray(px), dtype=torch.uint8).view(h, w, c).permute(2, 0, 1).float() / 255)
    x = (torch.stack(batch) - mean) / std
    with torch.no_grad():
        logits = net(x)
    ours = torch.tensor([item["logits"] for item in items])
    diff = (logits - ours).abs().max().item()
    print(f"predict: {len(items)} images, max |logit difference| = {diff:.3g} (limit 1e-4)")
    return diff <= 1e-4


def reference_grads(src, dst):
    tensors = load_file(src)
    x, labels = tensors.pop("input"), tensors.pop("labels").long()
    convs = sorted({k.split(".")[0] for k in tensors if k.startswith("conv")}, key=lambda n: int(n[4:]))
    fcs = sorted({k.split(".")[0] for k in tensors if k.startswith("fc")}, key=lambda n: int(n[2:]))
    filters = [tensors[f"{n}.weight"].shape[0] for n in convs]
    sizes = [tensors[f"{n}.weight"].shape[0] for n in fcs]
    net = SeedNet(x.shape[2], x.shape[1], filters, sizes[:-1], [0.0] * len(filters), sizes[-1])
    net.load_state_dict(tensors, strict=True)
    net.train()
    logits = net(x)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    out = {"logits": logits.detach().contiguous(), "loss": loss.detach().reshape(1)}
    for name, p in net.named_parameters():
        out[f"grad.{name}"] = p.grad.contiguous()
    save_file(out, dst)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("predict")
    p.add_argument("--mlv", required=True)
    p.add_argument("--work", default=None)
    g = sub.add_parser("grads")
    g.add_argument("src")
    g.add_argument("dst")
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.cmd == "grads":
        reference_grads(a.src, a.dst)
        return
    import tempfile
    work = a.work or tempfile.mkdtemp(prefix="mlv-torch-")
    sys.exit(0 if check_predict(a.mlv, work) else 1)


if __name__ == "__main__":
    main()
