Feature: Columns named in mixed case, as DataFusion reads names

Scenario: Unquoted names are read in lower case
  @source("csv://data/rows.csv")
  @step("filter", where="AMOUNT > 1 AND Amount < 100 AND NOTE <> ''")
  @sink("jsonl://out/a.jsonl", when="\"Amount\" > 2 AND \"ID\" > 0 AND note <> 'x'")
  Given the contract: contracts/mixed_case.yaml
