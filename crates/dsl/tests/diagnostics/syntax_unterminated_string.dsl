Feature: Syntax
Scenario: Unterminated
  @source("csv://in.csv)
  @sink("jsonl://out.jsonl")
  Given the contract: contracts/orders.yaml
