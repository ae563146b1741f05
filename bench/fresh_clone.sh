#!/usr/bin/env bash
# A user's first build, timed: a fresh clone of this repository with nothing beside it,
# an empty HOME (no pip cache, no steerspace cache: the model is converted, every chapter
# runs cold) and the README's book command verbatim. Prints the exit code and the wall
# seconds (install, conversion and build), and where the run's manifest.json is.
#
#     bash bench/fresh_clone.sh            # about 30 min on 2 cores with AVX512-BF16
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
command=$(grep -m1 '&& steerspace book$' "$repo/README.md")
d=$(mktemp -d "${TMPDIR:-/tmp}/steerspace-fresh-clone.XXXX")
git clone -q "$repo" "$d/p"
mkdir -p "$d/home"
cd "$d/p"
start=$(date +%s)
env HOME="$d/home" bash -c "$command" > "$d/log" 2>&1
rc=$?
echo "rc $rc seconds $(($(date +%s) - start)) (log $d/log, manifest $d/p/results/gemma-3-270m/manifest.json)"
