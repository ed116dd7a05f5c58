#!/usr/bin/env bash
# Instructions per item of each path on the minimal kernel, and the ratios.
# Two batch sizes per path; their difference cancels start-up. Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --quiet
bin=target/release/ntwork-minimal-kernel-bench
out=$(mktemp -d)
per_item() {
  local path=$1 a b
  for n in 10000 20000; do
    NTWORK_BENCH_ONLY=$path NTWORK_BENCH_BATCH=$n \
      valgrind --tool=callgrind --callgrind-out-file="$out/$path.$n" "$bin" >/dev/null 2>"$out/$path.$n.log"
  done
  a=$(grep -oP 'Collected : \K[0-9]+' "$out/$path.10000.log")
  b=$(grep -oP 'Collected : \K[0-9]+' "$out/$path.20000.log")
  echo $(((b - a) / 10000))
}
for pair in "c-ex ntwork-ex" "c-io ntwork-io"; do
  set -- $pair
  c=$(per_item "$1"); rust=$(per_item "$2")
  awk -v c="$c" -v r="$rust" -v a="$1" -v b="$2" \
    'BEGIN { printf "%-9s %4d Ir/item   %-9s %4d Ir/item   ratio %.3f\n", a, c, b, r, r / c }'
done
