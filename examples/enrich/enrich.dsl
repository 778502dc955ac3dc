Feature: Order tiers from an external program
  A Python script assigns each order a tier. It runs as an isolated slice
  of its own, fed rows as JSON Lines on stdin; Runink checks every row it
  emits against the output contract before it reaches the sink.

@herd("finance")
Scenario: Tier orders with a Python step
  @source("csv://data/orders.csv")
  @step("exec", cmd="python3 tier.py")
  @sink("jsonl://out/tiered.jsonl")
  @dlq("jsonl://out/tiered.dlq.jsonl")
  @golden("golden/tiered")

  Given the contract: contracts/orders.yaml
  Then the output contract: contracts/tiered.yaml
  And orders the contract rejects never reach the script
