#!/usr/bin/env bash
# `mlv dag --airflow` measured (not part of the tests): a SeaweedFS remote on 127.0.0.1, a bare
# repository as MLV_GIT_URL, Apache Airflow 3.3.2 from .venv-airflow (`make test` installs it).
#
#  1. The cost of a stage task over running its command by hand: each step of the task (git
#     clone + checkout, `mlv repro --single-item --pull`, `mlv push --run-cache`) timed alone, for a
#     fresh clone and for a warm checkout (reuse_checkout), and the whole task as Airflow ran it
#     (`airflow dags test`; its task_instance duration).
#  2. A 4-way fan-out of `sleep 2` stages under a real scheduler (LocalExecutor) with 1 worker
#     slot and with 2: the DAG run's wall time, start to end.
#
#   MLV=/path/to/mlv   the binary (default .build/release/mlv, else .build/debug/mlv)
#   REPS=N             reps of part 1 (default 5); medians are printed
#   PARTS=1,2          the parts to run (default both)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
MLV="${MLV:-$root/.build/release/mlv}"
[ -x "$MLV" ] || MLV="$root/.build/debug/mlv"
[ -x "$MLV" ] || { echo "bench: no mlv binary (swift build -c release)" >&2; exit 1; }
AIRFLOW="$root/.venv-airflow/bin/airflow"
[ -x "$AIRFLOW" ] || { echo "bench: no Airflow in .venv-airflow (make .venv-airflow/bin/airflow)" >&2; exit 1; }
REPS="${REPS:-5}"
PARTS=",${PARTS:-1,2},"
export MLV_BIN="$MLV" AIRFLOW__CORE__LOAD_EXAMPLES=False SCARF_ANALYTICS=false DO_NOT_TRACK=1

work="$(mktemp -d /tmp/mlv-bench-airflow-XXXXXX)"
services=()
cleanup() {
  for pid in "${services[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  sleep 2
  for pid in "${services[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  scripts/s3-test-server stop "$work/s3" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

scripts/s3-test-server start "$work/s3" --owner $$ bench >/dev/null
# shellcheck disable=SC1091
. "$work/s3/env"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export HOME="$work/home" GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"
git config --global user.name bench && git config --global user.email bench@localhost && git config --global init.defaultBranch main

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
elapsed() { local t0; t0=$(now); "$@" >/dev/null 2>&1; echo "$(now) - $t0" | bc -l; }

# A repository with PIPELINE as pipeline.yaml, pushed to a bare origin; its remote prefix is $2.
make_repo() {
  local dir="$1" prefix="$2"
  git init -q --bare "$dir/origin.git"
  git init -q "$dir/ws"
  (cd "$dir/ws" && "$MLV" init >/dev/null && printf '%s' "$PIPELINE" > pipeline.yaml \
    && "$MLV" remote add -d s3 "s3://bench/$prefix" >/dev/null && "$MLV" remote modify s3 endpoint_url "$S3_ENDPOINT" >/dev/null \
    && git add -A && git commit -qm pipeline && git push -q "$dir/origin.git" HEAD:main)
}

echo "mlv dag --airflow benchmark ($("$MLV" version 2>/dev/null | head -1), Airflow $("$AIRFLOW" version 2>/dev/null | tail -1), $(nproc) cores)"

# ---- 1. per-task overhead ------------------------------------------------------------------
if [[ $PARTS == *,1,* ]]; then
PIPELINE=$'stages:\n  work:\n    cmd: sleep 1; seq 1 100000 > out.txt\n    outs: [out.txt]\n'
make_repo "$work/one" one
commit=$(git -C "$work/one/ws" rev-parse HEAD)
by_hand=(); clone=(); repro_run=(); push=(); warm_clone=(); repro_restored=()
for i in $(seq 1 "$REPS"); do
  d="$work/one/run$i"; mkdir -p "$d"
  by_hand+=("$(elapsed sh -c "cd $d && sleep 1; seq 1 100000 > out.txt")")
  # A fresh task: clone, run (a new remote prefix each rep, so nothing is cached), push.
  (cd "$work/one/ws" && "$MLV" remote modify s3 url "s3://bench/one-$i" >/dev/null && git commit -qam "rep $i" && git push -q "$work/one/origin.git" HEAD:main)
  commit=$(git -C "$work/one/ws" rev-parse HEAD)
  clone+=("$(elapsed sh -c "git clone -q --no-checkout $work/one/origin.git $d/task && git -C $d/task checkout -q --detach $commit")")
  repro_run+=("$(elapsed sh -c "cd $d/task && $MLV repro --single-item --pull work")")
  push+=("$(elapsed sh -c "cd $d/task && $MLV push --run-cache")")
  # The same task again on a warm checkout: fetch, reset, clean; the stage is restored.
  warm_clone+=("$(elapsed sh -c "git -C $d/task fetch -q origin && git -C $d/task checkout -q --force --detach $commit && git -C $d/task clean -q -ffdx -e /.mlv/")")
  repro_restored+=("$(elapsed sh -c "cd $d/task && $MLV repro --single-item --pull work")")
done
m() { printf '%s\n' "$@" | median; }
printf '\n1. One stage task (sleep 1 + a 588 KB output), medians of %s:\n' "$REPS"
printf '   command by hand                      %6.3f s\n' "$(m "${by_hand[@]}")"
printf '   git clone + checkout (fresh)         %6.3f s\n' "$(m "${clone[@]}")"
printf '   mlv repro --single-item --pull       %6.3f s (runs the command)\n' "$(m "${repro_run[@]}")"
printf '   mlv push --run-cache                 %6.3f s\n' "$(m "${push[@]}")"
printf '   git fetch + reset + clean (warm)     %6.3f s\n' "$(m "${warm_clone[@]}")"
printf '   mlv repro --single-item --pull       %6.3f s (restored from the run-cache)\n' "$(m "${repro_restored[@]}")"
overhead=$(echo "$(m "${clone[@]}") + $(m "${repro_run[@]}") + $(m "${push[@]}") - $(m "${by_hand[@]}")" | bc -l)
printf '   => mlv + git overhead per fresh task  %6.3f s\n' "$overhead"

# The whole task in Airflow (dags test: in-process, one task after another).
export AIRFLOW_HOME="$work/airflow" AIRFLOW__CORE__DAGS_FOLDER="$work/one/dags" MLV_GIT_URL="$work/one/origin.git" MLV_WORK_DIR="$work/one/tasks"
(cd "$work/one/ws" && "$MLV" remote modify s3 url "s3://bench/one-airflow" >/dev/null && git commit -qam airflow && git push -q "$work/one/origin.git" HEAD:main \
  && "$MLV" dag --airflow -o "$work/one/dags/one.py" >/dev/null)
"$AIRFLOW" db migrate >/dev/null 2>&1
task_seconds() {  # DAG TASK: the duration of TASK in the DAG's latest run
  "$root/.venv-airflow/bin/python" - "$AIRFLOW_HOME/airflow.db" "$1" "$2" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
run = db.execute("select run_id from dag_run where dag_id = ? order by id desc limit 1", (sys.argv[2],)).fetchone()[0]
print(db.execute("select duration from task_instance where dag_id = ? and run_id = ? and task_id = ?", (sys.argv[2], run, sys.argv[3])).fetchone()[0])
PY
}
t0=$(now); "$AIRFLOW" dags test one >/dev/null 2>&1; t1=$(now)
first=$(task_seconds one work)
"$AIRFLOW" dags test one --conf '{"reuse_checkout": true}' >/dev/null 2>&1
"$AIRFLOW" dags test one --conf '{"reuse_checkout": true}' >/dev/null 2>&1
warm=$(task_seconds one work)
printf '   Airflow task "work", fresh clone      %6.3f s (ran the command; whole dags test %.1f s)\n' "$first" "$(echo "$t1 - $t0" | bc -l)"
printf '   Airflow task "work", warm checkout    %6.3f s (restored)\n' "$warm"
fi

# ---- 2. 4-way fan-out, 1 worker slot against 2 -----------------------------------------------
PIPELINE=$'stages:\n  shard:\n    foreach: [a, b, c, d]\n    do:\n      cmd: sleep 2; echo ${item} > shard-${item}.txt\n      outs:\n      - shard-${item}.txt\n'
fan() {  # SLOTS: the wall time of one scheduled run with SLOTS task slots
  local slots="$1" dir="$work/fan$1" port
  mkdir -p "$dir"
  make_repo "$dir" "fan$slots"
  (cd "$dir/ws" && "$MLV" dag --airflow -o "$dir/dags/fan$slots.py" --schedule @once >/dev/null)
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  export AIRFLOW_HOME="$dir/airflow" AIRFLOW__CORE__DAGS_FOLDER="$dir/dags" MLV_GIT_URL="$dir/origin.git" MLV_WORK_DIR="$dir/tasks"
  export AIRFLOW__CORE__EXECUTOR=LocalExecutor AIRFLOW__CORE__PARALLELISM="$slots" AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False
  export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$port/execution/" AIRFLOW__API__WORKERS=1
  export AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC=1 AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=1
  "$AIRFLOW" db migrate >/dev/null 2>&1
  setsid "$AIRFLOW" api-server --host 127.0.0.1 --port "$port" >"$dir/api.log" 2>&1 & services+=($!)
  # Tasks report to the api-server from their first moment: it listens before the rest start.
  python3 -c 'import socket, sys, time
for _ in range(360):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close(); break
    except OSError:
        time.sleep(0.25)' "$port"
  setsid "$AIRFLOW" dag-processor >"$dir/dp.log" 2>&1 & services+=($!)
  setsid "$AIRFLOW" scheduler --skip-serve-logs >"$dir/scheduler.log" 2>&1 & services+=($!)
  "$root/.venv-airflow/bin/python" - "$AIRFLOW_HOME/airflow.db" "fan$slots" <<'PY'
import sqlite3, sys, time
deadline = time.time() + 300
while time.time() < deadline:
    try:
        row = sqlite3.connect(sys.argv[1]).execute(
            "select state, (julianday(end_date) - julianday(start_date)) * 86400 from dag_run where dag_id = ?", (sys.argv[2],)).fetchone()
    except sqlite3.OperationalError:
        row = None
    if row and row[0] in ("success", "failed"):
        print(f"{row[1]:.1f}" if row[0] == "success" else f"(failed after {row[1]:.1f} s: " + ", ".join(
            f"{t} {s}" for t, s in sqlite3.connect(sys.argv[1]).execute("select task_id, state from task_instance where dag_id = ?", (sys.argv[2],))) + ")")
        break
    time.sleep(0.5)
else:
    print("timeout -")
PY
  for pid in "${services[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  sleep 3
  for pid in "${services[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  services=()
}
[[ $PARTS == *,2,* ]] || exit 0
printf '\n2. Four independent `sleep 2` stages (+ resolve_commit and collect_lock), LocalExecutor:\n'
printf '   1 worker slot:  %s s\n' "$(fan 1)"
printf '   2 worker slots: %s s\n' "$(fan 2)"
