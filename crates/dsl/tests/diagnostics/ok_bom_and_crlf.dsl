Feature: A file a Windows editor saved

Scenario: BOM and CRLF
  @source("csv://data/orders.csv")
  @sink("jsonl://out/bom.jsonl")
