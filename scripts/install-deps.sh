#!/usr/bin/env bash
# Installs the Debian packages netmarl's build, tests, examples and benchmarks need.
# Idempotent and silent when everything is present; uses apt-get as root (or through sudo).
set -euo pipefail

packages=(g++ cmake make libeigen3-dev xtl-dev libxsimd-dev libxtensor-dev nlohmann-json3-dev
          catch2 libbenchmark-dev libcli11-dev gnuplot-nox)
# `--peers`: also what `make peers` needs to time PyTorch beside us.
[[ "${1-}" == "--peers" ]] && packages+=(python3-torch libopenblas0-pthread)  # torch on netlib BLAS would be 10x slower

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
# gnuplot-x11 or gnuplot-qt also provide the gnuplot command.
if [[ " ${missing[*]-} " == *" gnuplot-nox "* ]] && command -v gnuplot >/dev/null 2>&1; then
  missing=("${missing[@]/gnuplot-nox}")
  read -r -a missing <<<"${missing[*]}"
fi
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "install-deps: missing packages (${missing[*]}) and not root; install them as root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
