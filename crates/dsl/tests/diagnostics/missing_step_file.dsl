Feature: Steps
Scenario: Named step not found
  @source("csv://in.csv")
  @step("NormalizeEmial")
  @sink("jsonl://out.jsonl")
  Given the contract: contracts/orders.yaml

Scenario: A named sql step whose file does not parse
  @source("csv://data/orders.csv")
  @step("BrokenQuery")
  @sink("jsonl://out/b.jsonl")
