#!/usr/bin/env bash
# Workload W: runi against DuckDB, Polars and DataFusion, measured in the same run.
# One command, from anywhere:
#   bench/w/run.sh                       # SIZES="1m 10m" RUNS=3
#   SIZES=1m RUNS=5 bench/w/run.sh
# Environment: RUNI (the runi binary; default: $CARGO_TARGET_DIR, then
# /root/.cache/runink-target, then ./target, each with release/runi; it is not
# built here), W_SHARED (default /work/shared/bench: gen.py, check.py,
# bench.py, the peers' scripts, w.dsl, orders_w.yaml, check_<size>.txt),
# W_WORK (default /tmp/runink_w: the tools' outputs, several GB at 10m).
# Figures go to bench/out/w/<UTC stamp>/ (git-ignored).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
shared="${W_SHARED:-/work/shared/bench}"
work="${W_WORK:-/tmp/runink_w}"
SIZES="${SIZES:-1m 10m}"
RUNS="${RUNS:-3}"
salt=runi-bench-salt-v1
peers="duckdb polars datafusion"

. "$repo/bench/lib.sh"
py="$bench_py"
runi="$(bench_find_runi)"
# 1. Python venv with the peers (and duckdb for check.py).
bench_ensure_venv duckdb polars polars-hash datafusion pyarrow
# 2. Input data (deterministic, seed 42).
# shellcheck disable=SC2086
bench_ensure_orders $SIZES

run_dir="$repo/bench/out/w/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$run_dir" "$work"
# bench.py appends to results.jsonl beside itself: run a copy, so that
# /work/shared stays untouched and each run has its own file.
cp "$shared/bench.py" "$run_dir/bench.py"
home="$(mktemp -d /tmp/runink_w_home.XXXXXX)"
trap 'rm -rf "$home"' EXIT

{
    bench_env_header "$runi"
    "$py" - <<'PY'
import importlib.metadata as m
print("peers: " + ", ".join("%s %s" % (p, m.version(p)) for p in
                            ["duckdb", "polars", "polars-hash", "datafusion", "pyarrow"]))
PY
    echo "sizes: $SIZES; runs: $RUNS (rounds interleave the tools)"
} | tee "$run_dir/env.txt"

# 3. Timed runs. Each round runs every tool once, so load drift hits them alike.
for s in $SIZES; do
    f="/tmp/orders_$s.csv"
    wd="$work/$s/runi"
    rm -rf "$wd"
    mkdir -p "$wd"
    cp "$shared/w.dsl" "$shared/orders_w.yaml" "$wd/"
    ln -s "$f" "$wd/orders.csv"
    # Every timed run starts with the input just read, so in the page cache:
    # on this VM pages left alone for a minute are slower to read again (a
    # cold read of the 10M file took 1.0 s against 0.2 s warm), and the
    # tool that runs first in a round would pay for the others.
    for r in $(seq "$RUNS"); do
        echo "== $s round $r/$RUNS"
        cat "$f" > /dev/null
        RUNINK_HOME="$home" RUNINK_MASK_SALT="$salt" python3 "$run_dir/bench.py" runi "$s" 1 "$wd/out" -- \
            sh -c 'exec "$0" --json run "$1" > "$2"' "$runi" "$wd/w.dsl" "$run_dir/runi_report_$s.json"
        for t in $peers; do
            cat "$f" > /dev/null
            python3 "$run_dir/bench.py" "$t" "$s" 1 "$work/$s/out_$t" -- \
                "$py" "$shared/w_$t.py" "$f" "$work/$s/out_$t"
        done
    done | tee -a "$run_dir/runs.log"

    # 4. Fingerprints: runi's DLQ mapped to reject_reason, then check.py on every tool.
    echo "== $s: runi report and DLQ mapping"
    {
        "$py" -c 'import json, sys
try:
    r = json.load(open(sys.argv[1]))
except (OSError, ValueError) as e:
    sys.exit("   runi report: none (%s)" % e)
print("   runi report: " + ", ".join("%s=%s" % (k, r[k]) for k in r if not isinstance(r[k], (dict, list))))' \
            "$run_dir/runi_report_$s.json" || true
        if [ -f "$wd/out/rejects.jsonl" ]; then
            "$py" "$here/dlq_to_w.py" "$wd/out" "$wd/check" || true
        else
            echo "   no DLQ at $wd/out/rejects.jsonl"
        fi
    } 2>&1 | tee "$run_dir/dlq_$s.txt"
    "$py" "$shared/check.py" "$wd/check" > "$run_dir/check_${s}_runi.txt" 2>&1 || true
    for t in $peers; do
        "$py" "$shared/check.py" "$work/$s/out_$t" > "$run_dir/check_${s}_$t.txt" 2>&1 || true
    done
done

# 5. Fingerprint verdicts, table and goals.
echo
# shellcheck disable=SC2086
"$py" "$here/summarize.py" "$run_dir" "$shared" $SIZES | tee "$run_dir/summary.txt"
echo
echo "figures: $run_dir"
