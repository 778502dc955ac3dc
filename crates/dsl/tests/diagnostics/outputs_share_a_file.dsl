Feature: Outputs that share a file

Scenario: Sink and DLQ on one file
  @source("csv://data/orders.csv")
  @sink("jsonl://out/x.jsonl")
  @sink("jsonl://./out/x.jsonl", name="again")
  @dlq("jsonl://out//x.jsonl")

Scenario: A sink named like the default DLQ
  @source("csv://data/orders.csv")
  @sink("jsonl://out/a_sink_named_like_the_default_dlq.dlq.jsonl")
