Feature: Outputs that replace a source, or another scenario's output

Scenario: Writes over its own source
  @source("csv://data/in.csv")
  @sink("csv://./data/x/../in.csv")
  @dlq("jsonl://out/first.dlq.jsonl")

Scenario: Shares a sink and a DLQ with the first
  @source("csv://data/other.csv")
  @sink("csv://data/in.csv")
  @sink("jsonl://out/own.jsonl")
  @dlq("jsonl://out/first.dlq.jsonl")

Scenario: Its own files
  @source("csv://data/in.csv")
  @sink("jsonl://out/third.jsonl")
