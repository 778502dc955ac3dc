Feature: Two sources on one stdin

Scenario: Reads stdin twice
  @source("stdin://", format="csv")
  @source("stdin://", format="jsonl")
  @sink("jsonl://out/a.jsonl")
