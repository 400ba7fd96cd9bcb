#!/usr/bin/env bash
# Runs the comparisons of VAST section 5 over seeds and draws them like the paper's figures:
#   methods      (Fig. 4): VAST(QTRAN, meta_grad) with eta 1/4 and 1/2 against flat QMIX, QTRAN, IL
#   assignments  (Fig. 5): VAST(QTRAN) eta 1/4 with meta_grad, random, fixed and spatial sub-teams
# Each run writes <out>/<domain><N>_<name>.{csv,json}; the figure is <out>/<domain><N>_<study>.png
# (mean over seeds, shaded 95% interval, 10-epoch smoothing) with its numbers in <png>.dat.
#
#   examples/vast/compare.sh --domain gaussian_squeeze --agents 200 --epochs 600 --seeds 3
#
# Needs the examples built (make build, or cmake --build build --target vast_<domain>
# compare_plot). Runs that already have their JSON summary are skipped, so an interrupted
# comparison resumes where it stopped.
set -euo pipefail

domain=gaussian_squeeze agents="" epochs="" seeds=3 out=runs/vast study=all build=build
usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  echo "options: --domain gaussian_squeeze|warehouse|battle  --agents N  --epochs E  --seeds S"
  echo "         --study methods|assignments|all  --out DIR  --build DIR"
}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --domain) domain=$2; shift 2 ;;
    --agents) agents=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --study) study=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
case "$domain" in
  gaussian_squeeze) metric=GS; title=GaussianSqueeze; : "${agents:=200}" ;;
  warehouse) metric=orders; title=Warehouse; : "${agents:=4}" ;;
  battle) metric=kills; title=Battle; : "${agents:=20}" ;;
  *) echo "compare.sh: unknown domain '$domain' (gaussian_squeeze, warehouse or battle)" >&2; exit 2 ;;
esac
case "$study" in methods|assignments|all) ;; *)
  echo "compare.sh: unknown study '$study' (methods, assignments or all)" >&2; exit 2 ;;
esac
bin="$build/examples/vast/$domain"
plot="$build/examples/compare_plot"
for b in "$bin" "$plot"; do
  [[ -x "$b" ]] || { echo "compare.sh: $b is missing: build the examples first" >&2; exit 1; }
done
mkdir -p "$out"
prefix="$out/${domain}${agents}"
budget=(--agents "$agents" --seeds "$seeds" --quiet)
[[ -n "$epochs" ]] && budget+=(--epochs "$epochs")

# run NAME FLAGS...: one method over the seeds (skipped when its summary exists).
run() {
  local name=$1; shift
  if [[ -f "${prefix}_$name.json" ]]; then echo "== $name: done before"; return; fi
  echo "== $name: $bin ${budget[*]} $*"
  "$bin" "${budget[@]}" "$@" --out "${prefix}_$name.csv" --summary "${prefix}_$name.json.tmp" \
    | tail -n 1
  mv "${prefix}_$name.json.tmp" "${prefix}_$name.json"
}

if [[ $study == methods || $study == all ]]; then
  run vast_qtran_025 --psi qtran --assign meta_grad --eta 0.25
  run vast_qtran_050 --psi qtran --assign meta_grad --eta 0.5
  run qmix --psi qmix --flat
  run qtran --psi qtran --flat
  run il --psi il --flat
  "$plot" --title "$title[$agents]: VAST vs flat factorizations" --metric "$metric" \
    --out "${prefix}_methods.png" \
    "VAST(QTRAN) eta 1/4=${prefix}_vast_qtran_025.csv" "VAST(QTRAN) eta 1/2=${prefix}_vast_qtran_050.csv" \
    "QMIX=${prefix}_qmix.csv" "QTRAN=${prefix}_qtran.csv" "IL=${prefix}_il.csv"
fi
if [[ $study == assignments || $study == all ]]; then
  run vast_qtran_025 --psi qtran --assign meta_grad --eta 0.25
  run vast_qtran_random --psi qtran --assign random --eta 0.25
  run vast_qtran_fixed --psi qtran --assign fixed --eta 0.25
  run vast_qtran_spatial --psi qtran --assign spatial --eta 0.25
  "$plot" --title "$title[$agents]: VAST(QTRAN) eta 1/4, assignment strategies" --metric "$metric" \
    --out "${prefix}_assignments.png" \
    "meta-gradient=${prefix}_vast_qtran_025.csv" "random=${prefix}_vast_qtran_random.csv" \
    "fixed=${prefix}_vast_qtran_fixed.csv" "spatial=${prefix}_vast_qtran_spatial.csv"
fi
