Feature: t
Scenario: s
  @source("arrow://data/pf")
  @sink("jsonl://out/pf.jsonl")
