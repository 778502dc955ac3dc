Feature: Expressions
Scenario: Expressions that do not parse
  @source("csv://in.csv")
  @step("filter", where="amount >")
  @step("derive", big="amount > 0 0")
  @step("cast", amount="BIG INT")
  @sink("jsonl://out.jsonl", when="amount >= (1000")
  @assert("rows_out >=")
  Given the contract: contracts/orders.yaml
