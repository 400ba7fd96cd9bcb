#!/usr/bin/env bash
# The EBPG acceptance runs and the robustness table (examples/ebpg/README.md), two runs at a time:
#   1. multi-bonus, rule-based followers: ebpg, no-ebpg, no-attention, m3rl leaders;
#   2. multi-bonus, ebpg leader with action-abstraction vs vanilla RL followers;
#   3. table 1: ebpg and m3rl leaders at follower noise 0, 0.3, 0.5.
# Usage: examples/ebpg/run_tables.sh [BUILD_DIR] [OUT_DIR]   (EPISODES, SEEDS, HIDDEN, JOBS from
# the environment; defaults are the README's budget). Needs python3 for the tables.
set -euo pipefail
build=${1:-build}
out=${2:-$build/ebpg-runs}
episodes=${EPISODES:-8000}
seeds=${SEEDS:-"0 1 2"}
hidden=${HIDDEN:-64}
jobs=${JOBS:-2}
bin=$build/examples/ebpg/multi_bonus
[ -x "$bin" ] || { echo "run_tables.sh: $bin not found; build it first (cmake --build $build --target ebpg_multi_bonus)" >&2; exit 1; }
mkdir -p "$out"

list=()
for s in $seeds; do
  for l in ebpg no-ebpg no-attention m3rl; do list+=("$l rule 0 $s"); done
  for f in abstraction-rl vanilla-rl; do list+=("ebpg $f 0 $s"); done
  for n in 0.3 0.5; do for l in ebpg m3rl; do list+=("$l rule $n $s"); done; done
done
run_one() {
  read -r leader followers noise seed <<<"$1"
  tag=${leader}_${followers}_n${noise}_s${seed}
  [ -f "$out/$tag.json" ] && return 0
  "$bin" --leader "$leader" --followers "$followers" --noise "$noise" --seed "$seed" \
    --episodes "$episodes" --hidden "$hidden" --follower-hidden "$hidden" --episodes-per-point 200 \
    --quiet --out "$out/$tag.csv" --summary "$out/$tag.json" > "$out/$tag.log" 2>&1
  echo "done $tag"
}
export -f run_one
export bin out episodes hidden
printf '%s\n' "${list[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {}

python3 - "$out" <<'EOF'
import json, glob, os, statistics, sys
out = sys.argv[1]
runs = {}
for path in glob.glob(os.path.join(out, "*.json")):
    j = json.load(open(path))
    runs.setdefault((j["leader"], j["followers"], j["noise"]), []).append(j)
def cell(key, field):
    rs = runs.get(key, [])
    if not rs: return "not run"
    vals = [v for r in rs for v in (r["finals"] if field == "final" else r["total_incentives"])]
    sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
    return f"{statistics.mean(vals):.2f} +- {sd:.2f} ({len(vals)})"
print("| leader | followers | noise | leader reward | total incentive |")
print("|---|---|---|---|---|")
for key in sorted(runs):
    print(f"| {key[0]} | {key[1]} | {key[2]} | {cell(key, 'final')} | {cell(key, 'incentive')} |")
EOF
