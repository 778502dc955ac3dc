Feature: Syntax
Scenario: Misspelled keyword
  @source("csv://in.csv")
  @sink("jsonl://out.jsonl")
  Gven the contract: contracts/orders.yaml
