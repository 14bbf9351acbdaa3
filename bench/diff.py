#!/usr/bin/env python3
"""`mlv diff` against `dvc diff` (issue 20): one folder of N small files (default 20,000) added and
committed, then 10 of them changed, in two repositories built the same way (one per tool, untimed).
Timed, alternately, REPS times each: the workspace against HEAD (10 modified files to find), and
HEAD~1 against HEAD after both tools committed the change. Medians and ratios; standard library only.

    bench/venv/bin/python bench/diff.py      (MLV=..., DVC=..., MLV_BENCH_FILES=N, MLV_BENCH_REPS=N)
"""
import os, random, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MLV = os.path.realpath(os.environ.get("MLV", os.path.join(HERE, ".build/release/mlv")))
DVC = os.environ.get("DVC", os.path.join(HERE, "bench/venv/bin/dvc"))
N = int(os.environ.get("MLV_BENCH_FILES", "20000"))
REPS = max(1, int(os.environ.get("MLV_BENCH_REPS", "5")))
ENV = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@b", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@b")


def sh(argv, cwd):
    r = subprocess.run(argv, cwd=cwd, env=ENV, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} failed: {r.stderr[-2000:]}")
    return r.stdout


def timed(argv, cwd):
    t0 = time.monotonic()
    out = sh(argv, cwd)
    return time.monotonic() - t0, out


def repo(root, tool):
    os.makedirs(root)
    sh(["git", "init", "-q"], root)
    rng = random.Random(20261202)
    for i in range(N):
        d = os.path.join(root, "data", f"d{i % 100:03d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i:05d}.txt"), "wb") as f:
            f.write(rng.randbytes(rng.randint(64, 2048)))
    if tool == "mlv":
        sh([MLV, "init"], root)
        sh([MLV, "add", "data"], root)
    else:
        sh([DVC, "init", "-q"], root)
        sh([DVC, "add", "-q", "data"], root)
    sh(["git", "add", "-A"], root)
    sh(["git", "commit", "-qm", "v1"], root)
    for i in range(7, N, N // 10):
        with open(os.path.join(root, "data", f"d{i % 100:03d}", f"f{i:05d}.txt"), "ab") as f:
            f.write(b"changed")


def main():
    work = tempfile.mkdtemp(prefix="mlv-bench-diff-")
    try:
        tools = ["mlv"] + (["dvc"] if os.access(DVC, os.X_OK) else [])
        for t in tools:
            repo(os.path.join(work, t), t)
        cmds = {"mlv": [MLV, "diff"], "dvc": [DVC, "diff"]}
        times = {(t, s): [] for t in tools for s in ("workspace", "commits")}
        for t in tools:   # first run of each: state index / DVC's hash cache filled (untimed)
            out = sh(cmds[t], os.path.join(work, t))
            assert "10 modified" in out, out
        for _ in range(REPS):
            for t in tools:
                times[(t, "workspace")].append(timed(cmds[t], os.path.join(work, t))[0])
        for t in tools:
            root = os.path.join(work, t)
            sh([MLV, "commit"] if t == "mlv" else [DVC, "commit", "-fq"], root)
            sh(["git", "commit", "-qam", "v2"], root)
        for _ in range(REPS):
            for t in tools:
                dt, out = timed(cmds[t] + ["HEAD~1", "HEAD"], os.path.join(work, t))
                assert "10 modified" in out, out
                times[(t, "commits")].append(dt)
        print(f"diff of a folder of {N} files, 10 changed; {REPS} reps, medians (min-max)\n")
        print("| comparison | tool | median | ratio dvc/mlv |\n|---|---|---|---|")
        for s in ("workspace", "commits"):
            m = statistics.median(times[("mlv", s)])
            for t in tools:
                v = times[(t, s)]
                ratio = f"{statistics.median(v) / m:.1f}x" if t == "dvc" else ""
                print(f"| {s} | {t} | {statistics.median(v) * 1000:.0f} ms ({min(v) * 1000:.0f}-{max(v) * 1000:.0f}) | {ratio} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
