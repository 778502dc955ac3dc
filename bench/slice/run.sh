#!/usr/bin/env bash
# Spawn-to-exit latency of a trivial program in a Runink slice (full
# confinement: six namespaces, cgroups, seccomp, pivot_root) beside bwrap,
# unshare and a plain fork+exec, measured in one run. One command, as root:
#   bench/slice/run.sh            # 1,000 runs each
#   RUNS=200 bench/slice/run.sh
# Honours CARGO_TARGET_DIR. Installs bubblewrap with apt-get when missing.
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
runs="${RUNS:-1000}"

if [ "$(id -u)" != 0 ]; then
    echo "slices are set up as root: run this benchmark as root" >&2
    exit 3
fi

if ! command -v bwrap >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    echo "== bwrap missing: installing bubblewrap with apt-get"
    apt-get install -y -qq bubblewrap >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq bubblewrap >/dev/null 2>&1; } \
        || echo "could not install bubblewrap: no bwrap figures"
fi

echo "== building the benchmark (release) into $target_dir"
cargo build --release --locked -q -p runink-slice --example spawn_bench

echo "== kernel $(uname -r), $(nproc) cores; bwrap $(bwrap --version 2>/dev/null || echo absent); $(unshare --version | head -1)"
"$target_dir/release/examples/spawn_bench" "$runs" /bin/true
