Feature: Warnings
Scenario: Compiles with warnings
  @source("csv://in.csv")
  @step("select", columns="order_id, amount")
  @step("mask")
  @sink("jsonl://out.jsonl")
  Given the contract: contracts/orders.yaml
  Then the output contract: contracts/orders.yaml
