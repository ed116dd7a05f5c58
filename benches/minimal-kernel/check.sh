#!/usr/bin/env bash
# Fails if ntwork costs more than LIMIT (default 1.01) times the hand-written
# code in callgrind instructions per item, on the Ex path with a rundown (a,
# and a' with the rundown in the routine's type) and on the Io path. (b) is
# reported, not checked: see BENCHMARKS.md. About 15 s;
# usable from CI, though .ci/run does not call it.
set -euo pipefail
limit=${1:-1.01}
out=$("$(dirname "$0")/callgrind.sh")
echo "$out"
awk -v limit="$limit" '
  $1 == "c-ex" || $1 == "c-io" { checked++; if ($9 > limit) { print "over " limit ": " $1 " vs " $5 " (" $9 ")"; bad = 1 } }
  END { if (checked != 3) { print "ratios not found"; exit 1 } exit bad }' <<<"$out"
