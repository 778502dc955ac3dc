Feature: Syntax
Scenario: Bad escape
  @source("csv://in\q.csv")
  @sink("jsonl://out.jsonl")
