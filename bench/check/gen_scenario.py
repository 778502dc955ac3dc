#!/usr/bin/env python3
"""Generate a large, valid scenario file for timing `runi check`.

Writes OUT/scenarios.dsl with exactly N lines (one Feature, many Scenarios)
and OUT/contracts/orders.yaml, the input contract every scenario names.
Every scenario has header tags, a pipeline of varied built-in steps with
SQL expressions over the contract's columns, sinks with `when=`, a DLQ,
an assert, Given/When/Then prose and comments, so the whole compiler is
exercised: parser, contract loading, expression and query checks, slicing.

Usage: gen_scenario.py [--lines N] [--out DIR]
"""

import argparse
import os

CONTRACT = """\
# Input contract for the generated `runi check` benchmark scenarios.
apiVersion: v3.1.0
kind: DataContract
id: urn:runink:bench:orders
version: 1.0.0
status: active
name: orders
domain: sales
schema:
  - name: orders
    logicalType: object
    physicalType: table
    properties:
      - name: order_id
        logicalType: string
        required: true
        unique: true
        primaryKey: true
      - name: customer_id
        logicalType: string
        required: true
      - name: email
        logicalType: string
        classification: pii
        customProperties:
          - property: mask
            value: hash
      - name: phone
        logicalType: string
        classification: pii
        customProperties:
          - property: mask
            value: redact
      - name: amount
        logicalType: number
        required: true
        logicalTypeOptions:
          minimum: 0
          maximum: 1000000
      - name: discount
        logicalType: number
      - name: quantity
        logicalType: integer
      - name: currency
        logicalType: string
        quality:
          - type: library
            metric: invalidValues
            arguments:
              validValues: [USD, EUR, GBP]
            mustBe: 0
      - name: country
        logicalType: string
      - name: status
        logicalType: string
      - name: created_at
        logicalType: timestamp
        required: true
"""

HERDS = ["finance", "sales", "analytics", "support", "ops", "risk", "growth"]
LAYERS = ["bronze", "silver", "gold"]
DOMAINS = ["sales", "billing", "web", "support", "logistics"]
CURRENCIES = ["'USD','EUR'", "'EUR','GBP'", "'USD','GBP'", "'USD','EUR','GBP'"]


def pipeline_a(i):
    """mask, filter, derive, cast, rename, dedupe, select, sql; two sinks."""
    return [
        '  @source("csv://data/orders_%d.csv")' % i,
        '  @step("mask")',
        '  @step("filter", where="amount > %d AND currency IN (%s)")'
        % (i % 100, CURRENCIES[i % len(CURRENCIES)]),
        '  # money in cents, net of any discount',
        '  @step("derive", total_cents="CAST(amount * 100 AS BIGINT)", '
        'net="amount - COALESCE(discount, 0)")',
        '  @step("cast", quantity="BIGINT")',
        '  @step("rename", country="country_code")',
        '  @step("dedupe", keys="order_id")',
        '  @step("select", columns="order_id,customer_id,email,amount,net,'
        'total_cents,quantity,currency,country_code,status,created_at")',
        '  @step("sql", query="SELECT order_id, customer_id, amount, net, total_cents, '
        "currency, country_code, status FROM input WHERE status <> 'cancelled'\")",
        '  @sink("parquet://out/a%d/orders.parquet")' % i,
        '  @sink("jsonl://out/a%d/big_orders.jsonl", when="total_cents >= %d")'
        % (i, 100000 + i),
        '  @dlq("jsonl://out/a%d/orders.dlq.jsonl")' % i,
        '  @assert("rows_out >= 1")',
    ]


def pipeline_b(i):
    """filter with LIKE/BETWEEN, mask of listed fields, derive with CASE."""
    return [
        '  @source("jsonl://data/orders_%d.jsonl")' % i,
        '  @step("filter", where="status NOT LIKE \'test-%%\' '
        'AND quantity BETWEEN 1 AND %d")' % (10 + i % 90),
        '  @step("mask", fields="email,phone")',
        '  @step("derive", size="CASE WHEN amount >= 1000 THEN \'large\' '
        "WHEN amount >= 100 THEN 'medium' ELSE 'small' END\", "
        'unit_price="amount / NULLIF(quantity, 0)")',
        '  @step("dedupe", keys="order_id,customer_id")',
        '  @step("cast", amount="DECIMAL(12,2)", created_at="TIMESTAMP")',
        '  @sink("parquet://out/b%d/orders.parquet")' % i,
        "  @sink(\"csv://out/b%d/large.csv\", when=\"size = 'large' AND country = '%s'\")"
        % (i, ["US", "DE", "FR", "GB"][i % 4]),
        "  @sink(\"jsonl://out/b%d/unpriced.jsonl\", when=\"unit_price IS NULL\")" % i,
        '  @dlq("jsonl://out/b%d/orders.dlq.jsonl")' % i,
        '  @assert("rows_rejected <= rows_in")',
    ]


def pipeline_c(i):
    """An aggregating sql step, then a filter over its output."""
    return [
        '  @source("parquet://data/orders_%d.parquet")' % i,
        '  @step("mask")',
        '  @step("derive", day="CAST(created_at AS DATE)", '
        'gross="amount * quantity")',
        '  @step("sql", query="SELECT customer_id, day, SUM(gross) AS revenue, '
        'COUNT(*) AS orders FROM input GROUP BY customer_id, day")',
        '  @step("filter", where="revenue > %d.5 OR orders >= %d")' % (i % 500, 2 + i % 7),
        '  @step("rename", revenue="revenue_total")',
        '  @sink("parquet://out/c%d/daily.parquet")' % i,
        '  @sink("jsonl://out/c%d/vip.jsonl", when="revenue_total > 10000")' % i,
        '  @dlq("jsonl://out/c%d/daily.dlq.jsonl")' % i,
        '  @assert("rows_out >= 0")',
    ]


PIPELINES = [pipeline_a, pipeline_b, pipeline_c]


def scenario(i):
    """The lines of scenario number `i`, ending with a blank line."""
    herd = HERDS[i % len(HERDS)]
    layer = LAYERS[i % len(LAYERS)]
    domain = DOMAINS[i % len(DOMAINS)]
    lines = [
        "# Scenario %d: %s pipeline for the %s herd" % (i, layer, herd),
        '@herd("%s")' % herd,
        '@module(layer="%s", domain="%s")' % (layer, domain),
        "Scenario: Orders batch %d, %s %s" % (i, layer, domain),
    ]
    lines += PIPELINES[i % len(PIPELINES)](i)
    lines += [
        "",
        "  Given the contract: contracts/orders.yaml",
        "  When batch %d is received from the vendor feed" % i,
        "  Then invalid rows go to the dead-letter queue with a reason",
        "  And PII fields are masked as the contract says",
        "  # end of scenario %d" % i,
        "",
    ]
    return lines


def document(total_lines):
    """Exactly `total_lines` lines: as many whole scenarios as fit, then comments."""
    lines = [
        "# Generated by bench/check/gen_scenario.py; do not edit.",
        "Feature: Generated orders pipelines",
        "  Many scenarios over one contract, to time `runi check` on a large file.",
        "",
    ]
    i = 0
    while True:
        block = scenario(i)
        if len(lines) + len(block) > total_lines:
            break
        lines += block
        i += 1
    if i == 0:
        raise SystemExit("--lines %d is too small for one scenario" % total_lines)
    while len(lines) < total_lines:
        lines.append("# padding to %d lines" % total_lines)
    return lines, i


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10000)
    parser.add_argument("--out", default="bench/out/check")
    parser.add_argument("--name", default=None, help="file name (default: scenarios_N.dsl)")
    args = parser.parse_args()

    os.makedirs(os.path.join(args.out, "contracts"), exist_ok=True)
    with open(os.path.join(args.out, "contracts", "orders.yaml"), "w") as f:
        f.write(CONTRACT)
    lines, count = document(args.lines)
    name = args.name or "scenarios_%d.dsl" % args.lines
    path = os.path.join(args.out, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("%s: %d lines, %d scenarios" % (path, len(lines), count))


if __name__ == "__main__":
    main()
