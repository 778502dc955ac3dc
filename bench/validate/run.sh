#!/usr/bin/env bash
# `runi contract validate` on workload W's orders file beside DuckDB and
# Polars doing the same checks (no masking, no outputs), in the same run.
# One command, from anywhere:
#   bench/validate/run.sh                 # SIZES=10m RUNS=3
#   SIZES="1m 10m" RUNS=5 bench/validate/run.sh
# Environment: RUNI (the runi binary; default $CARGO_TARGET_DIR/release/runi,
# then ./target/release/runi; build it with `cargo build --release -p runi`),
# W_SHARED (default /work/shared/bench: gen.py, orders_w.yaml, check_<size>.txt).
# Figures go to bench/out/validate/<UTC stamp>/ (git-ignored).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
shared="${W_SHARED:-/work/shared/bench}"
SIZES="${SIZES:-10m}"
RUNS="${RUNS:-3}"
venv=/tmp/dpvenv
py="$venv/bin/python"

runi="${RUNI:-}"
if [ -z "$runi" ]; then
    for cand in ${CARGO_TARGET_DIR:+"$CARGO_TARGET_DIR/release/runi"} "$repo/target/release/runi"; do
        if [ -x "$cand" ]; then runi="$cand"; break; fi
    done
fi
if [ -z "$runi" ] || [ ! -x "$runi" ]; then
    echo "no runi binary: build it with \`cargo build --release -p runi\` or set RUNI" >&2
    exit 2
fi
if ! "$py" -c 'import duckdb, polars' 2>/dev/null; then
    echo "== creating $venv (duckdb polars)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q duckdb polars
fi
for s in $SIZES; do
    case "$s" in
        1m) n=1000000 ;;
        10m) n=10000000 ;;
        *) echo "unknown size $s (use 1m and/or 10m)" >&2; exit 2 ;;
    esac
    f="/tmp/orders_$s.csv"
    if [ ! -s "$f" ]; then
        echo "== generating $f ($n rows)"
        python3 "$shared/gen.py" "$n" "$f.part"
        mv "$f.part" "$f"
    fi
done

run_dir="$repo/bench/out/validate/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$run_dir"
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "runi: $runi ($("$runi" --version)), built $(date -u -r "$runi" +%Y-%m-%dT%H:%M:%SZ)"
    echo "repo: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')"
    "$py" -c 'import importlib.metadata as m; print("peers: " + ", ".join("%s %s" % (p, m.version(p)) for p in ["duckdb", "polars"]))'
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
        "$(free -g | awk '/^Mem:/ {print $2}') GiB RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"
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
