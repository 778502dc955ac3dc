Feature: Two scenario names, one slug

Scenario: Load orders
  @source("csv://data/a.csv")
  @sink("jsonl://out/a.jsonl")

Scenario: load orders!
  @source("csv://data/b.csv")
  @sink("jsonl://out/b.jsonl")

Scenario: Load orders, named DLQ
  @source("csv://data/c.csv")
  @sink("jsonl://out/c.jsonl")
  @dlq("jsonl://out/c.dlq.jsonl")
