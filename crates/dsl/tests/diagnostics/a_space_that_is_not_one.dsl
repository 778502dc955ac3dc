Feature: Spaces pasted from a web page
  A scenario whose author copied lines from a wiki: some spaces are not spaces.

Scenario: Orders
  @source("csv://orders.csv")
  @step("filter", where="amount > 0")
  @step("derive", total="amount * 2")
  @sink("jsonl://out.jsonl")

  Given the contract: orders.yaml
  When​ orders arrive
  Then they are written
