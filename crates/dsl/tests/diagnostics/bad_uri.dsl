Feature: URIs
Scenario: Bad URIs
  @source("data/orders.csv")
  @source("cvs://data/orders.csv")
  @sink("parquet://")
  @sink("s3://bucket/orders")
  @dlq("csv://rejects.csv")
  Given the contract: contracts/orders.yaml
