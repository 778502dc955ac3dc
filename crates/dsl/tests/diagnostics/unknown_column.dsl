Feature: Columns
Scenario: Columns not in the contract
  @source("csv://in.csv")
  @step("filter", where="amont > 0 AND currency = 'USD'")
  @step("derive", cents="amount * 100")
  @step("select", columns="order_id, cents, total")
  @step("dedupe", keys="email")
  @sink("jsonl://out.jsonl", when="cents > 10")
  Given the contract: contracts/orders.yaml
