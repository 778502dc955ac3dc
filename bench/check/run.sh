#!/usr/bin/env bash
# Times `runi check` on generated 10,000- and 1,000-line scenario files
# against the goal of 100 ms for 10,000 lines. One command, from anywhere:
#   bench/check/run.sh
# Honours CARGO_TARGET_DIR; set RUNS to change the number of timed runs.
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
runi="$target_dir/release/runi"
out="$repo/bench/out/check"
runs="${RUNS:-30}"
goal_ms=100

echo "== building runi (release) into $target_dir"
cargo build --release -p runi

if ! command -v hyperfine >/dev/null 2>&1 && [ "$(id -u)" = 0 ] \
    && command -v apt-get >/dev/null 2>&1; then
    echo "== hyperfine missing: installing it with apt-get"
    apt-get install -y -qq hyperfine >/dev/null 2>&1 \
        || echo "could not install hyperfine: timing with Python instead"
fi

echo "== generating scenarios into $out"
for lines in 10000 1000; do
    python3 bench/check/gen_scenario.py --lines "$lines" --out "$out"
done

for lines in 10000 1000; do
    file="$out/scenarios_$lines.dsl"
    if ! "$runi" check --quiet "$file"; then
        echo "runi check failed on $file: the generator is out of step with the language" >&2
        exit 1
    fi
done

echo "== timing \`runi check\` ($runs runs each, $(nproc) cores)"
echo "peers: none; no other tool checks this scenario language, so there is no peer figure"
python3 - "$runi" "$out" "$runs" "$goal_ms" <<'PY'
import json, os, shutil, statistics, subprocess, sys, tempfile, time

runi, out, runs, goal_ms = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])

def hyperfine(file):
    """Wall times in ms from hyperfine, or None when it is not installed."""
    if not shutil.which("hyperfine"):
        return None
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        subprocess.run(
            ["hyperfine", "--warmup", "3", "--runs", str(runs), "-N", "--style", "none",
             "--export-json", report.name, "%s check --quiet %s" % (runi, file)],
            check=True, stdout=subprocess.DEVNULL)
        with open(report.name) as f:
            return [t * 1000 for t in json.load(f)["results"][0]["times"]]

def python_loop(file):
    """Wall times in ms of `runs` runs after 3 warm-ups."""
    times = []
    for i in range(runs + 3):
        start = time.perf_counter()
        subprocess.run([runi, "check", "--quiet", file], check=True,
                       stdout=subprocess.DEVNULL)
        if i >= 3:
            times.append((time.perf_counter() - start) * 1000)
    return times

for lines in (10000, 1000):
    file = os.path.join(out, "scenarios_%d.dsl" % lines)
    with open(file) as f:
        counted = sum(1 for _ in f)
    times = hyperfine(file)
    tool = "hyperfine"
    if times is None:
        times, tool = python_loop(file), "python loop"
    p50, mean, top = statistics.median(times), statistics.mean(times), max(times)
    print("%6d lines (%s, %d runs): p50 %.1f ms, mean %.1f ms, max %.1f ms, %.0f lines/s"
          % (counted, tool, len(times), p50, mean, top, counted / (p50 / 1000)))
    if lines == 10000:
        verdict = "PASS" if p50 < goal_ms else "FAIL"
        print("       p50 %.1f ms = %.2f x goal (%d ms): %s" % (p50, p50 / goal_ms, goal_ms, verdict))
PY
