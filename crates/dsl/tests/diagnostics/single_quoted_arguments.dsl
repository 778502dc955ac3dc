Feature: Arguments in single quotes

Scenario: SQL habits
  @source('csv://data/d.csv')
  @sink("jsonl://out/q.jsonl", when='amount > 1')
  @sink("jsonl://out/r.jsonl", when='unclosed)
