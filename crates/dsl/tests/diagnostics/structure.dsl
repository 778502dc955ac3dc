Feature: Structure
@source("csv://in.csv")
Scenario: Pipeline tags above the scenario
  @sink("jsonl://a.jsonl")
  @step("filter", where="amount > 0")
  @source("csv://late.csv")
  @sink("jsonl://a.jsonl")
  @dlq("jsonl://d1.jsonl")
  @dlq("jsonl://d2.jsonl")
  Given the contract: contracts/orders.yaml

Scenario: Nothing in it
  Given nothing
