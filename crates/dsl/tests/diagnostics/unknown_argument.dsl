Feature: Arguments
Scenario: Unknown arguments
  @source("csv://in.csv", delimeter=";")
  @step("filter", were="amount > 0")
  @sink("parquet://out.parquet", compression="brotli")
  Given the contract: contracts/orders.yaml
