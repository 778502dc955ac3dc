Feature: Renames that would make two columns of one name

Scenario: Rename onto a column
  @source("csv://data/orders.csv")
  @step("rename", amount="currency")
  @step("rename", order_id="x", email="x")
  @sink("jsonl://out/renamed.jsonl")

  Given the contract: contracts/orders.yaml
