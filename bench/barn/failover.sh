#!/usr/bin/env bash
# Failover of a 3-node Barn cluster after kill -9 of the leader: the time
# from the kill to the first write acknowledged through a surviving node
# (election, then a commit by the new leader). Repeated TRIES times (the
# killed node is restarted and caught up between tries); prints each try,
# then p50 and max. One command, from anywhere:
#   bench/barn/failover.sh            # TRIES=10
# Environment: RUNI (the runi binary; default: see bench_find_runi in
# bench/lib.sh; build it with `cargo build --release -p runi`),
# BASE_PORT (default 17400). Needs curl and python3. Plaintext (--insecure)
# on loopback: this measures Raft, not TLS handshakes.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
TRIES="${TRIES:-10}"
BASE_PORT="${BASE_PORT:-17400}"
. "$repo/bench/lib.sh"
runi="$(bench_find_runi)"

work="$(mktemp -d)"
declare -A pid
port() { echo $((BASE_PORT + $1)); }
peers="1=127.0.0.1:$(port 1),2=127.0.0.1:$(port 2),3=127.0.0.1:$(port 3)"
start() {
    "$runi" barn start --id "$1" --listen "127.0.0.1:$(port "$1")" --peers "$peers" \
        --data "$work/node-$1" --insecure >>"$work/node-$1.log" 2>&1 &
    pid[$1]=$!
    # No job notices ("Killed"): the kills are the point.
    disown "${pid[$1]}"
}
gone() { while kill -0 "$1" 2>/dev/null; do sleep 0.01; done; }
cleanup() {
    for id in "${!pid[@]}"; do kill -9 "${pid[$id]}" 2>/dev/null || true; done
    for id in "${!pid[@]}"; do gone "${pid[$id]}"; done
    rm -rf "$work"
}
trap cleanup EXIT

# The leader as node $1 sees it (empty if none or no answer).
leader_seen_by() {
    curl -s --max-time 0.5 "http://127.0.0.1:$(port "$1")/v1/status" |
        python3 -c 'import json,sys; l=json.load(sys.stdin).get("leader"); print(l if l is not None else "")' 2>/dev/null || true
}
# Waits (up to 30 s) until nodes 1-3 agree on a leader and each has applied
# the leader's last entry; prints the leader.
settled_leader() {
    for _ in $(seq 600); do
        local s1 s2 s3
        s1="$(curl -s --max-time 0.5 "http://127.0.0.1:$(port 1)/v1/status" || true)"
        s2="$(curl -s --max-time 0.5 "http://127.0.0.1:$(port 2)/v1/status" || true)"
        s3="$(curl -s --max-time 0.5 "http://127.0.0.1:$(port 3)/v1/status" || true)"
        local l
        l="$(python3 - "$s1" "$s2" "$s3" <<'PY' 2>/dev/null || true
import json, sys
try:
    s = [json.loads(a) for a in sys.argv[1:]]
except ValueError:
    sys.exit(0)
leaders = {x.get("leader") for x in s}
applied = {x.get("applied_index") for x in s}
if len(leaders) == 1 and None not in leaders and len(applied) == 1:
    print(leaders.pop())
PY
)"
        if [ -n "$l" ]; then echo "$l"; return; fi
        sleep 0.05
    done
    echo "the cluster did not settle; logs in $work" >&2
    trap - EXIT
    exit 3
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

for id in 1 2 3; do start "$id"; done
settled_leader >/dev/null
client=$(( (RANDOM << 15 | RANDOM) + 1 ))
times=()
for try in $(seq "$TRIES"); do
    leader="$(settled_leader)"
    survivor=$(( leader % 3 + 1 ))
    body="{\"id\":{\"client\":$client,\"seq\":$try},\"command\":{\"RegisterNode\":{\"node\":1000000,\"addr\":\"failover-$try\",\"at_ms\":0}}}"
    t0="$(now_ms)"
    kill -9 "${pid[$leader]}"
    until curl -sf --max-time 1 -H 'content-type: application/json' -d "$body" \
        "http://127.0.0.1:$(port "$survivor")/v1/requests" >/dev/null; do
        sleep 0.01
    done
    t1="$(now_ms)"
    ms=$((t1 - t0))
    times+=("$ms")
    echo "try $try: killed leader $leader, write acknowledged through node $survivor after $ms ms"
    start "$leader"
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
n=${#sorted[@]}
p50=${sorted[$(( (n - 1) / 2 ))]}
max=${sorted[$((n - 1))]}
echo "failover after kill -9 of the leader, $n tries: p50 ${p50} ms, max ${max} ms"
