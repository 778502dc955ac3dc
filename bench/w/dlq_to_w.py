#!/usr/bin/env python3
"""Turn runi's output folder into the shape /work/shared/bench/check.py reads.

usage: dlq_to_w.py RUNI_OUT CHECK_DIR

RUNI_OUT holds runi's valid.parquet and rejects.jsonl (the DLQ: the row's
fields plus `_runink` = {run_id, step, rule, field, message, source, line}).
CHECK_DIR gets valid.parquet (a symlink) and rejects.jsonl with the row's
fields plus `reject_reason`, mapped as workload W's README says:
rule `duplicate` -> duplicate_order_id; else by field: order_id ->
bad_order_id, amount -> bad_amount, currency -> bad_currency, created_at ->
bad_created_at. Anything else becomes `other:<step>/<field>/<rule>`, so that
check.py shows it instead of it being hidden.

Prints a count per (step, field, rule) -> reason on stdout.
"""
import collections
import json
import os
import sys

FIELDS = ("order_id", "customer_email", "amount", "currency", "country", "created_at", "note")
BY_FIELD = {
    "order_id": "bad_order_id",
    "amount": "bad_amount",
    "currency": "bad_currency",
    "created_at": "bad_created_at",
}


def reason(meta):
    if meta.get("rule") == "duplicate":
        return "duplicate_order_id"
    found = BY_FIELD.get(meta.get("field"))
    if found:
        return found
    return "other:%s/%s/%s" % (meta.get("step"), meta.get("field"), meta.get("rule"))


def text(value):
    """The raw field as a string, as W asks; runi may write typed JSON values."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(dst, exist_ok=True)
    link = os.path.join(dst, "valid.parquet")
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(os.path.abspath(os.path.join(src, "valid.parquet")), link)

    kinds = collections.Counter()
    extra = collections.Counter()
    with open(os.path.join(src, "rejects.jsonl")) as fin, \
            open(os.path.join(dst, "rejects.jsonl"), "w") as fout:
        for line in fin:
            row = json.loads(line)
            meta = row.pop("_runink", {}) or {}
            why = reason(meta)
            kinds[(meta.get("step"), meta.get("field"), meta.get("rule"), why)] += 1
            for key in row:
                if key not in FIELDS:
                    extra[key] += 1
            out = {f: text(row.get(f)) for f in FIELDS}
            out["reject_reason"] = why
            fout.write(json.dumps(out) + "\n")
    for (step, field, rule, why), n in sorted(kinds.items(), key=lambda kv: (kv[0][3], -kv[1])):
        print("   dlq: step=%s field=%s rule=%s -> %s: %d" % (step, field, rule, why, n))
    for key, n in sorted(extra.items()):
        print("   dlq: extra column %r in %d rows (not in W)" % (key, n))


if __name__ == "__main__":
    main()
