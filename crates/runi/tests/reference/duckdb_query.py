"""Runs one SQL query with DuckDB over a CSV file and writes the result as
JSON lines: the reference the differential tests compare `runi` with.

usage: duckdb_query.py DATA.csv OUT.jsonl "SELECT ... FROM t ..."

The CSV is read with explicit column types (those of the test's contract)
and one thread, so that row order is the file's order.
"""

import json
import sys

import duckdb

COLUMNS = {
    "id": "BIGINT",
    "name": "VARCHAR",
    "amount": "DOUBLE",
    "category": "VARCHAR",
    "qty": "BIGINT",
}


def main() -> None:
    data, out, query = sys.argv[1:4]
    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.execute("SET preserve_insertion_order = true")
    con.execute(
        "CREATE TABLE t AS SELECT * FROM read_csv(?, header = true, columns = ?)",
        [data, COLUMNS],
    )
    cursor = con.execute(query)
    names = [d[0] for d in cursor.description]
    with open(out, "w", encoding="utf-8") as f:
        for row in cursor.fetchall():
            f.write(json.dumps(dict(zip(names, row))) + "\n")


if __name__ == "__main__":
    main()
