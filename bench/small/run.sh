#!/usr/bin/env bash
# A 10-row scenario: workload W's pipeline on 10 rows, where start-up and
# bookkeeping are all there is. Goal (issue 5): `runi run` under 50 ms wall.
# Timed with hyperfine beside the peers' W scripts (DuckDB, Polars) on the
# same 10 rows, in the same run; also `runi run --dry-run` (no outputs, no
# run recorded) and `runi --version` (process start alone), which split
# runi's time into its parts.
# One command, from anywhere:
#   bench/small/run.sh                  # RUNS=30
#   HISTORY=1000 bench/small/run.sh     # with 1,000 runs already recorded
# Environment: RUNI (see bench_find_runi in bench/lib.sh), RUNS, HISTORY
# (runs recorded in the state folder before timing, as on a laptop used for
# a while; default 0), W_SHARED (default /work/shared/bench). Figures go to
# bench/out/small/<UTC stamp>/.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
shared="${W_SHARED:-/work/shared/bench}"
RUNS="${RUNS:-30}"
HISTORY="${HISTORY:-0}"

. "$repo/bench/lib.sh"
py="$bench_py"
runi="$(bench_find_runi)"
bench_ensure_venv duckdb polars polars-hash
if ! command -v hyperfine >/dev/null; then
    echo "== installing hyperfine"
    apt-get install -y -qq hyperfine >/dev/null
fi

run_dir="$repo/bench/out/small/$(date -u +%Y%m%dT%H%M%SZ)"
work="$(mktemp -d /tmp/runink_small.XXXXXX)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$run_dir" "$work/runi"
python3 "$shared/gen.py" 10 "$work/orders.csv" > /dev/null
cp "$shared/w.dsl" "$shared/orders_w.yaml" "$work/runi/"
ln -s "$work/orders.csv" "$work/runi/orders.csv"
{
    bench_env_header "$runi"
    echo "input: 10 rows of W ($(wc -c < "$work/orders.csv") bytes); runs: $RUNS each, after 3 warm-up runs; history: $HISTORY runs recorded before"
} | tee "$run_dir/env.txt"

# The state folder persists across runs, as on a laptop: the Barn holds
# every earlier run (the history, hyperfine's warm-up and runs included).
export RUNINK_HOME="$work/home" RUNINK_MASK_SALT=runi-bench-salt-v1
if [ "$HISTORY" -gt 0 ]; then
    echo "== recording $HISTORY runs first"
    for _ in $(seq "$HISTORY"); do
        "$runi" -q run "$work/runi/w.dsl"
    done
fi
hyperfine --style basic --warmup 3 --runs "$RUNS" --export-json "$run_dir/hyperfine.json" \
    --command-name "runi run" "$runi -q run $work/runi/w.dsl" \
    --command-name "runi run --dry-run" "$runi -q run --dry-run $work/runi/w.dsl" \
    --command-name "runi --version" "$runi --version" \
    --command-name "duckdb" "$py $shared/w_duckdb.py $work/orders.csv $work/out_duckdb" \
    --command-name "polars" "$py $shared/w_polars.py $work/orders.csv $work/out_polars" \
    | tee "$run_dir/hyperfine.txt"

runs_recorded="$("$runi" --json runs --limit 100000 | "$py" -c 'import json, sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo '?')"
echo "runs recorded in the state folder at the end: $runs_recorded" | tee -a "$run_dir/env.txt"

"$py" - "$run_dir/hyperfine.json" <<'PY' | tee "$run_dir/summary.txt"
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
runi = results["runi run"]
print()
print("| command | mean ms | median ms | min ms | max ms | mean / runi run |")
print("|---|---:|---:|---:|---:|---:|")
for name, r in results.items():
    print("| %s | %.1f | %.1f | %.1f | %.1f | %.2f× |" % (
        name, r["mean"] * 1e3, r["median"] * 1e3, r["min"] * 1e3, r["max"] * 1e3,
        r["mean"] / runi["mean"]))
median = runi["median"] * 1e3
print()
print("goal: `runi run` of a 10-row scenario under 50 ms wall: median %.1f ms, %s"
      % (median, "MET" if median < 50 else "NOT MET"))
PY
echo "figures: $run_dir"
