#!/usr/bin/env bash
# Responsiveness of the window (issue 5), on this machine's software renderer:
#   start-up: ms to the first frame and to the sample data on screen (3 runs);
#   frames:   frame intervals while the whole flow (load, value, segments,
#             model comparison, recommender) runs on a generated log of N
#             events, frames drawn continuously (p50/p99/max), and the
#             renderer's own pace when idle.
# Usage: benches/gui_frames.sh [N=1000000]
# Needs Xvfb and Mesa (see ../shared/STACK.md); starts its own display :97.
set -euo pipefail
source "$(dirname "$0")/common.sh"
rows="${1:-1000000}"
log="$work/gui-$rows.parquet"
[ -f "$log" ] || "$bin" generate-events --rows "$rows" --format parquet --out "$log" >/dev/null
Xvfb :97 -screen 0 1440x900x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb' EXIT
sleep 1
export DISPLAY=:97 XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
for i in 1 2 3; do
  echo "startup run $i: $("$bin" --bench startup 2>/dev/null)"
done
for renderer in glow wgpu; do
  echo "frames, $rows events, $renderer: $(PROMO_STUDIO_RENDERER=$renderer "$bin" --bench frames --events "$log" 2>/dev/null)"
done
# Frames while the Simulation screen's forecast runs (issue 15): the flow
# settles, then the screen's simulation starts by itself; `screen_job_*` are
# the frames drawn while it ran.
echo "frames during the simulation, $rows events, glow: $(PROMO_STUDIO_RENDERER=glow "$bin" --bench frames --screen simulation --events "$log" 2>/dev/null)"
