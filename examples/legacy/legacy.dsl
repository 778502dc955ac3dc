# Written in the spellings of the original Runink documents (see spec/dsl.md,
# "Spellings from the original Runink documents"); `runi fmt` will rewrite it
# to the canonical form. Both scenarios read the same ticket export.
Feature: Support ticket triage
  Helpdesk tickets are landed with customer e-mails redacted, urgent tickets
  are copied to their own queue, and the ops team gets an escalation list.

@herd("support")
@module(layer="bronze", domain=)
Scenario: Land helpdesk tickets
  @source("csv://data/tickets.csv" @meta(region="us"))
  @step("mask")
  @sink("jsonl://out/tickets.jsonl")
  @sink("jsonl://out/urgent.jsonl" when "priority = 'P1'")
  @dlq("jsonl://out/tickets.dlq.jsonl")
  @golden("golden/tickets")

  Given the contract: contracts/tickets.yaml
  When the helpdesk exports its tickets
  Do reject tickets that break the contract, with the reason
  Then every valid ticket lands with the customer e-mail redacted
  And P1 tickets are also copied to the urgent queue

---

## Escalations for the ops team

@herd("support")
@module(layer="silver", domain="support")
Scenario: Escalation list for ops
  @source("csv://data/tickets.csv" @meta(region="us"))
  @step("filter", where="priority IN ('P1', 'P2')")
  @step("select", columns="ticket_id,opened_at,channel,priority,customer_phone,billing_ref,subject")
  @sink("csv://out/escalations.csv" with "role=ops")
  @dlq("jsonl://out/escalations.dlq.jsonl")
  @golden("golden/escalations")

  Given the contract: contracts/tickets.yaml
  When the helpdesk exports its tickets
  Do keep only P1 and P2 tickets
  Then the ops team sees phone numbers in clear
  But billing references stay masked, since only the billing role may read them
