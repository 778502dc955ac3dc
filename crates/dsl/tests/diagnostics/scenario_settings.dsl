Feature: Settings
@herd("Finance")
@module(tier="gold")
@schedule("every day")
@requires(cpu="two", memory="lots")
Scenario: Bad settings
  @source("csv://in.csv", header="maybe")
  @requires(gpu=0)
  @step("sql", query="SELECT * FROM orders")
  @affinity(colocate_with="step:nowhere")
  @step("exec", cmd="python3 enrich.py", format="xml")
  @sink("jsonl://out.jsonl")
  @assert("rows_out.nowhere > 0 AND rows_lost = 0")
  @window(hopping:5m)
  Given the contract: contracts/orders.yaml
