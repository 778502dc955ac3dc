"""Reads orders as JSON Lines on stdin and writes each with its `tier`.

Runs inside a slice: no network, a read-only view of this folder, a
private /tmp. Whatever it prints on stderr goes to the run's record.
"""
import json
import sys

THRESHOLDS = [(1000.0, "gold"), (100.0, "silver"), (0.0, "bronze")]

count = 0
for line in sys.stdin:
    order = json.loads(line)
    amount = order["amount"]
    order["tier"] = next(tier for floor, tier in THRESHOLDS if amount >= floor)
    print(json.dumps(order))
    count += 1
print(f"tiered {count} orders", file=sys.stderr)
