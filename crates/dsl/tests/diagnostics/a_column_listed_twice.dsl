Feature: Lists that name a column twice

Scenario: Select and dedupe twice
  @source("csv://data/orders.csv")
  @step("dedupe", keys="order_id,order_id")
  @step("select", columns="amount,currency,amount")
  @sink("jsonl://out/o.jsonl")

  Given the contract: contracts/orders.yaml
