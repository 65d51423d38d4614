#!/usr/bin/env bash
# An executor lost in the middle of a query (issue 17, README "Limits"): for
# each delay, a loopback cluster (a scheduler and two executors) computes the
# features of a generated 4M-event log in 8 files, one executor is killed
# (SIGKILL) DELAY seconds after the query starts, and the outcome is printed:
# the exit code, the wall time, and whether the table equals the local one.
#
#   benches/executor_loss.sh [DELAY_S ...]      (default: 0.5 2 4 6 7 8 9)
#
# Needs: a release build with --features cluster, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet --features cluster
bin="$target/release/promo-studio"
work="${BENCH_DIR:-/tmp/promo-bench}/executor-loss"
mkdir -p "$work"
delays=("$@")
[ ${#delays[@]} -gt 0 ] || delays=(0.5 2 4 6 7 8 9)

log="$work/log-4000000"
[ -d "$log" ] || "$bin" generate-events --rows 4000000 --format parquet --files 8 --out "$log" >/dev/null
[ -f "$work/local.csv" ] || "$bin" features --events "$log" --out "$work/local.csv" >/dev/null

same() { python3 benches/same_features.py "$1" "$2"; }  # two features.csv → "equal" or what differs

printf "%-8s %-5s %8s  %s\n" delay_s exit wall_s result
for delay in "${delays[@]}"; do
  run="$work/delay-$delay"
  rm -rf "$run" && mkdir -p "$run/e1" "$run/e2"
  "$bin" cluster scheduler --bind 127.0.0.1:51950 --executor-timeout-secs 10 >"$run/scheduler.log" 2>&1 &
  scheduler=$!
  sleep 1
  "$bin" cluster executor --scheduler 127.0.0.1:51950 --bind 127.0.0.1:51952 --concurrency 2 --work-dir "$run/e1" >"$run/e1.log" 2>&1 &
  kept=$!
  "$bin" cluster executor --scheduler 127.0.0.1:51950 --bind 127.0.0.1:51954 --concurrency 2 --work-dir "$run/e2" >"$run/e2.log" 2>&1 &
  killed=$!
  disown "$killed"  # killed on purpose: no "Killed" line from bash
  sleep 2
  started=$(date +%s.%N)
  set +e
  timeout 300 "$bin" features --events "$log" --engine ballista://127.0.0.1:51950 --out "$run/cluster.csv" >"$run/stdout.txt" 2>"$run/stderr.txt" &
  query=$!
  sleep "$delay"
  kill -9 "$killed" 2>/dev/null
  wait "$query"; code=$?
  set -e
  wall=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")
  if [ "$code" = 0 ]; then result=$(same "$work/local.csv" "$run/cluster.csv");
  elif [ "$code" = 124 ]; then result="HUNG (killed after 300 s)";
  else result="failed: $(head -c 200 "$run/stderr.txt")"; fi
  printf "%-8s %-5s %8s  %s\n" "$delay" "$code" "$wall" "$result"
  kill -9 "$scheduler" "$kept" 2>/dev/null || true
  wait 2>/dev/null || true
done
