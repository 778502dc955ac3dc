Feature: A folder given as the contract

Scenario: Folder
  @source("csv://data/orders.csv")
  @sink("jsonl://out/o.jsonl")

  Given the contract: contracts
