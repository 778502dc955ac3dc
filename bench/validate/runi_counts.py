#!/usr/bin/env python3
"""Maps `runi --json contract validate` output to W's reject reasons (by
field, as /work/shared/bench/README.md says: order_id -> bad_order_id, ...,
rule `duplicate` -> duplicate_order_id; anything else -> other:<field>/<rule>).
Prints the same shape as the peers' scripts.  usage: runi_counts.py REPORT.json"""
import json, sys

report = json.load(open(sys.argv[1]))["report"]
by_field = {"order_id": "bad_order_id", "amount": "bad_amount",
            "currency": "bad_currency", "created_at": "bad_created_at"}
rejects = {}
for rule in report["rules"]:
    if rule["rows_failed"] == 0:
        continue
    if rule["rule"] == "duplicate":
        reason = "duplicate_order_id"
    else:
        reason = by_field.get(rule["field"], "other:%s/%s" % (rule["field"], rule["rule"]))
    rejects[reason] = rejects.get(reason, 0) + rule["rows_failed"]
print(json.dumps({"rows": report["rows_in"], "valid": report["rows_valid"], "rejects": rejects}))
