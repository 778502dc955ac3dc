#!/usr/bin/env python3
"""Workload W's checks only, in DuckDB SQL: the reject reason of every row
(first rule that fails, duplicates last, first occurrence wins), counted.
No masking, no outputs. Prints {"rows": N, "valid": N, "rejects": {reason: N}}.
usage: validate_duckdb.py IN.csv"""
import json, sys, duckdb

inp = sys.argv[1]
con = duckdb.connect()  # in-memory; default threads (= nproc), preserve_insertion_order=true
rows = con.execute(f"""
WITH src AS (
  SELECT order_id, amount, currency, created_at, row_number() OVER () AS rn
  FROM read_csv('{inp}', header=true, all_varchar=true, delim=',', quote='"', escape='"')
), t AS (
  SELECT *,
         TRY_CAST(amount AS DOUBLE)                    AS amt,
         try_strptime(created_at, '%Y-%m-%dT%H:%M:%S') AS ts,
         row_number() OVER (PARTITION BY order_id ORDER BY rn) AS occ
  FROM src
)
SELECT CASE WHEN order_id IS NULL OR NOT regexp_full_match(order_id, '^ORD-[0-9]{{8}}$') THEN 'bad_order_id'
            WHEN amt IS NULL OR amt < 0                                 THEN 'bad_amount'
            WHEN currency IS NULL OR currency NOT IN ('USD','EUR','GBP') THEN 'bad_currency'
            WHEN ts IS NULL                                              THEN 'bad_created_at'
            WHEN occ > 1                                                 THEN 'duplicate_order_id'
       END AS reason, count(*)
FROM t GROUP BY 1
""").fetchall()
counts = {r: n for r, n in rows}
valid = counts.pop(None, 0)
print(json.dumps({"rows": valid + sum(counts.values()), "valid": valid, "rejects": counts}))
