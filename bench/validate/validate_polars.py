#!/usr/bin/env python3
"""Workload W's checks only, in Polars (lazy, streaming engine): the reject
reason of every row (first rule that fails, duplicates last, first
occurrence wins), counted. No masking, no outputs.
Prints {"rows": N, "valid": N, "rejects": {reason: N}}.
usage: validate_polars.py IN.csv"""
import json, sys
import polars as pl

inp = sys.argv[1]
reason = (
    pl.when(pl.col("order_id").is_null() | ~pl.col("order_id").str.contains(r"^ORD-[0-9]{8}$")).then(pl.lit("bad_order_id"))
    .when(pl.col("amt").is_null() | (pl.col("amt") < 0)).then(pl.lit("bad_amount"))
    .when(pl.col("currency").is_null() | ~pl.col("currency").is_in(["USD", "EUR", "GBP"])).then(pl.lit("bad_currency"))
    .when(pl.col("ts").is_null()).then(pl.lit("bad_created_at"))
    .when(~pl.col("first")).then(pl.lit("duplicate_order_id"))
    .otherwise(None)
)
counts = (
    pl.scan_csv(inp, infer_schema=False, quote_char='"')          # every column read as String
    .select(
        "order_id", "currency",
        amt=pl.col("amount").cast(pl.Float64, strict=False),
        ts=pl.col("created_at").str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S", strict=False),
        first=pl.col("order_id").is_first_distinct(),               # first occurrence in file order
    )
    .select(reason=reason)
    .group_by("reason")
    .len()
    .collect(engine="streaming")
)
result = {r: n for r, n in counts.iter_rows()}
valid = result.pop(None, 0)
print(json.dumps({"rows": valid + sum(result.values()), "valid": valid, "rejects": result}))
