Feature: Two errors
Scenario: Both are reported
  @source("csv://in.csv")
  @step("filtr", where="amount > 0")
  @sink("jsonl://out.jsonl", when="amont > 1")
  Given the contract: contracts/orders.yaml
