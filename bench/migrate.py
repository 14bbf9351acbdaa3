#!/usr/bin/env python3
"""`mlv migrate` against `mlv add` of the same files, in one run (bench/README.md's method).

A folder of MLV_BENCH_FILES small files (default 20,000, 1-4 KiB each, in 100 folders, content
from a fixed seed) is `dvc add`ed once in a template DVC repository (DVC 3.67.1, untimed). Each
rep copies the template afresh and `sync`s (untimed), then times, alternately:

  migrate        `mlv migrate` with the data in the workspace (each file read once: MD5 and
                 SHA-256 in one pass, copied into mlv's cache);
  migrate_cache  `mlv migrate` with the workspace copy deleted (every file from .dvc/cache);
  add            `mlv add data` of the same files in a fresh `git init && mlv init` repository.

Medians of MLV_BENCH_REPS (>= 3) reps, objects/s = files / median; the table is printed and
written to bench/results/migrate.md. Standard library only.

    python3 bench/migrate.py                     # .build/release/mlv, DVC from .venv-dvc or bench/venv
    MLV=… DVC=… MLV_BENCH_FILES=2000 python3 bench/migrate.py
"""

import os
import random
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORK = os.path.join(HERE, "work", "migrate")
RESULTS = os.path.join(HERE, "results", "migrate.md")
FILES = int(os.environ.get("MLV_BENCH_FILES", "20000"))
REPS = int(os.environ.get("MLV_BENCH_REPS", "3"))
MLV = os.path.abspath(os.environ.get("MLV", os.path.join(ROOT, ".build", "release", "mlv")))
DVC = os.environ.get("DVC") or next(
    (p for p in (os.path.join(ROOT, ".venv-dvc", "bin", "dvc"), os.path.join(HERE, "venv", "bin", "dvc")) if os.path.exists(p)), "dvc")
SEED = 20261203
ENV = dict(os.environ, DVC_NO_ANALYTICS="1", DVC_NO_UPDATE_CHECK="1", LC_ALL="C",
           GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.invalid",
           GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.invalid")


def run(args, cwd, timed=False):
    start = time.monotonic()
    r = subprocess.run(args, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    elapsed = time.monotonic() - start
    if r.returncode != 0:
        sys.exit(f"bench: {' '.join(args)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return elapsed if timed else r.stdout


def generate(data):
    marker = os.path.join(data, "COMPLETE")
    if os.path.exists(marker) and open(marker).read() == str(FILES):
        return
    shutil.rmtree(data, ignore_errors=True)
    rng = random.Random(SEED)
    for i in range(FILES):
        folder = os.path.join(data, "files", f"d{i % 100:02d}")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"f{i:05d}.bin"), "wb") as f:
            f.write(rng.randbytes(rng.randint(1024, 4096)))
    with open(marker, "w") as f:
        f.write(str(FILES))


def template(data):
    repo = os.path.join(WORK, f"template-{FILES}")
    if os.path.exists(os.path.join(repo, "data.dvc")):
        return repo
    shutil.rmtree(repo, ignore_errors=True)
    os.makedirs(repo)
    run(["git", "init", "-q", "."], repo)
    run([DVC, "init", "-q"], repo)
    shutil.copytree(os.path.join(data, "files"), os.path.join(repo, "data"))
    print(f"dvc add of {FILES} files (once, untimed)…", flush=True)
    run([DVC, "add", "-q", "data"], repo)
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-q", "-m", "dvc"], repo)
    return repo


def fresh(name):
    path = os.path.join(WORK, "runs", name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def main():
    if REPS < 3:
        sys.exit("bench: MLV_BENCH_REPS must be >= 3")
    if not os.access(MLV, os.X_OK):
        sys.exit(f"bench: no mlv binary at {MLV} (swift build -c release)")
    data = os.path.join(WORK, "data")
    generate(data)
    repo = template(data)
    times = {"migrate": [], "migrate_cache": [], "add": []}
    for rep in range(REPS):
        for scenario in times:
            path = fresh(scenario)
            if scenario == "add":
                os.makedirs(path)
                run(["git", "init", "-q", "."], path)
                run([MLV, "init"], path)
                shutil.copytree(os.path.join(data, "files"), os.path.join(path, "data"))
                args = [MLV, "add", "data"]
            else:
                shutil.copytree(repo, path, symlinks=True)
                if scenario == "migrate_cache":
                    shutil.rmtree(os.path.join(path, "data"))
                args = [MLV, "migrate", "--force"]
            run(["sync"], path)
            t = run(args, path, timed=True)
            times[scenario].append(t)
            print(f"rep {rep + 1} {scenario}: {t:.2f} s", flush=True)
    rows = []
    add = statistics.median(times["add"])
    for scenario, ts in times.items():
        m = statistics.median(ts)
        rows.append(f"| {scenario} | {m:.2f} s ({min(ts):.2f}–{max(ts):.2f}) | {FILES / m:,.0f} | {m / add:.2f}× |")
    table = "\n".join([
        f"`mlv migrate` vs `mlv add`, {FILES:,} files of 1–4 KiB, {REPS} reps alternated (medians, min–max)",
        "",
        "| scenario | time | objects/s | / add |",
        "|---|---|---|---|",
        *rows,
        "",
    ])
    print(table)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        f.write(table)


if __name__ == "__main__":
    main()
