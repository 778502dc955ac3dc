"""Reads a Parquet file with pyarrow and prints its schema and rows as one
JSON document: {"schema": [[name, type], ...], "rows": [{...}, ...]}.

usage: pyarrow_read.py FILE.parquet
"""

import datetime
import json
import sys

import pyarrow.parquet as pq


def plain(value):
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    return value


def main() -> None:
    table = pq.read_table(sys.argv[1])
    schema = [[field.name, str(field.type)] for field in table.schema]
    rows = [{k: plain(v) for k, v in row.items()} for row in table.to_pylist()]
    json.dump({"schema": schema, "rows": rows}, sys.stdout)


if __name__ == "__main__":
    main()
