#!/usr/bin/env bash
# Commit throughput and p50/p99 latency of the Barn beside etcd, in one run:
# 1, 16 and 64 concurrent clients, on 1 node and on 3 nodes, fsync on in
# both, plaintext on loopback. Each client keeps one connection to one
# member (client i to member i mod n) and writes one small record at a
# time (`crates/barn/examples/commit_bench.rs`): the Barn through its REST
# API (`POST /v1/requests`), etcd through its gRPC `KV.Put`. Also prints
# the servers' CPU time per write (all members, from /proc). One command:
#   bench/barn/throughput.sh
# Environment: RUNI (default: see bench_find_runi in bench/lib.sh),
# ETCD (default: etcd on PATH; Debian's etcd-server package), SECS per
# point (default 10), CLIENTS (default "1 16 64"), NODES (default "1 3"),
# BASE_PORT (default 17500). Build first:
#   cargo build --release -p runi && cargo build --release -p runink-barn --example commit_bench
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
SECS="${SECS:-10}"
CLIENTS="${CLIENTS:-1 16 64}"
NODES="${NODES:-1 3}"
BASE_PORT="${BASE_PORT:-17500}"
. "$repo/bench/lib.sh"
runi="$(bench_find_runi)"
bench="$(dirname "$runi")/examples/commit_bench"
[ -x "$bench" ] || { echo "no $bench: build it with \`cargo build --release -p runink-barn --example commit_bench\`" >&2; exit 2; }
etcd="${ETCD:-$(command -v etcd || true)}"
[ -x "$etcd" ] || { echo "no etcd: install Debian's etcd-server (apt-get install etcd-server) or set ETCD" >&2; exit 2; }

work="$(mktemp -d)"
pids=()
stop_all() {
    local p
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    # wait, not a kill -0 loop: it reaps them, and its stderr takes bash's "Killed" notices.
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
}
cleanup() { stop_all; rm -rf "$work"; }
trap cleanup EXIT

port() { echo $((BASE_PORT + $1)); }

# Starts an n-node Barn cluster; sets `urls` to its client URLs,
# comma-separated. (Not in a subshell: `pids` must keep the processes.)
start_barn() {
    local n="$1" id peers=""
    urls=""
    for id in $(seq "$n"); do peers="${peers:+$peers,}$id=127.0.0.1:$(port "$id")"; done
    for id in $(seq "$n"); do
        "$runi" barn start --id "$id" --listen "127.0.0.1:$(port "$id")" --peers "$peers" \
            --data "$work/barn-$n-$id" --insecure >>"$work/barn-$n-$id.log" 2>&1 &
        pids+=($!)
        urls="${urls:+$urls,}http://127.0.0.1:$(port "$id")"
    done
}

# Starts an n-member etcd cluster (fsync on, etcd's default); sets `urls`.
start_etcd() {
    local n="$1" id cluster=""
    urls=""
    for id in $(seq "$n"); do cluster="${cluster:+$cluster,}e$id=http://127.0.0.1:$(port $((id + 20)))"; done
    for id in $(seq "$n"); do
        "$etcd" --name "e$id" --data-dir "$work/etcd-$n-$id" \
            --listen-client-urls "http://127.0.0.1:$(port $((id + 10)))" \
            --advertise-client-urls "http://127.0.0.1:$(port $((id + 10)))" \
            --listen-peer-urls "http://127.0.0.1:$(port $((id + 20)))" \
            --initial-advertise-peer-urls "http://127.0.0.1:$(port $((id + 20)))" \
            --initial-cluster "$cluster" --initial-cluster-state new \
            --log-level error >>"$work/etcd-$n-$id.log" 2>&1 &
        pids+=($!)
        urls="${urls:+$urls,}http://127.0.0.1:$(port $((id + 10)))"
    done
}

# CPU seconds (user + system) the running servers have used so far.
servers_cpu_ticks() {
    local p total=0 t
    for p in "${pids[@]}"; do
        t="$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)"
        total=$((total + t))
    done
    echo "$total"
}

# Retries a short write until the cluster takes it (a leader is elected).
await_writes() {
    local target="$1" urls="$2"
    for _ in $(seq 300); do
        if "$bench" "$target" "$urls" 1 0.2 >/dev/null 2>&1; then return; fi
        sleep 0.1
    done
    echo "$target did not accept writes in 30 s; logs in $work" >&2
    trap - EXIT
    exit 3
}

bench_env_header "$runi"
echo "etcd: $("$etcd" --version | head -1)"
echo "seconds per point: $SECS; clients: $CLIENTS; nodes: $NODES"
hz="$(getconf CLK_TCK)"
results="$work/results"
for n in $NODES; do
    for target in barn etcd; do
        if [ "$target" = barn ]; then start_barn "$n"; else start_etcd "$n"; fi
        await_writes "$target" "$urls"
        # Warm up: connections, the leader's caches, the first log segments.
        "$bench" "$target" "$urls" 16 2 >/dev/null
        for c in $CLIENTS; do
            before="$(servers_cpu_ticks)"
            line="$("$bench" "$target" "$urls" "$c" "$SECS")"
            after="$(servers_cpu_ticks)"
            writes="$(sed 's/.*writes=\([0-9]*\) .*/\1/' <<<"$line")"
            cpu_us=$(( (after - before) * 1000000 / hz / (writes > 0 ? writes : 1) ))
            echo "$target nodes=$n clients=$c $line cpu_us_per_write=$cpu_us" | tee -a "$results"
        done
        stop_all
    done
done

echo
echo "| nodes | clients | runi writes/s | etcd writes/s | runi/etcd | runi p50 / p99 ms | etcd p50 / p99 ms | CPU µs per write runi / etcd |"
echo "|---|---|---|---|---|---|---|---|"
field() { sed -n "s/^$1 nodes=$2 clients=$3 .*$4=\([^ ]*\).*/\1/p" "$results"; }
for n in $NODES; do
    for c in $CLIENTS; do
        rw="$(field barn "$n" "$c" writes_per_s)"
        ew="$(field etcd "$n" "$c" writes_per_s)"
        ratio="$(awk -v a="$rw" -v b="$ew" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "-" }')"
        echo "| $n | $c | $rw | $ew | $ratio |" \
            "$(field barn "$n" "$c" p50_ms) / $(field barn "$n" "$c" p99_ms) |" \
            "$(field etcd "$n" "$c" p50_ms) / $(field etcd "$n" "$c" p99_ms) |" \
            "$(field barn "$n" "$c" cpu_us_per_write) / $(field etcd "$n" "$c" cpu_us_per_write) |"
    done
done
