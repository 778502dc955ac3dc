Feature: Web events, bronze layer
  Raw clickstream events land as-is: rows that break the raw contract are
  dead-lettered, e-mail addresses are hashed, everything else is kept.

@herd("analytics")
@module(layer="bronze", domain="web")
Scenario: Land raw clickstream events
  @source("csv://data/raw_events.csv")
  @step("mask")
  @sink("parquet://out/bronze/events.parquet")
  @dlq("jsonl://out/bronze/events.dlq.jsonl")
  @golden("golden/bronze")
  @assert("rows_out >= 1")

  Given the contract: contracts/bronze.yaml
  When the web tracker exports its hourly CSV
  Then the output contract: contracts/silver.yaml
  And rows without an event id, a user id or a readable event time go to the dead-letter queue
  And e-mail addresses are hashed before anything is written
