Feature: Tags
Scenario: Unknown tag
  @source("csv://in.csv")
  @sinc("jsonl://out.jsonl")
  @sink("jsonl://out.jsonl")
  Given the contract: contracts/orders.yaml
