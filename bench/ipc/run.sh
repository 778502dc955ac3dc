#!/usr/bin/env bash
# Arrow IPC throughput between two Runink slices over a pipe, beside a raw
# pipe between two slices and between two plain processes (the limit), in
# one run. One command, as root:
#   bench/ipc/run.sh                  # 2 GiB per transfer
#   BYTES=$((512<<20)) bench/ipc/run.sh
# Honours CARGO_TARGET_DIR.
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"

if [ "$(id -u)" != 0 ]; then
    echo "slices are set up as root: run this benchmark as root" >&2
    exit 3
fi

echo "== building the benchmark (release) into $target_dir"
cargo build --release --locked -q -p runink-slice --example ipc_bench

echo "== kernel $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$target_dir/release/examples/ipc_bench"
