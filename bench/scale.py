#!/usr/bin/env python3
"""Scale (issue 23): N files of 1-4 KiB in nested folders of ~1,000 (MLV_BENCH_SCALE_FILES,
default 1,000,000, about 2.5 GB), mlv against the floor in the same run: `cp -r`, `find | wc -l`
and sha256sum over the same tree; DVC beside it when N <= 100,000 (at a million DVC takes hours);
push, no-op push and `status -c` on a local SeaweedFS at any N, against s5cmd (and pull) when
N <= 100,000 and s5cmd is installed. MLV_BENCH_SCALE_ROWS=memory runs only the rows whose memory
must not grow with N (add, gc, push, no-op push, status -c), without the floors, and DVC's same
rows on the same tree and server when N <= 100,000.
For each command: wall time, CPU time (user+sys, all threads), peak RSS (the same run, from wait4)
and time per file. Standard library only; nothing here is a timed test.

    bench/venv/bin/python bench/scale.py     (MLV=..., DVC=..., MLV_BENCH_SCALE_FILES=N)

Method. This machine's root file system is ext4 without a journal: for a minute or more after
many files are deleted, creating a file skips the freed inodes one by one (kernel
`recently_deleted`), which made `cp -r` of 20,000 files take 16 s instead of 0.7 s here. So nothing
is deleted until the run ends: every command that creates files writes into new folders (checkout:
a fresh clone whose cache is hard-linked from the first workspace's), and each creating command's
floor (`cp -r` of the same tree into a new folder) runs right before it. Both start cold: dirty
pages are written back and, where the bench may (root), the page cache is emptied first.
"""
import os, random, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MLV = os.path.realpath(os.environ.get("MLV", os.path.join(HERE, ".build/release/mlv")))
DVC = os.environ.get("DVC", os.path.join(HERE, "bench/venv/bin/dvc"))
S5CMD = os.environ.get("S5CMD", os.path.join(HERE, "bench/venv/bin/s5cmd"))
N = int(os.environ.get("MLV_BENCH_SCALE_FILES", "1000000"))
ONLY_MEMORY = os.environ.get("MLV_BENCH_SCALE_ROWS") == "memory"
ENV = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@b", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@b",
           DVC_NO_ANALYTICS="1", DVC_NO_UPDATE_CHECK="1")


def run(argv, cwd, env=None):
    subprocess.run(argv, cwd=cwd, env=env or ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def drop_caches():
    """Writes dirty pages back and, where allowed (root), empties the page cache, so a command
    and its floor both start cold: at a million files the tree, the cache and the copies do not
    all fit in memory, and whichever ran last would otherwise read hot files."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    except OSError:
        pass


def timed(argv, cwd, shell=False, env=None, cold=False):
    """Runs under /usr/bin/time (wall, user+sys and max RSS of that run)."""
    stats = tempfile.mktemp(prefix="mlv-bench-time-")
    cmd = ["/usr/bin/time", "-o", stats, "-f", "%e %U %S %M"] + (["sh", "-c", argv] if shell else argv)
    drop_caches() if cold else os.sync()
    p = subprocess.run(cmd, cwd=cwd, env=env or ENV, capture_output=True)
    if p.returncode != 0:
        sys.exit(f"bench: {argv} failed: {p.stderr.decode()[-2000:]}")
    e, u, s, m = open(stats).read().split()[-4:]
    os.unlink(stats)
    return float(e), float(u) + float(s), int(m) / 1024, p.stdout.decode()


def tree(root):
    rng = random.Random(20261203)
    for i in range(N):
        d = os.path.join(root, f"d{i // 1_000_000:02d}", f"d{(i // 1000) % 1000:03d}")
        if i % 1000 == 0:
            os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i:07d}.bin"), "wb") as f:
            f.write(rng.randbytes(rng.randint(1024, 4096)))


def clone(ws, dest, cache_dirs):
    """A fresh clone of the workspace's git history with its cache hard-linked (no data)."""
    run(["git", "clone", "-q", ws, dest], os.path.dirname(dest))
    for d in cache_dirs:
        os.makedirs(os.path.dirname(os.path.join(dest, d)), exist_ok=True)
        run(["cp", "-al", os.path.join(ws, d), os.path.join(dest, d)], dest)


def main():
    work = tempfile.mkdtemp(prefix="mlv-bench-scale-")
    rows = []
    copies = iter(range(1, 100))

    def record(name, argv, cwd, shell=False, env=None, cold=False):
        wall, cpu, rss, out = timed(argv, cwd, shell, env, cold)
        rows.append((name, wall, cpu, rss if not name.startswith("floor") else float("nan")))
        print(f"  {name}: {wall:.2f} s wall, {cpu:.2f} s CPU, {rss:.0f} MiB", file=sys.stderr, flush=True)
        return out

    def floor_cp(src):
        record("floor: cp -r (cold)", ["cp", "-r", src, os.path.join(work, f"copy{next(copies)}")], work, cold=True)

    server = None
    ws = os.path.join(work, "ws")

    def main_rows():
        os.makedirs(ws)
        t0 = time.monotonic()
        tree(os.path.join(ws, "data"))
        print(f"made {N:,} files in {time.monotonic() - t0:.0f} s", file=sys.stderr)
        run(["git", "init", "-q"], ws)
        run([MLV, "init"], ws)
        # Files deleted before the run (an earlier run, a test suite) make new files dearer for a
        # while (see above): written back now, then left to age.
        os.sync()
        time.sleep(float(os.environ.get("MLV_BENCH_SETTLE", "70")))
        if ONLY_MEMORY:
            record("mlv add data (cold, copy)", [MLV, "add", "data"], ws, cold=True)
            run(["git", "add", "-A"], ws)
            run(["git", "commit", "-qm", "v1"], ws)
            record("mlv gc --workspace (nothing to remove)", [MLV, "gc", "--workspace"], ws)
        else:
            everything_local()
        s3_rows()

    def everything_local():
        record("floor: find (names only, no stat)", "find data -type f | wc -l", ws, shell=True)
        # What a no-op status cannot go below: every file's size and mtime (one stat each).
        record("floor: find -printf size,mtime (a stat per file)", "find data -type f -printf '%s %T@\\n' | wc -l", ws, shell=True)
        record("floor: sha256sum", "find data -type f -print0 | xargs -0 sha256sum > /dev/null", ws, shell=True)
        floor_cp(os.path.join(ws, "data"))
        record("mlv add data (cold, copy)", [MLV, "add", "data"], ws, cold=True)
        run(["git", "add", "-A"], ws)
        run(["git", "commit", "-qm", "v1"], ws)
        record("mlv status (nothing changed)", [MLV, "status"], ws)
        # With `mlv watch`: its first status walks (and is vouched for from then on).
        run([MLV, "watch", "start"], ws)
        try:
            run([MLV, "status"], ws)
            record("mlv status with mlv watch (nothing changed)", [MLV, "status"], ws)
            changed = []
            for i in range(7, N, max(1, N // 10)):
                p = os.path.join("data", f"d{i // 1_000_000:02d}", f"d{(i // 1000) % 1000:03d}", f"f{i:07d}.bin")
                with open(os.path.join(ws, p), "ab") as f:
                    f.write(b"changed")
                changed.append(p)
            out = record("mlv status with mlv watch (10 files changed)", [MLV, "status", "--json"], ws)
            named = sum(1 for p in changed if os.path.relpath(p, "data") in out or p in out)
            print(f"status with mlv watch named {named} of the {len(changed)} changed files", file=sys.stderr)
        finally:
            run([MLV, "watch", "stop"], ws)
        out = record("mlv status (10 files changed)", [MLV, "status", "--json"], ws)
        named = sum(1 for p in changed if os.path.relpath(p, "data") in out or p in out)
        print(f"status named {named} of the {len(changed)} changed files", file=sys.stderr)
        run([MLV, "commit", "data"], ws)
        run(["git", "commit", "-qam", "v2"], ws)
        record("mlv diff HEAD~1 HEAD (10 files)", [MLV, "diff", "HEAD~1", "HEAD"], ws)
        record("mlv gc --workspace (nothing to remove)", [MLV, "gc", "--workspace"], ws)
        co = os.path.join(work, "co")
        clone(ws, co, [".mlv/cache"])
        floor_cp(os.path.join(ws, "data"))
        record("mlv checkout (into an empty clone, cold)", [MLV, "checkout"], co, cold=True)
        record("mlv status (after checkout)", [MLV, "status"], co)

    def s3_rows():
        nonlocal server
        weed = os.path.join(HERE, ".venv/bin/weed")
        s5 = N <= 100_000 and os.access(S5CMD, os.X_OK)
        if os.access(weed, os.X_OK):
            server = os.path.join(work, "s3")
            subprocess.run([os.path.join(HERE, "scripts/s3-test-server"), "start", server, "--owner", str(os.getpid()), "bench"],
                           check=True, stdout=subprocess.DEVNULL)
            conf = dict(l.split("=", 1) for l in open(os.path.join(server, "env")).read().split())
            env = dict(ENV, AWS_ACCESS_KEY_ID=conf["AWS_ACCESS_KEY_ID"], AWS_SECRET_ACCESS_KEY=conf["AWS_SECRET_ACCESS_KEY"],
                       AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
            run([MLV, "remote", "add", "-d", "s3", "s3://bench/mlv"], ws, env)
            run([MLV, "remote", "modify", "s3", "endpoint_url", conf["S3_ENDPOINT"]], ws, env)
            s5cmd = [S5CMD, "--endpoint-url", conf["S3_ENDPOINT"]]
            if s5:
                record("s5cmd cp (upload the folder)", s5cmd + ["cp", "data/", "s3://bench/s5/"], ws, env=env)
            record("mlv push", [MLV, "push"], ws, env=env)
            record("mlv push (nothing to push)", [MLV, "push"], ws, env=env)
            record("mlv status -c (in sync)", [MLV, "status", "-c"], ws, env=env)
            if ONLY_MEMORY:
                dvc_remote_rows(env, conf["S3_ENDPOINT"])
            if not s5 or ONLY_MEMORY:
                return
            record("s5cmd cp (download the folder)", s5cmd + ["cp", "s3://bench/s5/*", os.path.join(work, "s5get") + "/"], ws, env=env)
            pl = os.path.join(work, "pull")
            clone(ws, pl, [])
            run([MLV, "remote", "add", "-f", "-d", "s3", "s3://bench/mlv"], pl, env)
            run([MLV, "remote", "modify", "s3", "endpoint_url", conf["S3_ENDPOINT"]], pl, env)
            record("mlv pull (into an empty clone)", [MLV, "pull"], pl, env=env)

    def dvc_added(name):
        """A DVC project beside the workspace, with a copy of its tree added (timed) and committed;
        None where DVC is not installed or N > 100,000 (DVC at a million takes hours)."""
        if N > 100_000 or not os.access(DVC, os.X_OK):
            return None
        dv = os.path.join(work, name)
        os.makedirs(dv)
        run(["git", "init", "-q"], dv)
        run([DVC, "init", "-q"], dv)
        run(["cp", "-r", os.path.join(ws, "data"), os.path.join(dv, "data")], dv)
        record("dvc add data (cold)", [DVC, "add", "-q", "data"], dv, cold=True)
        run(["git", "add", "-A"], dv)
        run(["git", "commit", "-qm", "v1"], dv)
        return dv

    def dvc_remote_rows(env, endpoint):
        """DVC on the same tree and server: the rows whose memory must not grow."""
        dv = dvc_added("dvc-remote")
        if not dv:
            return
        record("dvc gc -w (nothing to remove)", [DVC, "gc", "-w", "-f", "-q"], dv)
        run([DVC, "remote", "add", "-d", "s3", "s3://bench/dvc"], dv, env)
        run([DVC, "remote", "modify", "s3", "endpointurl", endpoint], dv, env)
        record("dvc push", [DVC, "push", "-q"], dv, env=env)
        record("dvc push (nothing to push)", [DVC, "push", "-q"], dv, env=env)
        record("dvc status -c (in sync)", [DVC, "status", "-c", "-q"], dv, env=env)

    def dvc_rows():
        dv = dvc_added("dvc")
        if not dv:
            return
        record("dvc status (nothing changed)", [DVC, "status"], dv)
        dco = os.path.join(work, "dvc-co")
        clone(dv, dco, [".dvc/cache"])
        record("dvc checkout (into an empty clone, cold)", [DVC, "checkout", "-q"], dco, cold=True)

    try:
        main_rows()
        if not ONLY_MEMORY:
            dvc_rows()
        print(f"## Scale: {N:,} files of 1-4 KiB in folders of 1,000 (this machine, one run)\n")
        print("| command | wall | CPU | peak RSS | per file |")
        print("|---|---|---|---|---|")
        for name, wall, cpu, rss in rows:
            r = "-" if rss != rss else f"{rss:.0f} MiB"
            print(f"| {name} | {wall:.2f} s | {cpu:.2f} s | {r} | {wall / N * 1e6:.1f} µs |")
    finally:
        if server:
            subprocess.run([os.path.join(HERE, "scripts/s3-test-server"), "stop", server], stdout=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
