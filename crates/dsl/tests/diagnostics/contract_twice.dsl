Feature: Contracts
Scenario: Contract named twice
  @source("csv://in.csv")
  @sink("jsonl://out.jsonl")
  Given the contract: contracts/missing.yaml
  And the contract: contracts/orders.yaml
