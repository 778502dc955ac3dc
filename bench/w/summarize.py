#!/usr/bin/env python3
"""Summarise one bench/w run: fingerprints against the reference, then the table.

usage: summarize.py RUN_DIR REF_DIR SIZE...

RUN_DIR holds results.jsonl (from bench.py) and check_<size>_<tool>.txt (from
check.py). REF_DIR holds check_<size>.txt, the peers' reference fingerprints.
"""
import json
import os
import re
import statistics
import sys

TOOLS = ("runi", "duckdb", "polars", "datafusion")
PEERS = TOOLS[1:]
ROWS = {"1m": 1_000_000, "10m": 10_000_000}
SPEEDUP_GOAL = 1.5
RSS_GOAL_MIB = 300


def parse_checks(text):
    """check.py output -> list of {path, n, cents, h, rejects: {reason: (n, h)}, schema}."""
    blocks = []
    for line in text.splitlines():
        m = re.match(r"^(\S+): valid n=(\S+) cents=(\S+) h=(\S+)$", line)
        if m:
            blocks.append(dict(path=m.group(1), n=m.group(2), cents=m.group(3), h=m.group(4),
                               rejects={}, schema={}))
            continue
        if not blocks:
            continue
        m = re.match(r"^\s+rejects:\s*(.*)$", line)
        if m:
            for part in filter(None, (p.strip() for p in m.group(1).split(", "))):
                pm = re.match(r"^(.*)=(\d+)\(h(\d+)\)$", part)
                if pm:
                    blocks[-1]["rejects"][pm.group(1)] = (int(pm.group(2)), pm.group(3))
            continue
        m = re.match(r"^\s+schema:\s*(.*)$", line)
        if m:
            for part in m.group(1).split(", "):
                name, _, typ = part.partition(":")
                blocks[-1]["schema"][name] = typ
    return blocks


def compare(ref, got):
    """Differences between two fingerprints, as readable lines (empty = match)."""
    diffs = []
    if (ref["n"], ref["cents"]) != (got["n"], got["cents"]):
        diffs.append("valid: n=%s cents=%s, reference n=%s cents=%s"
                     % (got["n"], got["cents"], ref["n"], ref["cents"]))
    if ref["h"] != got["h"]:
        diffs.append("valid row hash h=%s, reference h=%s" % (got["h"], ref["h"]))
    for reason in sorted(set(ref["rejects"]) | set(got["rejects"])):
        r, g = ref["rejects"].get(reason), got["rejects"].get(reason)
        if r != g:
            fmt = lambda x: "absent" if x is None else "%d (h%s)" % x
            delta = "" if r is None or g is None else " (%+d)" % (g[0] - r[0])
            diffs.append("rejects %s: %s, reference %s%s" % (reason, fmt(g), fmt(r), delta))
    return diffs


def schema_notes(ref, got):
    """Column names/types against the reference (created_at µs vs ns is allowed by W)."""
    notes = []
    if list(ref["schema"]) != list(got["schema"]):
        notes.append("columns %s, reference %s" % (list(got["schema"]), list(ref["schema"])))
    for name, typ in got["schema"].items():
        want = ref["schema"].get(name)
        if want and want != typ:
            ok = name == "created_at" and typ.startswith("TIMESTAMP") and "TIME ZONE" not in typ
            notes.append("%s is %s, reference %s%s" % (name, typ, want,
                                                       " (allowed: µs or ns)" if ok else ""))
    return notes


def median(xs):
    return statistics.median(xs) if xs else None


def main():
    run_dir, ref_dir, sizes = sys.argv[1], sys.argv[2], sys.argv[3:]
    recs = []
    with open(os.path.join(run_dir, "results.jsonl")) as f:
        for line in f:
            if line.strip():
                recs.append(json.loads(line))

    print("== fingerprints (check.py) against %s/check_<size>.txt" % ref_dir)
    verdicts = {}
    for size in sizes:
        refs = parse_checks(open(os.path.join(ref_dir, "check_%s.txt" % size)).read())
        ref = next(b for b in refs if b["path"].endswith("/out_duckdb"))
        print("-- %s reference (%s):" % (size, ref["path"]))
        print("   valid n=%s cents=%s h=%s" % (ref["n"], ref["cents"], ref["h"]))
        print("   rejects: " + ", ".join("%s=%d(h%s)" % (k, v[0], v[1])
                                         for k, v in sorted(ref["rejects"].items())))
        for tool in TOOLS:
            path = os.path.join(run_dir, "check_%s_%s.txt" % (size, tool))
            got = parse_checks(open(path).read()) if os.path.exists(path) else []
            if not got:
                verdicts[(tool, size)] = "NO OUTPUT"
                print("%-10s %-4s NO OUTPUT (see %s)" % (tool, size, path))
                continue
            got = got[0]
            diffs = compare(ref, got)
            verdicts[(tool, size)] = "MATCH" if not diffs else "MISMATCH"
            print("%-10s %-4s %s" % (tool, size, verdicts[(tool, size)]))
            print("   valid n=%s cents=%s h=%s" % (got["n"], got["cents"], got["h"]))
            print("   rejects: " + ", ".join("%s=%d(h%s)" % (k, v[0], v[1])
                                             for k, v in sorted(got["rejects"].items())))
            for d in diffs:
                print("   DIFF " + d)
            for note in schema_notes(ref, got):
                print("   schema: " + note)

    print()
    print("== timings (%s cores; median of the runs; rows/s = input rows / median wall;"
          % os.cpu_count())
    print("   peak RSS = median over runs of max(GNU time max RSS, sampled process-tree RSS);")
    print("   ratio = peer median wall / runi median wall, > 1 means runi is faster)")
    header = "| tool | size | runs | median wall s | min-max s | rows/s | peak RSS MiB | CPU % | peer/runi | fingerprint |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    stats = {}
    failures = []
    for size in sizes:
        for tool in TOOLS:
            rs = [r for r in recs if r["name"] == tool and r["size"] == size]
            ok = [r for r in rs if r["rc"] == 0]
            for r in rs:
                if r["rc"] != 0:
                    failures.append("%s %s run %s: exit %s; stderr tail: %s"
                                    % (tool, size, r.get("date"), r["rc"],
                                       (r.get("stderr_tail") or "").strip()[-600:] or "(empty)"))
            if not ok:
                stats[(tool, size)] = None
                print("| %s | %s | 0/%d ok | - | - | - | - | - | - | %s |"
                      % (tool, size, len(rs), verdicts.get((tool, size), "-")))
                continue
            wall = median([r["wall_s"] for r in ok])
            rss = median([max(r["time_maxrss_mb"] or 0, r["tree_peak_rss_mb"] or 0) for r in ok])
            cpu = median([r["cpu_pct"] for r in ok if r.get("cpu_pct") is not None])
            stats[(tool, size)] = dict(wall=wall, rss=rss, cpu=cpu,
                                       lo=min(r["wall_s"] for r in ok),
                                       hi=max(r["wall_s"] for r in ok), n=len(ok), of=len(rs))
        base = stats.get(("runi", size))
        for tool in TOOLS:
            s = stats[(tool, size)]
            if s is None:
                continue
            ratio = "-" if tool == "runi" or not base else "%.2f" % (s["wall"] / base["wall"])
            runs = "%d" % s["n"] if s["n"] == s["of"] else "%d/%d ok" % (s["n"], s["of"])
            print("| %s | %s | %s | %.2f | %.2f-%.2f | %s | %.0f | %s | %s | %s |" % (
                tool, size, runs, s["wall"], s["lo"], s["hi"],
                "{:,.0f}".format(ROWS.get(size, 0) / s["wall"]) if s["wall"] else "-",
                s["rss"], "-" if s["cpu"] is None else "%.0f" % s["cpu"], ratio,
                verdicts.get((tool, size), "-")))

    for line in failures:
        print("FAILED " + line)

    print()
    print("== goals")
    for size in sizes:
        base = stats.get(("runi", size))
        peers = [(stats[(t, size)]["wall"], t) for t in PEERS if stats.get((t, size))]
        if not base or not peers:
            print("speed %s: cannot tell (runi or every peer failed)" % size)
            continue
        best, who = min(peers)
        speedup = best / base["wall"]
        print("speed %s: fastest peer %s %.2f s, runi %.2f s -> %.2fx (goal >= %.1fx): %s"
              % (size, who, best, base["wall"], speedup, SPEEDUP_GOAL,
                 "PASS" if speedup >= SPEEDUP_GOAL else "FAIL"))
    if "10m" in sizes:
        base = stats.get(("runi", "10m"))
        if base:
            print("memory 10m: runi peak RSS %.0f MiB (goal < %d MiB): %s"
                  % (base["rss"], RSS_GOAL_MIB, "PASS" if base["rss"] < RSS_GOAL_MIB else "FAIL"))
        else:
            print("memory 10m: cannot tell (runi failed)")
    else:
        print("memory 10m: not measured in this run (SIZES=%s); for reference, runi at %s: %s"
              % (" ".join(sizes), sizes[-1],
                 "%.0f MiB" % stats[("runi", sizes[-1])]["rss"] if stats.get(("runi", sizes[-1])) else "-"))
    for size in sizes:
        print("correctness %s: runi fingerprint %s" % (size, verdicts.get(("runi", size), "-")))


if __name__ == "__main__":
    main()
