/// The fixed Python of the DAG file `mlv dag --airflow` writes (see AirflowDAG): its
/// docstring and imports, and the three task functions. Airflow 3's task SDK (`airflow.sdk`);
/// nothing from mlv: the tasks run `git` and the `mlv` binary.
enum AirflowDAGTemplate {
    static let imports = #"""
        """Apache Airflow DAG running an mlv pipeline: one task per stage.

        Each task works in a checkout of its own of the repository at the run's commit (no shared
        file system): `mlv repro --pull --restore-only` restores the stages it reads from the remote
        and the shared run-cache, `mlv repro --single-item --pull STAGE` runs the stage unless a run
        with the same inputs is in the run-cache, and `mlv push --run-cache` shares what it made.
        The last task, collect_lock, restores every stage from the run-cache (running nothing) into
        pipeline.lock, checks it with `mlv repro --check`, and with commit_branch set commits it and
        pushes the branch only if it has not moved (else it collects again on the new head).

        Workers need git, mlv and the remote's credentials (AWS_* variables or ~/.aws). Environment:
        MLV_GIT_URL (or the git_url param): the repository; MLV_BIN (or mlv_bin): mlv if not on PATH;
        MLV_WORK_DIR: where checkouts go (default: the temp folder); MLV_REUSE_CHECKOUT=1 (or
        reuse_checkout): one warm checkout per worker slot instead of a fresh clone per task.
        Run conf {"commit": "<full hash>"} runs that commit; otherwise resolve_commit takes the head
        of the branch param once, and every task uses it. resolve_commit also checks this file
        against that commit's pipeline files (`mlv dag --airflow --check`).
        """
        import contextlib
        import fcntl
        import os
        import re
        import shlex
        import shutil
        import signal
        import subprocess
        import tempfile
        from datetime import datetime, timedelta, timezone

        from airflow.sdk import DAG, Param, get_current_context, task

        """#

    static let tasks = #"""
        class MLVTaskError(Exception):
            """A step of a task failed; the message says which, and mlv's or git's own error."""


        def _setting(param, env):
            return str(get_current_context()["params"].get(param) or os.environ.get(env, "")).strip()


        def _mlv_bin():
            name = _setting("mlv_bin", "MLV_BIN") or "mlv"
            path = shutil.which(name)
            if path is None:
                raise MLVTaskError(f"mlv is not installed on this worker: {name!r} is not an executable file or on PATH; "
                                   "install mlv, or set MLV_BIN (or the mlv_bin param) to its path")
            return path


        def _git_url():
            url = _setting("git_url", "MLV_GIT_URL")
            if not url:
                raise MLVTaskError("no repository to check out: set MLV_GIT_URL on the workers (or the git_url param)")
            return url


        def _run(args, cwd, what):
            """Runs a command in its own process group, its output in the task log. Airflow's timeout or
            kill ends the command too (mlv then records and pushes nothing of the stage)."""
            print("+ " + shlex.join(args), flush=True)
            proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True, errors="replace", start_new_session=True)
            error = []
            try:
                for line in proc.stdout:
                    print(line, end="", flush=True)
                    if line.startswith(("mlv: error:", "fatal:", "error:")) or (error and line.startswith("hint:")):
                        error.append(line.strip())
                code = proc.wait()
            except BaseException:
                _end(proc)
                raise
            if code != 0:
                raise MLVTaskError(f"{what} failed (exit {code})" + (": " + " ".join(error[-2:]) if error else ""))


        def _end(proc):
            for sig in (signal.SIGTERM, signal.SIGKILL):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, sig)
                try:
                    proc.wait(timeout=10)
                    return
                except subprocess.TimeoutExpired:
                    pass


        def _git_output(args, cwd=None, absent=()):
            """git's output; "" when it exits with a code of `absent` (nothing found)."""
            r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
            if r.returncode in absent:
                return ""
            if r.returncode != 0:
                raise MLVTaskError(f"git {args[0]} failed (exit {r.returncode}): {r.stderr.strip()}")
            return r.stdout


        def _branch_head(url, branch):
            """The commit `branch` points to in the repository, or None if there is no such branch."""
            out = _git_output(["ls-remote", "--exit-code", url, "refs/heads/" + branch], absent=(2,))
            return out.split()[0] if out else None


        def _safe(name):
            return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


        @contextlib.contextmanager
        def _checkout(commit):
            """The repository at `commit`, in a folder only this task uses: a fresh clone, removed after,
            or (reuse_checkout) a warm checkout of this worker, locked while the task runs and reset to
            the commit (its mlv cache kept)."""
            context = get_current_context()
            url = _git_url()
            work = os.environ.get("MLV_WORK_DIR") or os.path.join(tempfile.gettempdir(), "mlv-airflow")
            os.makedirs(work, exist_ok=True)
            if _setting("reuse_checkout", "MLV_REUSE_CHECKOUT").lower() not in ("", "0", "false"):
                with _warm_slot(os.path.join(work, "warm", _safe(DAG_ID))) as folder:
                    if not os.path.isdir(os.path.join(folder, ".git")):
                        shutil.rmtree(folder, ignore_errors=True)
                        _run(["git", "clone", "-q", "--no-checkout", url, folder], work, "git clone of " + url)
                    else:
                        _run(["git", "-C", folder, "remote", "set-url", "origin", url], work, "git remote set-url")
                        _run(["git", "-C", folder, "fetch", "-q", "origin"], work, "git fetch of " + url)
                    _switch(folder, commit)
                    _run(["git", "-C", folder, "clean", "-q", "-ffdx", "-e", "/.mlv/"], work, "git clean")
                    yield folder
                return
            ti = context["ti"]
            folder = os.path.join(work, _safe(DAG_ID), _safe(context["run_id"]), f"{ti.task_id}.{ti.try_number}")
            shutil.rmtree(folder, ignore_errors=True)
            os.makedirs(os.path.dirname(folder), exist_ok=True)
            try:
                _run(["git", "clone", "-q", "--no-checkout", url, folder], work, "git clone of " + url)
                _switch(folder, commit)
                yield folder
            finally:
                shutil.rmtree(folder, ignore_errors=True)


        def _switch(folder, commit):
            if subprocess.run(["git", "-C", folder, "cat-file", "-e", commit + "^{commit}"], capture_output=True).returncode != 0:
                _run(["git", "-C", folder, "fetch", "-q", "origin", commit], folder, f"git fetch of commit {commit}")
            _run(["git", "-C", folder, "checkout", "-q", "--force", "--detach", commit], folder, f"git checkout of commit {commit}")


        @contextlib.contextmanager
        def _warm_slot(root):
            """The first warm checkout no other task of this worker holds (a file lock each)."""
            os.makedirs(root, exist_ok=True)
            n = 0
            while True:
                lock = open(os.path.join(root, f"slot-{n}.lock"), "w")
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    lock.close()
                    n += 1
                    continue
                try:
                    yield os.path.join(root, f"slot-{n}")
                finally:
                    lock.close()
                return


        @task(task_id="resolve_commit")
        def resolve_commit():
            """The run's commit, fixed once: conf {"commit": ...}, else the head of the branch param;
            the run stops here when this file does not match that commit's pipeline files."""
            params = get_current_context()["params"]
            commit = str(params.get("commit") or "").strip()
            if commit:
                if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", commit):
                    raise MLVTaskError(f"commit {commit!r} is not a full commit hash (40 or 64 hex digits)")
                print(f"Running commit {commit} (given)")
            else:
                branch = str(params["branch"])
                commit = _branch_head(_git_url(), branch)
                if commit is None:
                    raise MLVTaskError(f"the repository has no branch {branch!r}: set the branch param, or give conf {{\"commit\": ...}}")
                print(f"Running commit {commit}, the head of {branch}")
            mlv = _mlv_bin()
            with _checkout(commit) as ws:
                _run([mlv, "dag", "--airflow", "--check", os.path.abspath(__file__)], ws,
                     f"checking this DAG file against the pipeline files of commit {commit}")
            return commit


        @task
        def run_stage(stage, reads, commit):
            """One stage at `commit`: the stages it reads restored, then run (or restored from the
            run-cache), then its results pushed with their run-cache entry."""
            mlv = _mlv_bin()
            with _checkout(commit) as ws:
                if reads:
                    _run([mlv, "repro", "--pull", "--restore-only", *reads], ws, f"stage {stage!r}: restoring the stages it reads")
                _run([mlv, "repro", "--single-item", "--pull", stage], ws, f"stage {stage!r}")
                _run([mlv, "push", "--run-cache"], ws, f"stage {stage!r}: pushing its results")


        @task(task_id="collect_lock", retries=0)
        def collect_lock(commit):
            """pipeline.lock of `commit`, every stage restored from the run-cache (nothing runs), checked;
            with commit_branch, committed and pushed. Returns the commit whose lock is complete."""
            mlv = _mlv_bin()
            branch = _setting("commit_branch", "MLV_COMMIT_BRANCH")
            with _checkout(commit) as ws:
                _collect(mlv, ws)
                if not branch:
                    return commit
                return _publish(mlv, ws, commit, branch)


        def _collect(mlv, ws):
            _run([mlv, "repro", "--pull", "--restore-only"], ws, "collecting pipeline.lock from the run-cache")
            _run([mlv, "repro", "--check"], ws, "checking the collected pipeline.lock")


        def _publish(mlv, ws, base, branch, attempts=3):
            """Commits the collected lock on `base` and pushes it to `branch` only if the branch is still
            at `base` (compare-and-swap: git push --force-with-lease). When the branch has moved, the
            lock is collected again on its new head (which fails if that head needs a stage run)."""
            url = _git_url()
            for _ in range(attempts):
                result = _commit_lock(ws, base)
                head = _branch_head(url, branch)
                if head == result:
                    print(f"{branch} is at {result}: its pipeline.lock is complete")
                    return result
                if head in (None, base):
                    lease = f"--force-with-lease=refs/heads/{branch}:{head or ''}"
                    r = subprocess.run(["git", "-C", ws, "push", "-q", "origin", f"{result}:refs/heads/{branch}", lease],
                                       capture_output=True, text=True)
                    if r.returncode == 0:
                        print(f"Pushed {result} to {branch}")
                        return result
                    print(r.stderr, end="")
                    head = _branch_head(url, branch)
                _run(["git", "-C", ws, "fetch", "-q", "origin", "refs/heads/" + branch], ws, f"git fetch of {branch}")
                head = _git_output(["rev-parse", "FETCH_HEAD"], ws).strip()
                print(f"{branch} moved to {head}: collecting pipeline.lock again on it")
                _run(["git", "-C", ws, "checkout", "-q", "--force", "--detach", head], ws, f"git checkout of {head}")
                _collect(mlv, ws)
                base = head
            raise MLVTaskError(f"branch {branch!r} kept moving while the lock was pushed ({attempts} attempts); run the DAG again")


        def _commit_lock(ws, base):
            """A commit of the lock files mlv staged, on `base`; `base` itself when nothing changed."""
            if subprocess.run(["git", "-C", ws, "diff", "--cached", "--quiet"]).returncode == 0:
                return base
            identity = [] if _git_output(["config", "user.email"], ws, absent=(1,)).strip() else ["-c", "user.name=mlv (Airflow)", "-c", "user.email=mlv-airflow@localhost"]
            context = get_current_context()
            message = f"pipeline.lock of {base[:12]}, collected by Airflow DAG {DAG_ID} ({context['run_id']})"
            _run(["git", "-C", ws, *identity, "commit", "-q", "-m", message], ws, "git commit of pipeline.lock")
            return _git_output(["rev-parse", "HEAD"], ws).strip()

        """#
}
