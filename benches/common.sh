# Shared by the benchmark scripts: build, locate the binary and the work folder,
# and time a whole process (wall seconds and peak MB, by GNU time).
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet
bin="$target/release/promo-studio"
work="${BENCH_DIR:-/tmp/promo-bench}"
mkdir -p "$work"

measure() { # command... → "wall_s peak_mb"
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >/dev/null 2>"$work/stderr.txt" || { cat "$work/stderr.txt"; exit 1; }
  read -r wall kb < "$work/time.txt"
  echo "$wall $((kb / 1024))"
}
