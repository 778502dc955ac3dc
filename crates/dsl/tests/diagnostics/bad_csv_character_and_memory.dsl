Feature: Options the reader could not use

Scenario: A delimiter that is not ASCII, and too little memory
  @source("csv://data/orders.csv", delimiter="é")
  @requires(memory="1Mi")
  @step("filter", where="amount > 0")
  @sink("jsonl://out/o.jsonl")

Scenario: Named steps whose manifests ask for too little
  @source("csv://data/orders.csv")
  @step("TinyMemory")
  @step("NoPids")
  @sink("jsonl://out/p.jsonl")

Scenario: More pids than the kernel has
  @source("csv://data/orders.csv")
  @requires(pids=4194305)
  @step("filter", where="amount > 0")
  @sink("jsonl://out/q.jsonl")
