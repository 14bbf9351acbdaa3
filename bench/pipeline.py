#!/usr/bin/env python3
"""Pipeline benchmark for mlv (issue 9, "Performance"): `mlv repro` vs `dvc repro`.

Scenarios (each tool in its own fresh git repository, built untimed):
  p4_first     a 4-stage pipeline of small Python scripts (generate -> prepare -> train -> evaluate):
               the first full repro, against running the four commands by hand
  p4_noop      the same pipeline again with nothing changed (`repro`; mlv also `repro --check`)
  p1000_noop   a generated 1,000-stage pipeline (chains of 10 with fan-outs, one small dep and
               out each) with nothing changed
  fanout_j2    4 independent 1-second stages: `mlv repro -j 2` against `-j 1`
  many_outs    a stage that writes 20,000 small files into one out folder: what caching the out
               costs in `repro` (repro's wall time less the time the command reports for itself;
               also repro minus running the command by hand, and a `persist` stage whose folder is
               already there, command `true`), against `mlv add` of the same folder

Medians of REPS timed runs (min-max beside them). Standard library only.
Usage: python3 bench/pipeline.py  (MLV=..., DVC=..., MLV_BENCH_REPS=N, MLV_BENCH_STAGES=N,
       MLV_BENCH_MANY_FILES=N, MLV_BENCH_ONLY=p4,p1000,fanout,many_outs)
"""

import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORK = os.path.join(HERE, "work", "pipeline")
MLV = os.path.abspath(os.environ.get("MLV", os.path.join(ROOT, ".build", "release", "mlv")))
DVC = os.environ.get("DVC", os.path.join(HERE, "venv", "bin", "dvc"))
REPS = int(os.environ.get("MLV_BENCH_REPS", "5"))
STAGES = int(os.environ.get("MLV_BENCH_STAGES", "1000"))
HAVE_DVC = os.path.exists(DVC)
DVC_BIG_REPS = int(os.environ.get("MLV_BENCH_DVC_BIG_REPS", "1"))  # a no-op dvc repro of 1,000 stages takes minutes
MANY = int(os.environ.get("MLV_BENCH_MANY_FILES", "20000"))
ONLY = [x for x in os.environ.get("MLV_BENCH_ONLY", "").split(",") if x]


def wanted(name):
    return not ONLY or name in ONLY

SCRIPTS = {
    "generate.py": "import random, sys\nrandom.seed(1)\nopen('data.csv','w').write(''.join(f'{random.random()},{random.random()}\\n' for _ in range(2000)))\n",
    "prepare.py": "rows=[l.split(',') for l in open('data.csv')]\nopen('prepared.csv','w').write(''.join(f'{float(a)*2},{b}' for a,b in rows))\n",
    "train.py": "lr=float(open('params.yaml').read().split('lr:')[1].split()[0])\nrows=[l.split(',') for l in open('prepared.csv')]\nw=sum(float(a)*float(b) for a,b in rows)*lr\nopen('model.txt','w').write(f'{w}\\n')\n",
    "evaluate.py": "w=float(open('model.txt').read())\nopen('metrics.json','w').write('{\"score\": %f}\\n' % (w/1000))\n",
}
# Writes N small files (64 B - 1 KiB, fixed random content) into many/dNN/, 100 folders.
GEN_MANY = (
    "import os, random, sys\n"
    "n = int(sys.argv[1]); r = random.Random(7)\n"
    "for i in range(n):\n"
    "    d = f'many/d{i % 100:02d}'\n"
    "    os.makedirs(d, exist_ok=True)\n"
    "    with open(f'{d}/f{i:05d}.bin', 'wb') as f:\n"
    "        f.write(r.randbytes(r.randint(64, 1024)))\n"
)
P4 = """stages:
  generate:
    cmd: python3 generate.py
    deps: [generate.py]
    outs: [data.csv]
  prepare:
    cmd: python3 prepare.py
    deps: [prepare.py, data.csv]
    outs: [prepared.csv]
  train:
    cmd: python3 train.py
    deps: [train.py, prepared.csv]
    params: [train.lr]
    outs: [model.txt]
  evaluate:
    cmd: python3 evaluate.py
    deps: [evaluate.py, model.txt]
    metrics: [{metrics.json: {cache: false}}]
"""


def sh(args, cwd, check=True):
    r = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        sys.exit(f"bench: {' '.join(args)} failed in {cwd}:\n{r.stdout}{r.stderr}")
    return r


def timed(args, cwd):
    t = time.perf_counter()
    sh(args, cwd)
    return time.perf_counter() - t


def timed_cpu(args, cwd):
    """Wall seconds and CPU seconds (user + sys, the command and the children it waited for)."""
    t = time.perf_counter()
    p = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {' '.join(args)} failed in {cwd}:\n{p.stderr.read().decode()}")
    return wall, ru.ru_utime + ru.ru_stime


def repo(name, tool, files):
    d = os.path.join(WORK, name + "-" + tool)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    sh(["git", "init", "-q", "."], d)
    for rel, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(d, rel)) or d, exist_ok=True)
        with open(os.path.join(d, rel), "w") as f:
            f.write(text)
    if tool == "mlv":
        sh([MLV, "init"], d)
    elif tool == "dvc":
        sh([DVC, "init", "-q"], d)
        sh([DVC, "config", "core.autostage", "true"], d)
        if "pipeline.yaml" in files:
            os.rename(os.path.join(d, "pipeline.yaml"), os.path.join(d, "dvc.yaml"))
    return d


def stats(xs):
    return statistics.median(xs), min(xs), max(xs)


def fmt(xs):
    m, lo, hi = stats(xs)
    return f"{m*1000:.1f} ms ({lo*1000:.1f}-{hi*1000:.1f})"


def generated(n):
    """Chains of 10 stages; every 10th chain fans out from the first stage of the previous one."""
    lines = ["stages:"]
    files = {"seed.txt": "seed\n"}
    for i in range(n):
        dep = "seed.txt" if i % 10 == 0 else f"out/s{i-1}.txt"
        if i % 100 == 50:
            dep = f"out/s{i-50}.txt"
        lines += [f"  s{i}:", f"    cmd: cp {dep} out/s{i}.txt", f"    deps: [{dep}]", f"    outs: [out/s{i}.txt]"]
    files["pipeline.yaml"] = "\n".join(lines) + "\n"
    os.makedirs(WORK, exist_ok=True)
    return files


def main():
    if not os.path.exists(MLV):
        sys.exit(f"bench: no mlv binary at {MLV}")
    os.makedirs(WORK, exist_ok=True)
    results = []
    p4_files = dict(SCRIPTS, **{"pipeline.yaml": P4, "params.yaml": "train:\n  lr: 0.1\n"})
    tools = ["mlv"] + (["dvc"] if HAVE_DVC else [])

    if wanted("p4"):
        p4(results, p4_files, tools)
    if wanted("p1000"):
        p1000(results, tools)
    if wanted("fanout"):
        fanout(results)
    if wanted("many_outs"):
        many_outs(results)
    report(results)


def many_outs(results):
    """Alternating reps: repro of a stage writing MANY files; the command by hand; `mlv add` of
    the folder it writes (made untimed just before); repro of a persist stage whose folder is
    already there (command `true`)."""
    # The command times itself, interpreter start-up included (pyenv's shim can take 0.2 s).
    timed_cmd = f"t0=$(date +%s%N); python3 gen.py {MANY}; echo $(( $(date +%s%N) - t0 )) > cmd-ns.txt"
    stage = f"stages:\n  gen:\n    cmd: '{timed_cmd}'\n    deps: [gen.py]\n    outs: [many]\n"
    persist = "stages:\n  gen:\n    cmd: 'true'\n    outs:\n    - many:\n        persist: true\n"
    xs = {k: [] for k in ["repro", "repro_caching", "hand", "add", "repro_persist"]}
    cpu = {k: [] for k in xs}

    def run(key, args, d):
        w, c = timed_cpu(args, d)
        xs[key].append(w)
        cpu[key].append(c)

    def one(kind, rep):
        # Each timed command starts after a sync (no earlier run's writeback in its way); the
        # folder add reads is written just before, as the stage's command writes it in repro.
        # Nothing is deleted until all runs are done: ext4 skips inodes freed in the last
        # minute when it allocates new ones, so a run right after a large delete pays for it
        # (perf shows ext4_tmpfile -> recently_deleted), whichever command it is.
        name = f"many{rep}-{kind}"
        if kind == "repro":
            d = repo(name, "mlv", {"gen.py": GEN_MANY, "pipeline.yaml": stage})
            sh(["sync"], d)
            run("repro", [MLV, "repro"], d)
            # repro's own cost: its wall time less the command's (as the command timed itself).
            with open(os.path.join(d, "cmd-ns.txt")) as f:
                xs["repro_caching"].append(xs["repro"][-1] - int(f.read()) / 1e9)
        elif kind == "hand":
            d = repo(name, "mlv", {"gen.py": GEN_MANY})
            sh(["sync"], d)
            run("hand", ["python3", "gen.py", str(MANY)], d)
        else:
            d = repo(name, "mlv", {"gen.py": GEN_MANY, "pipeline.yaml": persist} if kind == "persist" else {"gen.py": GEN_MANY})
            sh(["sync"], d)
            sh(["python3", "gen.py", str(MANY)], d)
            run("add" if kind == "add" else "repro_persist", [MLV, "add", "many"] if kind == "add" else [MLV, "repro"], d)

    kinds = ["repro", "hand", "add", "persist"]
    for rep in range(REPS):
        for i in range(len(kinds)):  # the order rotates from rep to rep
            one(kinds[(rep + i) % len(kinds)], rep)
    for rep in range(REPS):
        for k in kinds:
            shutil.rmtree(os.path.join(WORK, f"many{rep}-{k}-mlv"), ignore_errors=True)
    for k, v in xs.items():
        results.append((f"many_outs {MANY} files: {k}", "mlv", v))
        print(f"many_outs {k}: wall {fmt(v)}" + (f"; CPU {fmt(cpu[k])}" if cpu[k] else ""), flush=True)
    m = {k: statistics.median(v) for k, v in xs.items()}
    print(f"many_outs (wall, medians): repro less its command's own time / add = {m['repro_caching'] / m['add']:.2f} (target <= 1.3)", flush=True)
    for name, t in (("wall", xs), ("CPU", cpu)):
        m = {k: statistics.median(v) for k, v in t.items() if v}
        print(f"many_outs ({name}, medians): (repro - by hand) / add = {(m['repro'] - m['hand']) / m['add']:.2f}; "
              f"persist repro / add = {m['repro_persist'] / m['add']:.2f}", flush=True)


def p4(results, p4_files, tools):
    # p4_first, by hand as the floor.
    first = {t: [] for t in tools + ["hand"]}
    for _ in range(REPS):
        for t in tools + ["hand"]:
            d = repo("p4", "mlv" if t == "hand" else t, p4_files)
            if t == "hand":
                t0 = time.perf_counter()
                for s in ["generate", "prepare", "train", "evaluate"]:
                    sh(["python3", s + ".py"], d)
                first[t].append(time.perf_counter() - t0)
            else:
                first[t].append(timed([MLV if t == "mlv" else DVC, "repro"], d))
    for t in first:
        results.append(("p4_first", t, first[t]))
        print(f"p4_first {t}: {fmt(first[t])}", flush=True)

    # p4_noop (the last reps' repositories are up to date).
    for t in tools:
        d = os.path.join(WORK, "p4-" + t)
        exe = MLV if t == "mlv" else DVC
        results.append(("p4_noop repro", t, [timed([exe, "repro"], d) for _ in range(REPS)]))
        if t == "mlv":
            results.append(("p4_noop repro --check", t, [timed([exe, "repro", "--check"], d) for _ in range(REPS)]))
            results.append(("p4_noop status", t, [timed([exe, "status"], d) for _ in range(REPS)]))
        else:
            results.append(("p4_noop status", t, [timed([exe, "status"], d) for _ in range(REPS)]))



def p1000(results, tools):
    # p1000_noop: the outs made once (untimed), then no-op repro.
    files = generated(STAGES)
    for t in tools:
        d = repo("p1000", t, files)
        os.makedirs(os.path.join(d, "out"), exist_ok=True)
        t0 = time.perf_counter()
        if t == "mlv":
            sh([MLV, "repro"], d)
        else:
            # dvc repro of 1,000 new stages takes tens of minutes (it slows down as the lock
            # grows); the commands run by hand and `dvc commit` give it the same up-to-date lock.
            for i in range(STAGES):
                dep = "seed.txt" if i % 10 == 0 else f"out/s{i-1}.txt"
                if i % 100 == 50:
                    dep = f"out/s{i-50}.txt"
                shutil.copyfile(os.path.join(d, dep), os.path.join(d, f"out/s{i}.txt"))
            sh([DVC, "commit", "-f", "-q"], d)
        print(f"p{STAGES} made up to date ({t}): {time.perf_counter() - t0:.1f} s", flush=True)
        reps = REPS if t == "mlv" else DVC_BIG_REPS
        results.append((f"p{STAGES}_noop repro", t, [timed([MLV if t == "mlv" else DVC, "repro"], d) for _ in range(reps)]))
        print(f"p{STAGES}_noop repro {t}: {fmt(results[-1][2])}", flush=True)
        if t == "mlv":
            results.append((f"p{STAGES}_noop repro --check", t, [timed([MLV, "repro", "--check"], d) for _ in range(REPS)]))



def fanout(results):
    # fanout_j2: four independent 1-second stages.
    fan = {"pipeline.yaml": "stages:\n" + "".join(f"  f{i}:\n    cmd: sleep 1 && echo {i} > f{i}.txt\n    outs: [f{i}.txt]\n" for i in range(4))}
    for j in ["1", "2"]:
        xs = []
        for _ in range(max(2, REPS // 2)):
            d = repo("fan", "mlv", fan)
            xs.append(timed([MLV, "repro", "-j", j, "--no-run-cache"], d))
        results.append((f"fanout repro -j {j}", "mlv", xs))


def report(results):
    print("\n| scenario | tool | median (min-max) |\n|---|---|---|")
    for name, tool, xs in results:
        print(f"| {name} | {tool} | {fmt(xs)} |")
    med = {(n, t): statistics.median(xs) for n, t, xs in results}
    print()
    for n in ["p4_noop repro", f"p{STAGES}_noop repro", "p4_noop status"]:
        if (n, "dvc") in med:
            print(f"{n}: dvc/mlv = {med[(n, 'dvc')] / med[(n, 'mlv')]:.0f}x")
    if ("p4_first", "mlv") in med:
        print(f"p4_first: mlv - by hand = {(med[('p4_first', 'mlv')] - med[('p4_first', 'hand')]) * 1000:.0f} ms over 4 stages")
    if ("fanout repro -j 1", "mlv") in med:
        print(f"fanout: -j 2 / -j 1 = {med[('fanout repro -j 2', 'mlv')] / med[('fanout repro -j 1', 'mlv')]:.2f}")


if __name__ == "__main__":
    main()
