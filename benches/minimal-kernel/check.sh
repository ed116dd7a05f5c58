#!/usr/bin/env bash
# Fails if ntwork costs more than LIMIT (default 1.01) times the hand-written
# code in callgrind instructions per item, on the Ex path with a rundown (a,
# and a' with the rundown in the routine's type), without one (b', the
# driver stating it cannot unload) and on the Io path (c, and c' with the
# routine's item lent). (b), a `never_unloads` Rundown against C without
# protection, and (c''), the item kept, are reported, not checked: see
# BENCHMARKS.md. About 25 s;
# usable from CI, though .ci/run does not call it.
set -euo pipefail
limit=${1:-1.01}
out=$("$(dirname "$0")/callgrind.sh")
echo "$out"
awk -v limit="$limit" '
  $5 == "ntwork-ex" || $5 == "ntwork-ex-stated" || $5 == "ntwork-ex-never" || $5 == "ntwork-io" || $5 == "ntwork-io-lent" {
    checked++; if ($9 > limit) { print "over " limit ": " $1 " vs " $5 " (" $9 ")"; bad = 1 } }
  END { if (checked != 5) { print "ratios not found"; exit 1 } exit bad }' <<<"$out"
