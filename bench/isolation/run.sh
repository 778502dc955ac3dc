#!/usr/bin/env bash
# Workload W with isolation on (every step group in a slice, the default)
# against `--isolation none` (built-in steps in the runi process), the same
# runi binary, measured in the same run. One command, from anywhere:
#   bench/isolation/run.sh                 # SIZES="1m 10m" RUNS=3, as root
#   SIZES=1m RUNS=5 bench/isolation/run.sh
# Environment as bench/w/run.sh: RUNI, W_SHARED (default /work/shared/bench),
# W_WORK (default /tmp/runink_iso). Figures go to bench/out/isolation/<stamp>/.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
shared="${W_SHARED:-/work/shared/bench}"
work="${W_WORK:-/tmp/runink_iso}"
SIZES="${SIZES:-1m 10m}"
RUNS="${RUNS:-3}"
salt=runi-bench-salt-v1

. "$repo/bench/lib.sh"
py="$bench_py"
runi="$(bench_find_runi)"
bench_ensure_venv duckdb pyarrow
# shellcheck disable=SC2086
bench_ensure_orders $SIZES

run_dir="$repo/bench/out/isolation/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$run_dir" "$work"
cp "$shared/bench.py" "$run_dir/bench.py"
home="$(mktemp -d /tmp/runink_iso_home.XXXXXX)"
trap 'rm -rf "$home"' EXIT

{
    bench_env_header "$runi"
    echo "sizes: $SIZES; runs: $RUNS (rounds alternate the two modes)"
} | tee "$run_dir/env.txt"

for s in $SIZES; do
    for mode in slices none; do
        wd="$work/$s/$mode"
        rm -rf "$wd"
        mkdir -p "$wd"
        cp "$shared/w.dsl" "$shared/orders_w.yaml" "$wd/"
        ln -s "/tmp/orders_$s.csv" "$wd/orders.csv"
    done
    for r in $(seq "$RUNS"); do
        echo "== $s round $r/$RUNS"
        for mode in slices none; do
            # Each run starts with the input just read (see bench/w/run.sh).
            cat "/tmp/orders_$s.csv" > /dev/null
            wd="$work/$s/$mode"
            flags=""
            [ "$mode" = none ] && flags="--isolation none"
            # shellcheck disable=SC2086
            RUNINK_HOME="$home" RUNINK_MASK_SALT="$salt" python3 "$run_dir/bench.py" "runi_$mode" "$s" 1 "$wd/out" -- \
                sh -c 'exec "$0" --json run $3 "$1" > "$2"' "$runi" "$wd/w.dsl" "$run_dir/report_${s}_$mode.json" "$flags"
        done
    done | tee -a "$run_dir/runs.log"
    # The two modes must write the same rows: W's fingerprint of each.
    for mode in slices none; do
        wd="$work/$s/$mode"
        "$py" "$repo/bench/w/dlq_to_w.py" "$wd/out" "$wd/check" > /dev/null
        "$py" "$shared/check.py" "$wd/check" > "$run_dir/check_${s}_$mode.txt" 2>&1 || true
    done
done

echo
"$py" - "$run_dir" $SIZES <<'PY' | tee "$run_dir/summary.txt"
import json, statistics, sys
run_dir, sizes = sys.argv[1], sys.argv[2:]
runs = [json.loads(l) for l in open(f"{run_dir}/runs.log") if l.startswith("{")]
print("| size | mode | median wall s | median peak RSS MiB (process tree) | runs failed |")
print("|---|---|---:|---:|---:|")
for s in sizes:
    med = {}
    for mode in ("slices", "none"):
        rs = [r for r in runs if r["size"] == s and r["name"] == f"runi_{mode}"]
        ok = [r for r in rs if r["rc"] == 0]
        wall = statistics.median(r["wall_s"] for r in ok) if ok else float("nan")
        rss = statistics.median(max(r["time_maxrss_mb"], r["tree_peak_rss_mb"]) for r in ok) if ok else float("nan")
        med[mode] = wall
        print(f"| {s} | {mode} | {wall:.2f} | {rss:.0f} | {len(rs) - len(ok)} |")
    # Each fingerprint starts with its folder's path, which differs.
    fp = {m: open(f"{run_dir}/check_{s}_{m}.txt").read().strip().split(":", 1)[-1] for m in ("slices", "none")}
    same = "MATCH" if fp["slices"] == fp["none"] and fp["slices"] else "DIFFER"
    ratio = med["slices"] / med["none"]
    verdict = "met" if ratio <= 1.05 else "NOT met"
    print(f"\n{s}: slices/none wall = {ratio:.3f} (goal at most 1.05: {verdict}); fingerprints {same}\n")
PY
echo "figures: $run_dir"
