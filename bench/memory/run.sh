#!/usr/bin/env bash
# Constant memory: workload W over a ~10 GB CSV stream, with runi's resident
# memory sampled every second. The input is COPIES copies of the 10M-row
# orders file (default 9, about 10 GB) fed through a FIFO, so it needs no
# disk of its own; the contract is W's without `unique` on order_id (the
# copies repeat every id, and the point here is the stream, not the DLQ).
# One command:
#   bench/memory/run.sh                 # COPIES=9
#   COPIES=2 bench/memory/run.sh        # a quicker look
# Environment: RUNI (the runi binary; default ./target/release/runi, then
# $CARGO_TARGET_DIR/release/runi), W_SHARED (default /work/shared/bench).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
shared="${W_SHARED:-/work/shared/bench}"
COPIES="${COPIES:-9}"
data=/tmp/orders_10m.csv

runi="${RUNI:-}"
for cand in "$repo/target/release/runi" ${CARGO_TARGET_DIR:+"$CARGO_TARGET_DIR/release/runi"}; do
    if [ -z "$runi" ] && [ -x "$cand" ]; then runi="$cand"; fi
done
if [ -z "$runi" ]; then
    echo "no runi binary: build it with \`cargo build --release -p runi\` or set RUNI" >&2
    exit 2
fi
if [ ! -s "$data" ]; then
    echo "== generating $data (10M rows)"
    python3 "$shared/gen.py" 10000000 "$data.part"
    mv "$data.part" "$data"
fi

work="$(mktemp -d /var/tmp/runink_memory.XXXXXX)"
trap 'rm -rf "$work"' EXIT
cp "$shared/w.dsl" "$work/"
# W's contract without `unique: true` on order_id.
sed '/name: order_id/,/logicalTypeOptions/ { /unique: true/d }' "$shared/orders_w.yaml" > "$work/orders_w.yaml"
mkfifo "$work/orders.csv"

bytes_one=$(stat -c %s "$data")
echo "input: $COPIES copies of $data, about $((bytes_one * COPIES / 1024 / 1024)) MiB through a FIFO"
echo "runi: $runi ($("$runi" --version)); machine load $(cut -d' ' -f1-3 /proc/loadavg)"

{ cat "$data"; for _ in $(seq 2 "$COPIES"); do tail -n +2 "$data"; done; } > "$work/orders.csv" &
feeder=$!

start=$(date +%s.%N)
RUNINK_HOME="$work/home" RUNINK_MASK_SALT=bench-memory \
    /usr/bin/time -v -o "$work/time.txt" "$runi" --json run "$work/w.dsl" > "$work/report.json" &
timer=$!
# Sample runi's RSS (the child of /usr/bin/time) once a second.
: > "$work/rss.txt"
while kill -0 "$timer" 2>/dev/null; do
    pid=$(pgrep -P "$timer" -x runi || true)
    if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
        awk -v t="$(date +%s)" '/^VmRSS:/ { print t, $2 }' "/proc/$pid/status" >> "$work/rss.txt" || true
    fi
    sleep 1
done
wait "$timer"
wait "$feeder" || true
end=$(date +%s.%N)

python3 - "$work" "$start" "$end" <<'PY'
import json, re, sys
work, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
report = json.load(open(f"{work}/report.json"))["report"]
time_txt = open(f"{work}/time.txt").read()
peak_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_txt).group(1))
samples = [int(line.split()[1]) for line in open(f"{work}/rss.txt") if line.strip()]
seconds = end - start
print(f"rows in {report['rows_in']:,}  out {report['rows_out']:,}  rejected {report['rows_rejected']:,}")
print(f"bytes in {report['bytes_in'] / 2**30:.2f} GiB  wall {seconds:.1f} s  "
      f"{report['rows_in'] / seconds:,.0f} rows/s")
print(f"peak RSS {peak_kib / 1024:.0f} MiB")
if samples:
    def at(frac):
        return samples[min(len(samples) - 1, int(frac * len(samples)))] / 1024
    print("RSS over the run (MiB) at 10% / 25% / 50% / 75% / 90% of it: " +
          " / ".join(f"{at(f):.0f}" for f in (0.1, 0.25, 0.5, 0.75, 0.9)))
PY
