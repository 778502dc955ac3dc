Feature: Aggregates in row expressions

Scenario: Aggregates
  @source("csv://data/orders.csv")
  @step("filter", where="sum(amount) > 0")
  @step("derive", rank="row_number() OVER (ORDER BY amount)")
  @sink("jsonl://out/o.jsonl")
