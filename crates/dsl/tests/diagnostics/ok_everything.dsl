# A scenario that uses every tag and compiles cleanly.
Feature: Everything
  The golden run of a file with no problems.

@herd("finance")
@module(layer="silver", domain="sales")
@schedule("0 2 * * *")
@requires(cpu="1", memory="256Mi")
Scenario: All tags
  @source("csv://in.csv", delimiter=";", header=true, meta.region="eu", window="5m")
  @source("stdin://", format="csv")
  @step("mask")
  @step("NormalizeEmail")
  @requires(cpu="2", memory="1Gi", pids=128)
  @step("derive", cents="CAST(amount * 100 AS BIGINT)", doubled="cents * 2")
  @step("rename", currency="ccy")
  @step("cast", amount="DECIMAL(12, 2)")
  @step("dedupe", keys="order_id")
  @affinity(label="gpu", colocate_with="step:dedupe")
  @step("exec", cmd="python3 enrich.py", format="csv", network=false)
  @step("sql", query="SELECT * FROM input")
  @sink("parquet://out/orders.parquet", compression="zstd", row_group_size=100000)
  @sink("jsonl://out/big.jsonl", when="amount >= 1000", role="ops")
  @sink("stdout://", format="jsonl", name="screen")
  @golden("golden/all", ordered=true)
  @assert("rows_out >= 1 AND rows_out.big <= rows_out")
  @window(sliding:10m, every:2m)
  @emits("late_data")
  Given the contract: contracts/orders.yaml
  Then the output contract: contracts/orders.yaml
  And the rest is prose
