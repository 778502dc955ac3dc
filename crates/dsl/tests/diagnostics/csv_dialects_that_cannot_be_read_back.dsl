Feature: CSV dialects that cannot be read back, and URIs that name no file

Scenario: Delimiter as quote
  @source("csv://data/a.csv", quote=",")
  @sink("jsonl://out/")

Scenario: Line end as delimiter
  @source("csv://data/b.csv", delimiter="\n", escape=";")
  @sink("csv://out/b.csv", delimiter=";", escape=";")

Scenario: A scheme without its slashes
  @source("csv:../data/c.csv")
  @sink("jsonl://out/c.jsonl")
