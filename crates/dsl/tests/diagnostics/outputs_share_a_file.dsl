Feature: Outputs that share a file or a golden folder

Scenario: Sink and DLQ on one file
  @source("csv://data/orders.csv")
  @sink("jsonl://out/x.jsonl")
  @sink("jsonl://./out/x.jsonl", name="again")
  @dlq("jsonl://out//x.jsonl")

Scenario: A sink named like the default DLQ
  @source("csv://data/orders.csv")
  @sink("jsonl://out/a_sink_named_like_the_default_dlq.dlq.jsonl")

Scenario: An Arrow stream shares stdout with the DLQ
  @source("csv://in.csv")
  @sink("stdout://", format="arrow")
  @dlq("stdout://")

Scenario: JSON lines share stdout
  @source("csv://in.csv")
  @sink("stdout://")
  @dlq("stdout://")

Scenario: First with golden files
  @source("csv://in.csv")
  @sink("jsonl://out/first.jsonl")
  @golden("golden/shared")

Scenario: Second with the same golden folder
  @source("csv://in.csv")
  @sink("jsonl://out/second.jsonl")
  @golden("./golden/shared")

Scenario: A sink over the scenario's own file
  @source("csv://in.csv")
  @sink("jsonl://outputs_share_a_file.dsl")

Scenario: A DLQ over the contract
  @source("csv://data/orders.csv")
  @sink("jsonl://out/fine.jsonl")
  @dlq("jsonl://./contracts/orders.yaml")

  Given the contract: contracts/orders.yaml

Scenario: Third with the same golden folder by another way
  @source("csv://in.csv")
  @sink("jsonl://out/third.jsonl")
  @golden("golden/other/../shared")
