Feature: Steps
Scenario: Named step not found
  @source("csv://in.csv")
  @step("NormalizeEmial")
  @sink("jsonl://out.jsonl")
  Given the contract: contracts/orders.yaml
