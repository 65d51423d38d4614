#!/usr/bin/env bash
# The feature stage on a Ballista cluster (issue 17, DATA.md §11): features of
# generated multi-file Parquet logs, computed locally (polars, the whole log in
# the process) and on a loopback cluster with 1 and 2 executors, side by side.
# Reports wall time and peak memory of the app's process (GNU time), the
# executors' peak memory (VmHWM), and checks that each cluster result equals
# the local one (counts exactly, sums to 1e-9).
#
#   benches/cluster.sh [ROWS ...]        (default: 10000000 100000000)
#
# LOCAL_MAX_ROWS (default 100000000) skips the local run above that size.
# Needs: a release build with --features cluster, /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet --features cluster
bin="$target/release/promo-studio"
work="${BENCH_DIR:-/tmp/promo-bench}/cluster"
mkdir -p "$work"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000000 100000000)
local_max="${LOCAL_MAX_ROWS:-100000000}"

measure() { # command... → "wall_s peak_mb"
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >"$work/stdout.txt" 2>"$work/stderr.txt" || { cat "$work/stderr.txt" >&2; echo "failed failed"; return; }
  read -r wall kb < "$work/time.txt"
  echo "$wall $((kb / 1024))"
}

pids=()
stop_cluster() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
}
trap stop_cluster EXIT

start_cluster() { # executors → sets engine
  local n=$1
  "$bin" cluster scheduler --bind 127.0.0.1:50950 >"$work/scheduler.log" 2>&1 &
  pids+=($!)
  sleep 1
  for i in $(seq 1 "$n"); do
    local port=$((50950 + 2 * i))
    mkdir -p "$work/exec-$i"
    "$bin" cluster executor --scheduler 127.0.0.1:50950 --bind "127.0.0.1:$port" --work-dir "$work/exec-$i" >"$work/executor-$i.log" 2>&1 &
    pids+=($!)
  done
  sleep 3
  engine="ballista://127.0.0.1:50950"
}

executors_peak_mb() { # the executors' peak resident memory, MB, summed
  local total=0
  for p in "${pids[@]:1}"; do
    local kb
    kb=$(awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    total=$((total + ${kb:-0}))
  done
  echo $((total / 1024))
}

same() { python3 benches/same_features.py "$1" "$2"; }  # two features.csv → "equal" or what differs

printf "%-11s %-6s %-22s %9s %9s %12s %s\n" rows files engine wall_s app_MB executors_MB result
for rows in "${sizes[@]}"; do
  files=$(( rows / 5000000 )); [ "$files" -ge 4 ] || files=4
  log="$work/log-$rows"
  [ -d "$log" ] || "$bin" generate-events --rows "$rows" --format parquet --files "$files" --out "$log" >/dev/null
  sync
  if [ "$rows" -le "$local_max" ]; then
    read -r s mb < <(measure "$bin" features --events "$log" --out "$work/local-$rows.csv")
    printf "%-11s %-6s %-22s %9s %9s %12s %s\n" "$rows" "$files" local "$s" "$mb" - "reference"
  fi
  for n in 1 2; do
    start_cluster "$n"
    read -r s mb < <(measure "$bin" features --events "$log" --engine "$engine" --out "$work/cluster-$rows-$n.csv")
    exec_mb=$(executors_peak_mb)
    stop_cluster
    result=$([ -f "$work/local-$rows.csv" ] && same "$work/local-$rows.csv" "$work/cluster-$rows-$n.csv" || echo "no local run")
    printf "%-11s %-6s %-22s %9s %9s %12s %s\n" "$rows" "$files" "cluster, $n executor(s)" "$s" "$mb" "$exec_mb" "$result"
  done
done
