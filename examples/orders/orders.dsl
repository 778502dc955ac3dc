Feature: Orders quality gate
  Vendor orders are validated against their contract, masked,
  and split into clean rows and a dead-letter queue.

@herd("finance")
@module(layer="silver", domain="sales")
Scenario: Validate and mask incoming orders
  @source("csv://data/orders.csv")
  @step("mask")
  @step("filter", where="amount > 0")
  @step("derive", total_cents="CAST(amount * 100 AS BIGINT)")
  @sink("parquet://out/orders.parquet")
  @sink("jsonl://out/big_orders.jsonl", when="amount >= 1000")
  @dlq("jsonl://out/orders.dlq.jsonl")
  @golden("golden/orders")
  @assert("rows_out >= 1")

  Given the contract: contracts/orders.yaml
  When data is received from the vendor feed
  Then invalid rows go to the dead-letter queue with a reason
  And PII fields are masked as the contract says
