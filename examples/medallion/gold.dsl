Feature: Web events, gold layer
  Per-user totals built from the conformed silver events.

@herd("analytics")
@module(layer="gold", domain="web")
Scenario: Aggregate events per user
  @source("parquet://out/silver/events.parquet")
  @step("sql", query="SELECT user_id, COUNT(*) AS events, SUM(amount) AS total_amount FROM input GROUP BY user_id")
  @sink("parquet://out/gold/user_totals.parquet")
  @sink("csv://out/gold/user_totals_report.csv")
  @dlq("jsonl://out/gold/user_totals.dlq.jsonl")
  @golden("golden/gold")
  @assert("rows_out >= 1")

  Given the contract: contracts/gold.yaml
  When the silver layer has been refreshed
  Then the output contract: contracts/user_totals.yaml
  And each user gets one row with their event count and total spend
  And the totals are published as Parquet and as a CSV report
