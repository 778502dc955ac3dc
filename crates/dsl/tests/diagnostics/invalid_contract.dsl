Feature: Contracts
Scenario: Contract that is not ODCS
  @source("csv://in.csv")
  @step("mask")
  @sink("jsonl://out.jsonl")
  Given the contract: contracts/broken.yaml
