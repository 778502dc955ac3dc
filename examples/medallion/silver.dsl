Feature: Web events, silver layer
  Bronze events are deduplicated, bot traffic is dropped, amounts become
  numbers and event types are normalised.

@herd("analytics")
@module(layer="silver", domain="web")
Scenario: Clean and conform web events
  @source("parquet://out/bronze/events.parquet")
  @step("dedupe", keys="event_id")
  @step("filter", where="user_id NOT LIKE 'bot-%'")
  @step("cast", amount="DOUBLE")
  @step("NormalizeEventType")
  @sink("parquet://out/silver/events.parquet")
  @dlq("jsonl://out/silver/events.dlq.jsonl")
  @golden("golden/silver")
  @assert("rows_out >= 1")

  Given the contract: contracts/silver.yaml
  When the bronze layer has landed a batch
  Then the output contract: contracts/gold.yaml
  And each event id is kept once
  And crawler traffic is dropped
  And amounts that are not numbers go to the dead-letter queue
  And event types are lower-case with no surrounding spaces
