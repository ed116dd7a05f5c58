#!/usr/bin/env bash
# What `#[work_item]` costs the compiler: a crate of N routines through the
# attribute against the same crate written out by hand (what the attribute
# expands to, through the same runtime traits), built side by side.
#
#   benches/compile-time/run.sh [N]        (default 1000)
#
# Prints the whole-build wall time of each (cargo build, debug, after the
# dependencies are built) and rustc's macro-expansion time (-Ztime-passes,
# RUSTC_BOOTSTRAP=1), and their ratio.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
n=${1:-1000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for kind in attribute hand; do
  mkdir -p "$work/$kind/src"
  cat > "$work/$kind/Cargo.toml" <<TOML
[package]
name = "ct-$kind"
version = "0.0.0"
edition = "2024"
publish = false
[dependencies]
ntwork = { path = "$root/runtime", default-features = false }
[workspace]
TOML
done
python3 "$here/generate.py" "$n" "$work/attribute/src/lib.rs" "$work/hand/src/lib.rs"

export CARGO_TARGET_DIR="$work/target" CARGO_INCREMENTAL=0
for kind in attribute hand; do
  cargo build --quiet --manifest-path "$work/$kind/Cargo.toml" >/dev/null # dependencies
done
# Alternate the two, three rounds each; report the median.
for round in 1 2 3; do
  for kind in attribute hand; do
    touch "$work/$kind/src/lib.rs"
    start=$(date +%s.%N)
    cargo build --quiet --manifest-path "$work/$kind/Cargo.toml"
    end=$(date +%s.%N)
    echo "$kind $(echo "$end - $start" | bc)" >> "$work/builds"
    touch "$work/$kind/src/lib.rs"
    RUSTC_BOOTSTRAP=1 cargo rustc --quiet --manifest-path "$work/$kind/Cargo.toml" -- -Ztime-passes 2>&1 |
      awk -v k="$kind" '/time: .*expand_crate/ { gsub(";", "", $2); print k, $2; exit }' >> "$work/expand"
  done
done
median() { grep "^$1 " "$2" | awk '{print $2}' | sort -n | sed -n 2p; }
for what in builds expand; do
  a=$(median attribute "$work/$what"); h=$(median hand "$work/$what")
  awk -v w="$what" -v a="$a" -v h="$h" -v n="$n" \
    'BEGIN { printf "%-7s %d routines: attribute %.3f s, hand-written %.3f s, ratio %.2f\n", w, n, a, h, a / h }'
done
