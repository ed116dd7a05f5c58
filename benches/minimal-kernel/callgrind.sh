#!/usr/bin/env bash
# Instructions per item of each path on the minimal kernel, and the ratios
# ntwork / hand-written. Two batch sizes per path; their difference cancels
# start-up. Needs valgrind. Usage: benches/minimal-kernel/callgrind.sh
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --quiet
bin=target/release/ntwork-minimal-kernel-bench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
small=10000 large=20000
# Prints "<Ir small> <Ir large> <Ir per item>" for one path.
measure() {
  local path=$1 n
  for n in $small $large; do
    NTWORK_BENCH_ONLY=$path NTWORK_BENCH_BATCH=$n \
      valgrind --tool=callgrind --callgrind-out-file="$out/$path.$n" "$bin" >/dev/null 2>"$out/$path.$n.log"
  done
  awk -v s=$small -v l=$large '/Collected :/ { ir[++k] = $NF }
    END { printf "%d %d %.1f\n", ir[1], ir[2], (ir[2] - ir[1]) / (l - s) }' \
    "$out/$path.$small.log" "$out/$path.$large.log"
}
printf '%-18s %12s %12s %8s   %-18s %12s %12s %8s   %s\n' \
  "hand-written" "Ir $small" "Ir $large" "Ir/item" "ntwork" "Ir $small" "Ir $large" "Ir/item" "ratio"
for pair in "c-ex ntwork-ex" "c-ex ntwork-ex-stated" "c-ex-plain ntwork-ex-forever" "c-ex-plain ntwork-ex-never" "c-io ntwork-io" "c-io ntwork-io-lent" "c-io ntwork-io-item"; do
  set -- $pair
  read -r c1 c2 c <<<"$(measure "$1")"
  read -r r1 r2 r <<<"$(measure "$2")"
  awk -v a="$1" -v b="$2" -v c1=$c1 -v c2=$c2 -v c=$c -v r1=$r1 -v r2=$r2 -v r=$r 'BEGIN {
    printf "%-18s %12d %12d %8.1f   %-18s %12d %12d %8.1f   %.3f (%+.1f Ir)\n", a, c1, c2, c, b, r1, r2, r, r / c, r - c }'
done
