Feature: Steps
Scenario: Unknown step
  @source("csv://in.csv")
  @step("filtr", where="amount > 0")
  @sink("jsonl://out.jsonl")
  Given the contract: contracts/orders.yaml
