Feature: f

scenario: s
  @source("csv://in.csv")
  @sink("jsonl://out.jsonl")
  Given rows
