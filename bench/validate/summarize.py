#!/usr/bin/env python3
"""Table and verdicts for bench/validate: median wall time, rows/s, peak RSS,
ratios against runi, and each tool's reject counts per reason against the
reference in check_<size>.txt.  usage: summarize.py RUN_DIR SHARED SIZE..."""
import json, os, re, statistics, sys

run_dir, shared, sizes = sys.argv[1], sys.argv[2], sys.argv[3:]
ROWS = {"1m": 1_000_000, "10m": 10_000_000}
MIB = 1024 * 1024


def reference(size):
    text = open(os.path.join(shared, "check_%s.txt" % size)).read()
    line = re.search(r"rejects: (.*)", text).group(1)
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)\(", line)}


runs = [json.loads(l) for l in open(os.path.join(run_dir, "runs.jsonl"))]
for size in sizes:
    expected = reference(size)
    print("== %s rows (%s): reference rejects %s" % (size, ROWS[size], expected))
    tools = []
    for r in runs:
        if r["size"] == size and r["tool"] not in tools:
            tools.append(r["tool"])
    table = {}
    for tool in tools:
        mine = [r for r in runs if r["size"] == size and r["tool"] == tool]
        ok = [r for r in mine if r["exit"] in r["exits_ok"]]
        wall = statistics.median(r["wall_s"] for r in ok) if ok else None
        rss = max(r["max_rss_kb"] for r in ok) * 1024 if ok else None
        counts_file = os.path.join(run_dir, "counts_%s_%s.json" % (size, tool))
        try:
            counts = json.load(open(counts_file))
            verdict = "MATCH" if counts["rejects"] == expected and counts["rows"] == ROWS[size] \
                else "MISMATCH %s" % counts
        except (OSError, ValueError) as e:
            verdict = "NO COUNTS (%s)" % e
        table[tool] = (wall, rss, verdict, len(ok), len(mine))
    base = table.get("runi", (None,))[0]
    print("%-8s %9s %12s %10s %11s  %s" % ("tool", "wall s", "rows/s", "peak MiB", "tool/runi", "reject counts"))
    for tool, (wall, rss, verdict, good, total) in table.items():
        if wall is None:
            print("%-8s  failed (%d of %d runs ok)  %s" % (tool, good, total, verdict))
            continue
        ratio = "%.2fx" % (wall / base) if base else "-"
        print("%-8s %9.2f %12.0f %10.0f %11s  %s" % (tool, wall, ROWS[size] / wall, rss / MIB, ratio, verdict))
    if base:
        runi_rss = table["runi"][1] / MIB
        peers = [t for t in table if t != "runi" and table[t][0]]
        faster = all(table[t][0] > base for t in peers)
        print("goal: faster than %s: %s; peak RSS under 300 MiB: %s (%.0f MiB)" % (
            " and ".join(peers), "yes" if faster else "NO", "yes" if runi_rss < 300 else "NO", runi_rss))
    print()
