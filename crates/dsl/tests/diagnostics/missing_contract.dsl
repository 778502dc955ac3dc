Feature: Contracts
Scenario: Missing contract
  @source("csv://in.csv")
  @sink("jsonl://out.jsonl")
  Given the contract: contracts/order.yaml
