#!/usr/bin/env python3
"""Scale (issue 23): N files of 1-4 KiB in nested folders of ~1,000 (MLV_BENCH_SCALE_FILES,
default 1,000,000, about 2.5 GB), mlv against the floor in the same run: `cp -r`, `find | wc -l`
and sha256sum over the same tree; DVC beside it when N <= 100,000 (at a million DVC takes hours).
For each command: wall time, CPU time, peak RSS (of that process and its children) and time per
file. Standard library only; nothing here is a timed test.

    bench/venv/bin/python bench/scale.py     (MLV=..., DVC=..., MLV_BENCH_SCALE_FILES=N)
"""
import os, random, resource, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MLV = os.path.realpath(os.environ.get("MLV", os.path.join(HERE, ".build/release/mlv")))
DVC = os.environ.get("DVC", os.path.join(HERE, "bench/venv/bin/dvc"))
N = int(os.environ.get("MLV_BENCH_SCALE_FILES", "1000000"))
ENV = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@b", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@b",
           DVC_NO_ANALYTICS="1", DVC_NO_UPDATE_CHECK="1")


def run(argv, cwd, shell=False, check=True):
    """(wall s, cpu s, peak RSS MiB, stdout) of one command, measured with wait4."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, cwd=cwd, env=ENV, shell=shell, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    wall = time.monotonic() - t0
    if check and p.returncode != 0:
        sys.exit(f"bench: {argv} failed: {err.decode()[-2000:]}")
    return wall, out.decode()


def measured(argv, cwd, shell=False, check=True):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, out = run(argv, cwd, shell, check)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # (Peak RSS comes from a second run under /usr/bin/time: RUSAGE_CHILDREN's is the largest so far.)
    return wall, cpu, out


def peak(argv, cwd, shell=False):
    """Peak RSS (MiB) of a command, through /usr/bin/time -f %M."""
    cmd = ["/usr/bin/time", "-f", "%M"] + (["sh", "-c", argv] if shell else argv)
    p = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True)
    try:
        return int(p.stderr.strip().splitlines()[-1]) / 1024
    except (ValueError, IndexError):
        return float("nan")


def tree(root):
    rng = random.Random(20261203)
    for i in range(N):
        d = os.path.join(root, f"d{i // 1_000_000:02d}", f"d{(i // 1000) % 1000:03d}")
        if i % 1000 == 0:
            os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i:07d}.bin"), "wb") as f:
            f.write(rng.randbytes(rng.randint(1024, 4096)))


def main():
    work = tempfile.mkdtemp(prefix="mlv-bench-scale-")
    rows = []

    def record(name, argv, cwd, shell=False):
        wall, cpu, out = measured(argv, cwd, shell)
        rss = peak(argv, cwd, shell) if not name.startswith("floor") else float("nan")
        rows.append((name, wall, cpu, rss))
        return out

    try:
        ws = os.path.join(work, "ws")
        os.makedirs(ws)
        t0 = time.monotonic()
        tree(os.path.join(ws, "data"))
        print(f"made {N:,} files in {time.monotonic() - t0:.0f} s", file=sys.stderr)
        run(["git", "init", "-q"], ws)
        run([MLV, "init"], ws)
        record("floor: cp -r", ["cp", "-r", "data", os.path.join(work, "copy")], ws)
        record("floor: find | wc -l", "find data -type f | wc -l", ws, shell=True)
        record("floor: sha256sum", "find data -type f -print0 | xargs -0 sha256sum > /dev/null", ws, shell=True)
        shutil.rmtree(os.path.join(work, "copy"))
        # add is measured once (its RSS through /usr/bin/time on the same run).
        wall, cpu, _ = measured(["/usr/bin/time", "-o", os.path.join(work, "rss"), "-f", "%M", MLV, "add", "data"], ws)
        rows.append(("mlv add data (cold, copy)", wall, cpu, int(open(os.path.join(work, "rss")).read().split()[-1]) / 1024))
        run(["git", "add", "-A"], ws)
        run(["git", "commit", "-qm", "v1"], ws)
        record("mlv status (nothing changed)", [MLV, "status"], ws)
        changed = []
        for i in range(7, N, max(1, N // 10)):
            p = os.path.join("data", f"d{i // 1_000_000:02d}", f"d{(i // 1000) % 1000:03d}", f"f{i:07d}.bin")
            with open(os.path.join(ws, p), "ab") as f:
                f.write(b"changed")
            changed.append(p)
        out = record("mlv status (10 files changed)", [MLV, "status", "--json"], ws)
        named = sum(1 for p in changed if os.path.relpath(p, "data") in out or p in out)
        print(f"status named {named} of the {len(changed)} changed files", file=sys.stderr)
        run([MLV, "commit", "data"], ws)
        run(["git", "commit", "-qam", "v2"], ws)
        record("mlv diff HEAD~1 HEAD (10 files)", [MLV, "diff", "HEAD~1", "HEAD"], ws)
        record("mlv gc --workspace (nothing to remove)", [MLV, "gc", "--workspace"], ws)
        shutil.rmtree(os.path.join(ws, "data"))
        record("mlv checkout (into an empty folder)", [MLV, "checkout"], ws)
        if N <= 100_000 and os.access(DVC, os.X_OK):
            dv = os.path.join(work, "dvc")
            shutil.copytree(os.path.join(ws, "data"), os.path.join(dv, "data"))
            run(["git", "init", "-q"], dv)
            run([DVC, "init", "-q"], dv)
            record("dvc add data", [DVC, "add", "-q", "data"], dv)
            record("dvc status (nothing changed)", [DVC, "status"], dv)
            shutil.rmtree(os.path.join(dv, "data"))
            record("dvc checkout (into an empty folder)", [DVC, "checkout", "-q"], dv)
        print(f"## Scale: {N:,} files of 1-4 KiB in folders of 1,000 (this machine, one run)\n")
        print("| command | wall | CPU | peak RSS | per file |")
        print("|---|---|---|---|---|")
        for name, wall, cpu, rss in rows:
            r = "-" if rss != rss else f"{rss:.0f} MiB"
            print(f"| {name} | {wall:.2f} s | {cpu:.2f} s | {r} | {wall / N * 1e6:.1f} µs |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
