#!/usr/bin/env bash
# `runi contract validate` on workload W's orders file beside DuckDB and
# Polars doing the same checks (no masking, no outputs), in the same run.
# One command, from anywhere:
#   bench/validate/run.sh                 # SIZES=10m RUNS=3
#   SIZES="1m 10m" RUNS=5 bench/validate/run.sh
# Environment: RUNI (the runi binary; default: see bench_find_runi in
# bench/lib.sh; build it with `cargo build --release -p runi`),
# W_SHARED (default /work/shared/bench: gen.py, orders_w.yaml, check_<size>.txt).
# Figures go to bench/out/validate/<UTC stamp>/ (git-ignored).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
shared="${W_SHARED:-/work/shared/bench}"
SIZES="${SIZES:-10m}"
RUNS="${RUNS:-3}"
. "$repo/bench/lib.sh"
py="$bench_py"
runi="$(bench_find_runi)"
bench_ensure_venv duckdb polars
# shellcheck disable=SC2086
bench_ensure_orders $SIZES

run_dir="$repo/bench/out/validate/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$run_dir"
{
    bench_env_header "$runi"
    "$py" -c 'import importlib.metadata as m; print("peers: " + ", ".join("%s %s" % (p, m.version(p)) for p in ["duckdb", "polars"]))'
    echo "sizes: $SIZES; runs: $RUNS (each round runs every tool once)"
} | tee "$run_dir/env.txt"

# One timed run: wall time and peak RSS from GNU time; stdout kept.
# usage: timed TOOL SIZE OK_EXITS OUT -- cmd...
timed() {
    local tool="$1" size="$2" ok="$3" out="$4"; shift 5
    local tv="$run_dir/time.txt" code=0
    /usr/bin/time -v -o "$tv" "$@" > "$out" 2> "$run_dir/stderr_${size}_$tool.txt" || code=$?
    local wall rss
    wall="$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tv" | awk -F: '{ if (NF == 3) print $1*3600+$2*60+$3; else print $1*60+$2 }')"
    rss="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tv")"
    printf '{"tool": "%s", "size": "%s", "exit": %d, "exits_ok": [%s], "wall_s": %s, "max_rss_kb": %s}\n' \
        "$tool" "$size" "$code" "$ok" "$wall" "$rss" >> "$run_dir/runs.jsonl"
    printf '   %-7s %8ss  %6s MiB  exit %d\n' "$tool" "$wall" "$((rss / 1024))" "$code"
}

for s in $SIZES; do
    f="/tmp/orders_$s.csv"
    cat "$f" > /dev/null    # warm the page cache
    for r in $(seq "$RUNS"); do
        echo "== $s round $r/$RUNS"
        # runi exits 1 when rows are rejected: that is the expected outcome here.
        timed runi "$s" "0, 1" "$run_dir/runi_$s.json" -- \
            "$runi" --json contract validate "$f" --contract "$shared/orders_w.yaml"
        timed duckdb "$s" 0 "$run_dir/counts_${s}_duckdb.json" -- "$py" "$here/validate_duckdb.py" "$f"
        timed polars "$s" 0 "$run_dir/counts_${s}_polars.json" -- "$py" "$here/validate_polars.py" "$f"
    done | tee -a "$run_dir/rounds.log"
    "$py" "$here/runi_counts.py" "$run_dir/runi_$s.json" > "$run_dir/counts_${s}_runi.json" || true
done

echo
# shellcheck disable=SC2086
"$py" "$here/summarize.py" "$run_dir" "$shared" $SIZES | tee "$run_dir/summary.txt"
echo "figures: $run_dir"
