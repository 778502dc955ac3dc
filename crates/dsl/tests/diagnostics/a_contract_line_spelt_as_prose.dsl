Feature: Contract lines in spellings that read as prose

Scenario: Capitalised
  @source("csv://data/orders.csv")
  @sink("jsonl://out/a.jsonl")
  Given The Contract: contracts/orders.yaml

Scenario: Two spaces and an article
  @source("csv://data/orders.csv")
  @sink("jsonl://out/b.jsonl")
  Given a  contract : contracts/orders.yaml
  And the Output Contract: contracts/orders.yaml

Scenario: Prose about a contract, and the exact spelling
  @source("csv://data/orders.csv")
  @sink("jsonl://out/c.jsonl")
  Given the contract: contracts/orders.yaml
  And the contract terms apply to every row
