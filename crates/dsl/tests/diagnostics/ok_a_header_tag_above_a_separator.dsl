Feature: A header tag above a `---` line

Scenario: X
  @source("csv://data/orders.csv")
  @sink("jsonl://out/x.jsonl")

@herd("finance")
---
Scenario: Y
  @source("csv://data/orders.csv")
  @sink("jsonl://out/y.jsonl")
