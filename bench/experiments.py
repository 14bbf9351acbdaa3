#!/usr/bin/env python3
"""`mlv exp` (issue 21): the overhead of `exp run` over a plain `repro` that runs the same stage
(each run with a learning rate never seen before, so neither restores from the run-cache), beside
DVC's `exp run` over `dvc repro` on the same project; then `mlv exp show` over N experiments
(default 1,000, made with `exp run --queue` and `--run-all -j 2`, untimed). Timed alternately,
REPS times each; medians. Standard library only.

    bench/venv/bin/python bench/experiments.py   (MLV=..., DVC=..., MLV_BENCH_EXPS=N, MLV_BENCH_REPS=N)
"""
import os, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MLV = os.path.realpath(os.environ.get("MLV", os.path.join(HERE, ".build/release/mlv")))
DVC = os.environ.get("DVC", os.path.join(HERE, "bench/venv/bin/dvc"))
N = int(os.environ.get("MLV_BENCH_EXPS", "1000"))
REPS = max(3, int(os.environ.get("MLV_BENCH_REPS", "7")))
ENV = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@b", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@b",
           DVC_NO_ANALYTICS="1", DVC_NO_UPDATE_CHECK="1")
TRAIN = """#!/bin/sh
awk -v lr=$1 -v bs=$2 '{s+=$1} END {printf "{\\"acc\\": %.6f, \\"loss\\": %.6f}\\n", s*lr/10+bs/100, 1/(lr*bs)}' data.txt > metrics.json
echo "model $1 $2" > model.txt
"""
PIPELINE = """stages:
  train:
    cmd: ./train.sh ${train.lr} ${train.batch_size}
    deps: [data.txt, train.sh]
    params: [train]
    outs: [model.txt]
    metrics: [metrics.json: {cache: false}]
"""


def sh(argv, cwd):
    r = subprocess.run(argv, cwd=cwd, env=ENV, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} failed: {r.stdout[-1000:]} {r.stderr[-2000:]}")
    return r.stdout


def timed(argv, cwd):
    t0 = time.monotonic()
    sh(argv, cwd)
    return time.monotonic() - t0


def project(root, tool):
    os.makedirs(root)
    sh(["git", "init", "-q"], root)
    for name, text in {"data.txt": "1\n2\n3\n", "params.yaml": "train:\n  lr: 0.1\n  batch_size: 16\n",
                       "train.sh": TRAIN, ("pipeline.yaml" if tool == "mlv" else "dvc.yaml"): PIPELINE}.items():
        with open(os.path.join(root, name), "w") as f:
            f.write(text)
    os.chmod(os.path.join(root, "train.sh"), 0o755)
    if tool == "mlv":
        sh([MLV, "init"], root)
        sh([MLV, "repro"], root)
    else:
        sh([DVC, "init", "-q"], root)
        sh([DVC, "repro", "-q"], root)
    sh(["git", "add", "-A"], root)
    sh(["git", "commit", "-qm", "base"], root)


def set_lr(root, lr):
    with open(os.path.join(root, "params.yaml"), "w") as f:
        f.write(f"train:\n  lr: {lr}\n  batch_size: 16\n")


def main():
    work = tempfile.mkdtemp(prefix="mlv-bench-exp-")
    try:
        tools = ["mlv"] + (["dvc"] if os.access(DVC, os.X_OK) else [])
        for t in tools:
            project(os.path.join(work, t), t)
        times = {(t, k): [] for t in tools for k in ("repro", "exp run")}
        lr = 1000
        for rep in range(REPS):
            for t in tools:
                root = os.path.join(work, t)
                exe = MLV if t == "mlv" else DVC
                lr += 1
                set_lr(root, f"0.{lr}")
                times[(t, "repro")].append(timed([exe, "repro"], root))
                sh(["git", "checkout", "-q", "--", "params.yaml"], root)
                lr += 1
                times[(t, "exp run")].append(timed([exe, "exp", "run", "-S", f"train.lr=0.{lr}"], root))
                if t == "dvc":
                    sh(["git", "checkout", "-q", "--", "."], root)
        print(f"## exp run against repro (one stage that runs; medians of {REPS}, this machine)\n")
        print("| tool | repro | exp run | overhead |")
        print("|---|---|---|---|")
        for t in tools:
            r, e = statistics.median(times[(t, "repro")]), statistics.median(times[(t, "exp run")])
            print(f"| {t} | {r * 1000:.0f} ms | {e * 1000:.0f} ms | {(e - r) * 1000:+.0f} ms |")

        root = os.path.join(work, "mlv")
        values = ",".join(f"0.{5000 + i}" for i in range(N))
        t0 = time.monotonic()
        sh([MLV, "exp", "run", "--queue", "-S", "train.lr=" + values], root)
        sh([MLV, "exp", "run", "--run-all", "-j", "2"], root)
        made = time.monotonic() - t0
        show = [timed([MLV, "exp", "show"], root) for _ in range(REPS)]
        js = [timed([MLV, "exp", "show", "--json"], root) for _ in range(REPS)]
        count = len(sh([MLV, "exp", "show", "--csv"], root).splitlines()) - 3
        print(f"\n## exp show over {count} experiments (medians of {REPS})\n")
        print(f"| command | time |\n|---|---|\n| `mlv exp show` | {statistics.median(show) * 1000:.0f} ms |\n| `mlv exp show --json` | {statistics.median(js) * 1000:.0f} ms |")
        print(f"\n(making them: {made:.1f} s for {N} queued experiments at -j 2, {made / max(N, 1) * 1000:.0f} ms each)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
