//! Events in, outcomes and state out: the state machine without IO.

use runink_model::{DagHash, HerdName, Sha256Hex};

use super::*;
use crate::command::NewRunEvent;
use crate::ids::{ClientId, RequestId};
use crate::outcome::Applied;

/// Sends commands as one client numbering its requests.
struct Client {
    id: ClientId,
    seq: u64,
}

impl Client {
    fn new(id: u64) -> Self {
        Self {
            id: ClientId(id),
            seq: 0,
        }
    }

    fn send(&mut self, state: &mut BarnState, command: Command) -> Outcome {
        self.seq += 1;
        state.apply(Request::new(RequestId::new(self.id, self.seq), command))
    }
}

fn hash(byte: u8) -> DagHash {
    DagHash(Sha256Hex::from_digest(&[byte; 32]))
}

fn herd() -> HerdName {
    HerdName::default_herd()
}

/// A Barn with node 1 and scenario `orders` (hash 1) registered.
fn setup(client: &mut Client) -> BarnState {
    let mut state = BarnState::default();
    let node = Command::RegisterNode {
        node: NodeId(1),
        addr: "embedded".into(),
        agent: false,
        at_ms: 1,
    };
    client.send(&mut state, node).unwrap();
    let scenario = Command::RegisterScenario {
        herd: herd(),
        name: "orders".into(),
        dag_hash: hash(1),
        at_ms: 2,
    };
    client.send(&mut state, scenario).unwrap();
    state
}

fn submit(client: &mut Client, state: &mut BarnState) -> RunId {
    let submitted = client.send(
        state,
        Command::SubmitRun {
            dag_hash: hash(1),
            contracts: vec![],
            start_on: None,
            bundle: None,
            at_ms: 10,
        },
    );
    match submitted {
        Ok(Applied::RunSubmitted { run }) => run,
        other => panic!("expected a submitted run, got {other:?}"),
    }
}

fn start(run: RunId) -> Command {
    Command::StartRun {
        run,
        node: NodeId(1),
        at_ms: 11,
    }
}

fn finish(run: RunId, end: RunEnd) -> Command {
    Command::FinishRun {
        run,
        end,
        counts: RunCounts {
            rows_in: 10,
            rows_out: 8,
            rows_rejected: 2,
            rows_dropped: 0,
        },
        detail: detail(),
        summary: "8 rows written, 2 rejected".into(),
        events: vec![],
        at_ms: 20,
    }
}

/// One source, one step, one rule and two outputs.
fn detail() -> RunDetail {
    RunDetail {
        sources: vec![PlaceCount {
            name: "csv://data/orders.csv".into(),
            rows_in: 10,
            rows_out: 10,
            rows_rejected: 0,
        }],
        steps: vec![PlaceCount {
            name: "1 mask".into(),
            rows_in: 8,
            rows_out: 8,
            rows_rejected: 0,
        }],
        rules: vec![RuleCount {
            step: "input".into(),
            field: "amount".into(),
            rule: "minimum".into(),
            rows: 2,
        }],
        outputs: vec![
            RunOutput {
                kind: OutputKind::Sink,
                name: "orders".into(),
                uri: "parquet://out/orders.parquet".into(),
                rows: 8,
            },
            RunOutput {
                kind: OutputKind::Dlq,
                name: "dlq".into(),
                uri: "jsonl://out/orders.dlq.jsonl".into(),
                rows: 2,
            },
        ],
        entries_dropped: 0,
    }
}

fn contract(path: &str) -> ContractUse {
    ContractUse {
        role: ContractRole::Input,
        path: path.into(),
        hash: Sha256Hex::from_digest(&[7; 32]),
    }
}

fn events(messages: &[&str]) -> Command {
    Command::AppendRunEvents {
        run: RunId(1),
        events: messages
            .iter()
            .map(|m| NewRunEvent {
                at_ms: 12,
                level: EventLevel::Info,
                message: (*m).into(),
            })
            .collect(),
    }
}

#[test]
fn a_run_goes_from_pending_to_succeeded_with_its_counts_and_events() {
    let mut client = Client::new(1);
    let mut state = setup(&mut client);
    let run = submit(&mut client, &mut state);
    assert_eq!(run, RunId(1));
    assert_eq!(state.run(run).unwrap().status, RunStatus::Pending);

    client.send(&mut state, start(run)).unwrap();
    client
        .send(&mut state, events(&["read 10 rows", "wrote 8 rows"]))
        .unwrap();
    let finished = client.send(&mut state, finish(run, RunEnd::Succeeded));
    assert_eq!(
        finished,
        Ok(Applied::RunFinished {
            run,
            status: RunStatus::Succeeded
        })
    );

    let record = state.run(run).unwrap();
    assert_eq!(record.status, RunStatus::Succeeded);
    assert_eq!(record.node, Some(NodeId(1)));
    assert_eq!(
        (
            record.submitted_at_ms,
            record.started_at_ms,
            record.finished_at_ms
        ),
        (10, Some(11), Some(20))
    );
    assert_eq!(record.counts.rows_rejected, 2);
    assert_eq!(record.detail, detail());
    assert_eq!(record.scenario, "orders");
    assert_eq!(record.version, 1);
    let messages: Vec<_> = state
        .run_events(run)
        .unwrap()
        .iter()
        .map(|e| (e.seq, e.message.as_str()))
        .collect();
    assert_eq!(messages, [(1, "read 10 rows"), (2, "wrote 8 rows")]);
    assert_eq!(
        state.run_totals(),
        RunTotals {
            succeeded: 1,
            ..RunTotals::default()
        }
    );
}

#[test]
fn a_retried_request_applies_once_and_gets_the_same_outcome() {
    let mut client = Client::new(1);
    let mut state = setup(&mut client);
    let submit = Request::new(
        RequestId::new(ClientId(1), 100),
        Command::SubmitRun {
            dag_hash: hash(1),
            contracts: vec![],
            start_on: None,
            bundle: None,
            at_ms: 10,
        },
    );
    let first = state.apply(submit.clone());
    let after_first = state.clone();
    let retried = state.apply(submit);
    assert_eq!(first, Ok(Applied::RunSubmitted { run: RunId(1) }));
    assert_eq!(retried, first);
    assert_eq!(state, after_first, "a retry changes nothing");
    assert_eq!(state.runs().count(), 1);
}

#[test]
fn a_request_id_reused_on_another_command_is_refused_and_changes_nothing() {
    let mut client = Client::new(1);
    let mut state = setup(&mut client);
    let submit = |dag: u8| {
        Request::new(
            RequestId::new(ClientId(1), 100),
            Command::SubmitRun {
                dag_hash: hash(dag),
                contracts: vec![],
                start_on: None,
                bundle: None,
                at_ms: 10,
            },
        )
    };
    assert_eq!(
        state.apply(submit(1)),
        Ok(Applied::RunSubmitted { run: RunId(1) })
    );
    let before = state.clone();
    assert!(matches!(
        state.apply(submit(2)),
        Err(Refusal::RequestIdReused { .. })
    ));
    assert_eq!(state, before);
    assert_eq!(
        state.apply(submit(1)),
        Ok(Applied::RunSubmitted { run: RunId(1) }),
        "the true retry still gets its answer"
    );
}

#[test]
fn a_retried_refusal_is_refused_the_same_way() {
    let mut client = Client::new(1);
    let mut state = setup(&mut client);
    let run = submit(&mut client, &mut state);
    client.send(&mut state, start(run)).unwrap();
    client
        .send(&mut state, finish(run, RunEnd::Failed))
        .unwrap();
    let again = Request::new(
        RequestId::new(ClientId(1), 50),
        finish(run, RunEnd::Succeeded),
    );
    let first = state.apply(again.clone());
    assert!(matches!(first, Err(Refusal::IllegalTransition { .. })));
    assert_eq!(state.apply(again), first);
}

#[test]
fn an_older_request_than_the_last_is_refused_as_stale() {
    let mut client = Client::new(1);
    let mut state = setup(&mut client);
    let old = Request::new(
        RequestId::new(ClientId(1), 1),
        Command::SubmitRun {
            dag_hash: hash(1),
            contracts: vec![],
            start_on: None,
            bundle: None,
            at_ms: 10,
        },
    );
    // Client 1 already sent requests 1 and 2 (in `setup`); request 1 was
    // registering the node, so this is not a retry of it.
    let before = state.clone();
    assert_eq!(
        state.apply(old.clone()),
        Err(Refusal::StaleRequest {
            request: old.id,
            last_seq: 2
        })
    );
    assert_eq!(state, before);
}

#[test]
fn two_clients_with_the_same_sequence_numbers_do_not_collide() {
    let mut alice = Client::new(1);
    let mut state = setup(&mut alice);
    let mut bob = Client::new(2);
    bob.seq = alice.seq;
    let a = submit(&mut alice, &mut state);
    let b = submit(&mut bob, &mut state);
    assert_ne!(a, b);
}

#[test]
fn finishing_a_run_twice_is_refused_and_changes_nothing() {
    let mut client = Client::new(1);
    let mut state = setup(&mut client);
    let run = submit(&mut client, &mut state);
    client.send(&mut state, start(run)).unwrap();
    client
        .send(&mut state, finish(run, RunEnd::Succeeded))
        .unwrap();
    let before = state.run(run).cloned();
    let again = client.send(&mut state, finish(run, RunEnd::Failed));
    assert_eq!(
        again,
        Err(Refusal::IllegalTransition {
            run,
            from: RunStatus::Succeeded,
            to: RunStatus::Failed
        })
    );
    assert_eq!(state.run(run).cloned(), before);
}

#[test]
fn illegal_transitions_are_refused() {
    let mut client = Client::new(1);
    let mut state = setup(&mut client);
    let run = submit(&mut client, &mut state);
    // Pending cannot succeed without running.
    let early = client.send(&mut state, finish(run, RunEnd::Succeeded));
    assert!(matches!(
        early,
        Err(Refusal::IllegalTransition {
            from: RunStatus::Pending,
            ..
        })
    ));
    // Pending can be cancelled, and a cancelled run cannot start.
    client
        .send(&mut state, finish(run, RunEnd::Cancelled))
        .unwrap();
    let late = client.send(&mut state, start(run));
    assert!(matches!(
        late,
        Err(Refusal::IllegalTransition {
            from: RunStatus::Cancelled,
            ..
        })
    ));
    let events_after = client.send(&mut state, events(&["too late"]));
    assert_eq!(
        events_after,
        Err(Refusal::RunFinished {
            run,
            status: RunStatus::Cancelled
        })
    );
    // A run that has started cannot be cancelled: it runs on regardless.
    let started = submit(&mut client, &mut state);
    client.send(&mut state, start(started)).unwrap();
    let cancel = client.send(&mut state, finish(started, RunEnd::Cancelled));
    assert!(matches!(
        cancel,
        Err(Refusal::IllegalTransition {
            from: RunStatus::Running,
            to: RunStatus::Cancelled,
            ..
        })
    ));
    assert_eq!(
        state.run(started).map(|r| r.status),
        Some(RunStatus::Running)
    );
}

#[test]
fn unknown_runs_scenarios_nodes_and_herds_are_refused() {
    let mut client = Client::new(1);
    let mut state = setup(&mut client);
    let unknown_run = client.send(&mut state, start(RunId(99)));
    assert_eq!(unknown_run, Err(Refusal::UnknownRun { run: RunId(99) }));
    let unknown_scenario = client.send(
        &mut state,
        Command::SubmitRun {
            dag_hash: hash(9),
            contracts: vec![],
            start_on: None,
            bundle: None,
            at_ms: 1,
        },
    );
    assert!(matches!(
        unknown_scenario,
        Err(Refusal::UnknownScenario { .. })
    ));
    let run = submit(&mut client, &mut state);
    let unknown_node = client.send(
        &mut state,
        Command::StartRun {
            run,
            node: NodeId(7),
            at_ms: 1,
        },
    );
    assert_eq!(unknown_node, Err(Refusal::UnknownNode { node: NodeId(7) }));
    assert_eq!(state.run(run).unwrap().status, RunStatus::Pending);
    let unknown_herd = client.send(
        &mut state,
        Command::RegisterScenario {
            herd: HerdName::new("finance").unwrap(),
            name: "ledger".into(),
            dag_hash: hash(2),
            at_ms: 1,
        },
    );
    assert!(matches!(unknown_herd, Err(Refusal::UnknownHerd { .. })));
}

#[test]
fn new_hashes_under_a_scenario_name_are_its_next_versions() {
    let mut client = Client::new(1);
    let mut state = setup(&mut client);
    let register = |dag_hash, name: &str| Command::RegisterScenario {
        herd: herd(),
        name: name.into(),
        dag_hash,
        at_ms: 3,
    };
    let v2 = client.send(&mut state, register(hash(2), "orders"));
    assert!(matches!(
        v2,
        Ok(Applied::ScenarioRegistered {
            version: 2,
            created: true,
            ..
        })
    ));
    // A known hash under a new name (a rename) keeps its first identity.
    let renamed = client.send(&mut state, register(hash(1), "orders-renamed"));
    assert!(matches!(
        renamed,
        Ok(Applied::ScenarioRegistered { version: 1, created: false, ref name, .. }) if name == "orders"
    ));
    assert_eq!(
        state.herd(&herd()).unwrap().scenarios["orders"],
        [hash(1), hash(2)]
    );
    assert_eq!(state.scenario(&hash(2)).unwrap().version, 2);
}

#[test]
fn contract_versions_are_found_by_hash() {
    let mut client = Client::new(1);
    let mut state = BarnState::default();
    let contract_hash = Sha256Hex::from_digest(&[7; 32]);
    let register = Command::RegisterContract {
        name: "orders".into(),
        version: "1.0.0".into(),
        hash: contract_hash.clone(),
        at_ms: 5,
    };
    let first = client.send(&mut state, register.clone());
    let second = client.send(&mut state, register);
    assert_eq!(first, Ok(Applied::ContractRegistered { created: true }));
    assert_eq!(second, Ok(Applied::ContractRegistered { created: false }));
    assert_eq!(state.contract(&contract_hash).unwrap().version, "1.0.0");
}

#[test]
fn events_past_the_bound_are_counted_not_kept_and_long_messages_are_cut() {
    let limits = StateLimits {
        run_events_max: 3,
        events_per_request_max: 4,
        event_message_bytes_max: 5,
        ..StateLimits::default()
    };
    let mut client = Client::new(1);
    let mut state = BarnState::new(limits);
    let node = Command::RegisterNode {
        node: NodeId(1),
        addr: "embedded".into(),
        agent: false,
        at_ms: 1,
    };
    client.send(&mut state, node).unwrap();
    let scenario = Command::RegisterScenario {
        herd: herd(),
        name: "orders".into(),
        dag_hash: hash(1),
        at_ms: 2,
    };
    client.send(&mut state, scenario).unwrap();
    let run = submit(&mut client, &mut state);
    client.send(&mut state, start(run)).unwrap();

    let too_many = client.send(&mut state, events(&["a", "b", "c", "d", "e"]));
    assert_eq!(too_many, Err(Refusal::TooManyEvents { count: 5, max: 4 }));
    let appended = client.send(&mut state, events(&["one", "two", "three-long", "four"]));
    assert_eq!(
        appended,
        Ok(Applied::RunEventsAppended {
            run,
            kept: 3,
            dropped: 1
        })
    );
    let kept = state.run_events(run).unwrap();
    assert_eq!(kept[2].message, "three");
    assert!(kept[2].truncated);
    let record = state.run(run).unwrap();
    assert_eq!((record.events_total, record.events_dropped), (4, 1));
}

#[test]
fn the_same_requests_give_the_same_state() {
    let script = |state: &mut BarnState| {
        let mut client = Client::new(3);
        let mut outcomes = Vec::new();
        for command in [
            Command::RegisterNode {
                node: NodeId(1),
                addr: "embedded".into(),
                agent: false,
                at_ms: 1,
            },
            Command::RegisterScenario {
                herd: herd(),
                name: "orders".into(),
                dag_hash: hash(1),
                at_ms: 2,
            },
            Command::SubmitRun {
                dag_hash: hash(1),
                contracts: vec![],
                start_on: None,
                bundle: None,
                at_ms: 3,
            },
            start(RunId(1)),
            events(&["x"]),
            finish(RunId(1), RunEnd::Succeeded),
            finish(RunId(1), RunEnd::Succeeded),
        ] {
            outcomes.push(client.send(state, command));
        }
        outcomes
    };
    let (mut a, mut b) = (BarnState::default(), BarnState::default());
    assert_eq!(script(&mut a), script(&mut b));
    assert_eq!(a, b);
    let json = serde_json::to_string(&a).unwrap();
    let restored: BarnState = serde_json::from_str(&json).unwrap();
    assert_eq!(restored, a, "a state survives a JSON snapshot");
}

#[test]
fn a_run_keeps_the_contracts_it_was_submitted_with() {
    let mut client = Client::new(1);
    let mut state = setup(&mut client);
    let submitted = client.send(
        &mut state,
        Command::SubmitRun {
            dag_hash: hash(1),
            contracts: vec![contract("contracts/orders.yaml")],
            start_on: None,
            bundle: None,
            at_ms: 10,
        },
    );
    let Ok(Applied::RunSubmitted { run }) = submitted else {
        panic!("expected a submitted run, got {submitted:?}");
    };
    assert_eq!(
        state.run(run).unwrap().contracts,
        [contract("contracts/orders.yaml")]
    );
}

#[test]
fn too_many_or_too_long_contracts_are_refused() {
    let mut client = Client::new(1);
    let mut state = setup(&mut client);
    let max = state.limits().contracts_per_run_max;
    let before = state.clone();
    let many = Command::SubmitRun {
        dag_hash: hash(1),
        contracts: vec![contract("c.yaml"); max + 1],
        start_on: None,
        bundle: None,
        at_ms: 10,
    };
    assert_eq!(
        client.send(&mut state, many),
        Err(Refusal::TooManyContracts {
            count: max + 1,
            max
        })
    );
    let long_path = "c".repeat(state.limits().label_bytes_max + 1);
    let long = Command::SubmitRun {
        dag_hash: hash(1),
        contracts: vec![contract(&long_path)],
        start_on: None,
        bundle: None,
        at_ms: 10,
    };
    assert!(matches!(
        client.send(&mut state, long),
        Err(Refusal::TooLong { .. })
    ));
    assert_eq!(state.runs().count(), before.runs().count());
}

#[test]
fn a_run_detail_past_its_bounds_is_cut_and_counted() {
    let limits = StateLimits {
        detail_entries_max: 2,
        label_bytes_max: 4,
        ..StateLimits::default()
    };
    let mut state = BarnState::new(limits);
    let mut client = Client::new(1);
    let node = Command::RegisterNode {
        node: NodeId(1),
        addr: "embedded".into(),
        agent: false,
        at_ms: 1,
    };
    client.send(&mut state, node).unwrap();
    let scenario = Command::RegisterScenario {
        herd: herd(),
        name: "orders".into(),
        dag_hash: hash(1),
        at_ms: 2,
    };
    client.send(&mut state, scenario).unwrap();
    let run = submit(&mut client, &mut state);
    client.send(&mut state, start(run)).unwrap();
    let mut big = detail();
    big.steps = (1..=5)
        .map(|n| PlaceCount {
            name: format!("{n} derive"),
            ..PlaceCount::default()
        })
        .collect();
    let finish = Command::FinishRun {
        run,
        end: RunEnd::Succeeded,
        counts: RunCounts::default(),
        detail: big,
        summary: String::new(),
        events: vec![],
        at_ms: 20,
    };
    client.send(&mut state, finish).unwrap();
    let kept = &state.run(run).unwrap().detail;
    let step_names: Vec<_> = kept.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(step_names, ["1 de", "2 de"]);
    assert_eq!(kept.entries_dropped, 3);
    assert_eq!(kept.outputs[0].uri, "parq");
}

#[test]
fn at_the_run_bound_the_oldest_finished_run_is_forgotten() {
    let limits = StateLimits {
        runs_kept_max: 2,
        ..StateLimits::default()
    };
    let mut state = BarnState::new(limits);
    let mut client = Client::new(1);
    let node = Command::RegisterNode {
        node: NodeId(1),
        addr: "embedded".into(),
        agent: false,
        at_ms: 1,
    };
    client.send(&mut state, node).unwrap();
    let scenario = Command::RegisterScenario {
        herd: herd(),
        name: "orders".into(),
        dag_hash: hash(1),
        at_ms: 2,
    };
    client.send(&mut state, scenario).unwrap();

    let first = submit(&mut client, &mut state);
    let second = submit(&mut client, &mut state);
    // Both kept runs are unfinished: a third is refused, nothing forgotten.
    let refused = client.send(
        &mut state,
        Command::SubmitRun {
            dag_hash: hash(1),
            contracts: vec![],
            start_on: None,
            bundle: None,
            at_ms: 10,
        },
    );
    assert_eq!(refused, Err(Refusal::TooManyRuns { max: 2 }));

    client.send(&mut state, start(second)).unwrap();
    client
        .send(&mut state, finish(second, RunEnd::Succeeded))
        .unwrap();
    let third = submit(&mut client, &mut state);
    let kept: Vec<_> = state.runs().map(|r| r.id).collect();
    assert_eq!(kept, [first, third]);
    assert!(state.run_events(second).is_none());
    assert_eq!(third, RunId(3));
}

#[test]
fn a_run_submitted_with_start_on_is_running_there_at_once() {
    let mut client = Client::new(1);
    let mut state = setup(&mut client);
    let submit = |node| Command::SubmitRun {
        dag_hash: hash(1),
        contracts: vec![],
        start_on: Some(NodeId(node)),
        bundle: None,
        at_ms: 10,
    };
    let before = state.clone();
    assert_eq!(
        client.send(&mut state, submit(9)),
        Err(Refusal::UnknownNode { node: NodeId(9) })
    );
    assert_eq!(state.runs().count(), before.runs().count());
    let Ok(Applied::RunSubmitted { run }) = client.send(&mut state, submit(1)) else {
        panic!("expected a submitted run");
    };
    let record = state.run(run).unwrap();
    assert_eq!(record.status, RunStatus::Running);
    assert_eq!(
        (record.node, record.started_at_ms),
        (Some(NodeId(1)), Some(10))
    );
}

#[test]
fn finishing_with_events_appends_them_in_the_same_entry_or_changes_nothing() {
    let mut client = Client::new(1);
    let mut state = setup(&mut client);
    let run = submit(&mut client, &mut state);
    client.send(&mut state, start(run)).unwrap();
    let line = |message: &str| NewRunEvent {
        at_ms: 19,
        level: EventLevel::Error,
        message: message.into(),
    };
    let too_many = state.limits().events_per_request_max + 1;
    let finish_with = |events: Vec<NewRunEvent>| Command::FinishRun {
        run,
        end: RunEnd::Failed,
        counts: RunCounts::default(),
        detail: RunDetail::default(),
        summary: "disk full".into(),
        events,
        at_ms: 20,
    };
    let before = state.clone();
    assert!(matches!(
        client.send(&mut state, finish_with(vec![line("x"); too_many])),
        Err(Refusal::TooManyEvents { .. })
    ));
    assert_eq!(state.run(run), before.run(run));
    assert_eq!(state.run_events(run).unwrap().len(), 0);

    client
        .send(&mut state, finish_with(vec![line("failed: disk full")]))
        .unwrap();
    assert_eq!(state.run(run).unwrap().status, RunStatus::Failed);
    let events = state.run_events(run).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message, "failed: disk full");

    // A finished run takes no more events, even with a second finish.
    let again = client.send(&mut state, finish_with(vec![line("late")]));
    assert!(matches!(again, Err(Refusal::IllegalTransition { .. })));
    assert_eq!(state.run_events(run).unwrap().len(), 1);
}

fn bundle(source: &str) -> ScenarioBundle {
    ScenarioBundle {
        file: "orders.dsl".into(),
        base_dir: "/data/orders".into(),
        source: source.into(),
        scenario: "orders".into(),
        steps_path: vec![],
        files: [(
            "/data/orders/orders.yaml".to_owned(),
            "apiVersion: v3.0.2".to_owned(),
        )]
        .into(),
        settings: RunSettings {
            batch_rows_max: 8192,
            queue_len_max: 4,
            unique_keys_max: 1_000_000,
            all_violations: false,
            block_on_drift: false,
            isolated: true,
            sql_rows_max: None,
        },
    }
}

fn submit_with_bundle(client: &mut Client, state: &mut BarnState) -> Outcome {
    client.send(
        state,
        Command::SubmitRun {
            dag_hash: hash(1),
            contracts: vec![],
            start_on: None,
            bundle: Some(bundle("Feature: orders")),
            at_ms: 10,
        },
    )
}

fn agent(node: u64) -> Command {
    Command::RegisterNode {
        node: NodeId(node),
        addr: format!("n{node}:7000"),
        agent: true,
        at_ms: 3,
    }
}

fn place(run: RunId, node: u64) -> Command {
    Command::PlaceRun {
        run,
        node: NodeId(node),
        at_ms: 12,
    }
}

#[test]
fn a_submitted_bundle_is_placed_started_only_there_and_forgotten_at_the_end() {
    let mut client = Client::new(1);
    let mut state = setup(&mut client);
    client.send(&mut state, agent(2)).unwrap();
    client.send(&mut state, agent(3)).unwrap();
    let Ok(Applied::RunSubmitted { run }) = submit_with_bundle(&mut client, &mut state) else {
        panic!("the run is submitted");
    };
    assert_eq!(state.run_bundle(run), Some(&bundle("Feature: orders")));
    assert_eq!(state.run(run).unwrap().node, None);

    // Node 1 has no agent: nothing is placed there.
    assert_eq!(
        client.send(&mut state, place(run, 1)),
        Err(Refusal::NoAgent { node: NodeId(1) })
    );
    assert_eq!(
        client.send(&mut state, place(run, 2)),
        Ok(Applied::RunPlaced {
            run,
            node: NodeId(2)
        })
    );
    let placed = state.run(run).unwrap();
    assert_eq!(
        (placed.node, placed.placed_at_ms, placed.status),
        (Some(NodeId(2)), Some(12), RunStatus::Pending)
    );
    // Placed again (node 2 left, say): only the new node may start it.
    client.send(&mut state, place(run, 3)).unwrap();
    let elsewhere = Command::StartRun {
        run,
        node: NodeId(2),
        at_ms: 13,
    };
    assert_eq!(
        client.send(&mut state, elsewhere),
        Err(Refusal::PlacedElsewhere {
            run,
            node: NodeId(3)
        })
    );
    let here = Command::StartRun {
        run,
        node: NodeId(3),
        at_ms: 13,
    };
    client.send(&mut state, here).unwrap();
    // Running: no longer placeable.
    assert!(matches!(
        client.send(&mut state, place(run, 2)),
        Err(Refusal::IllegalTransition { .. })
    ));
    assert!(state.run_bundle(run).is_some());
    client
        .send(&mut state, finish(run, RunEnd::Succeeded))
        .unwrap();
    assert_eq!(
        state.run_bundle(run),
        None,
        "a finished run's bundle is dropped"
    );
}

#[test]
fn a_run_without_a_bundle_cannot_be_placed_and_an_oversized_bundle_is_refused() {
    let mut client = Client::new(1);
    let mut state = setup(&mut client);
    client.send(&mut state, agent(2)).unwrap();
    let run = submit(&mut client, &mut state);
    assert_eq!(
        client.send(&mut state, place(run, 2)),
        Err(Refusal::NoBundle { run })
    );

    let max = state.limits().bundle_bytes_max;
    let runs_before = state.runs().count();
    let huge = Command::SubmitRun {
        dag_hash: hash(1),
        contracts: vec![],
        start_on: None,
        bundle: Some(bundle(&"x".repeat(max))),
        at_ms: 10,
    };
    assert!(matches!(
        client.send(&mut state, huge),
        Err(Refusal::TooLong { .. })
    ));
    assert_eq!(
        state.runs().count(),
        runs_before,
        "a refusal changes nothing"
    );
}

#[test]
fn records_written_before_agents_and_bundles_existed_still_read() {
    // A node, a run and a snapshot's limits as an older Barn wrote them.
    let node: Node =
        serde_json::from_str(r#"{"id":1,"addr":"embedded","registered_at_ms":1}"#).unwrap();
    assert!(!node.agent);
    let command: Command =
        serde_json::from_str(r#"{"RegisterNode":{"node":2,"addr":"h:1","at_ms":1}}"#).unwrap();
    assert!(matches!(
        command,
        Command::RegisterNode { agent: false, .. }
    ));
    let submit: Command = serde_json::from_str(&format!(
        r#"{{"SubmitRun":{{"dag_hash":"{}","contracts":[],"start_on":null,"at_ms":1}}}}"#,
        hash(1).0.as_str()
    ))
    .unwrap();
    assert!(matches!(submit, Command::SubmitRun { bundle: None, .. }));
    let mut old_state = serde_json::to_value(BarnState::default()).unwrap();
    let object = old_state.as_object_mut().unwrap();
    object.remove("run_bundles");
    object["limits"]
        .as_object_mut()
        .unwrap()
        .remove("bundle_bytes_max");
    let read: BarnState = serde_json::from_value(old_state).unwrap();
    assert_eq!(read, BarnState::default());
}

/// The runs and events a state holds, archived or not, as readers see them.
fn everything(state: &BarnState, archived: &[ArchivedRun]) -> Vec<(Run, Vec<RunEvent>)> {
    let mut all: Vec<(Run, Vec<RunEvent>)> = state
        .runs()
        .map(|run| {
            let events = state.run_events(run.id).unwrap_or_default().to_vec();
            (run.clone(), events)
        })
        .chain(
            archived
                .iter()
                .filter(|a| state.archived_mark(a.run.id).is_some())
                .map(|a| (a.run.clone(), a.events.clone())),
        )
        .collect();
    all.sort_by_key(|(run, _)| run.id);
    all
}

#[test]
fn archiving_finished_runs_changes_no_outcome_and_no_count() {
    let limits = StateLimits {
        runs_kept_max: 4,
        ..StateLimits::default()
    };
    let mut client = Client::new(1);
    let mut kept = BarnState::new(limits);
    for command in [
        Command::RegisterNode {
            node: NodeId(1),
            addr: "embedded".into(),
            agent: false,
            at_ms: 1,
        },
        Command::RegisterNode {
            node: NodeId(2),
            addr: "other".into(),
            agent: true,
            at_ms: 1,
        },
        Command::RegisterScenario {
            herd: herd(),
            name: "orders".into(),
            dag_hash: hash(1),
            at_ms: 2,
        },
    ] {
        client.send(&mut kept, command).unwrap();
    }
    let succeeded = submit(&mut client, &mut kept);
    client.send(&mut kept, start(succeeded)).unwrap();
    client.send(&mut kept, events(&["read 10 rows"])).unwrap();
    client
        .send(&mut kept, finish(succeeded, RunEnd::Succeeded))
        .unwrap();
    let cancelled = submit(&mut client, &mut kept);
    client
        .send(&mut kept, finish(cancelled, RunEnd::Cancelled))
        .unwrap();
    let running = submit(&mut client, &mut kept);
    client.send(&mut kept, start(running)).unwrap();

    let mut archived_state = kept.clone();
    let batch = archived_state.archive_finished();
    let moved: Vec<RunId> = batch.runs.iter().map(|a| a.run.id).collect();
    assert_eq!(moved, [succeeded, cancelled], "only finished runs leave");
    assert!(batch.deletes.is_empty());
    assert_eq!(
        archived_state.runs().map(|r| r.id).collect::<Vec<_>>(),
        [running]
    );
    assert_eq!(archived_state.run_totals(), kept.run_totals());
    assert_eq!(
        everything(&archived_state, &batch.runs),
        everything(&kept, &[])
    );

    // The same commands get the same outcomes, whether the runs they name
    // are held or archived: late commands on finished runs, a run placed
    // elsewhere, and submissions past the bound that forget the oldest.
    let late = [
        start(succeeded),
        Command::StartRun {
            run: succeeded,
            node: NodeId(2),
            at_ms: 30,
        },
        finish(cancelled, RunEnd::Failed),
        place(succeeded, 2),
        Command::AppendRunEvents {
            run: succeeded,
            events: vec![],
        },
        Command::AppendRunEvents {
            run: RunId(99),
            events: vec![],
        },
        finish(running, RunEnd::Succeeded),
    ];
    let mut other = Client::new(2);
    let mut twin = Client::new(2);
    for command in late {
        let held = other.send(&mut kept, command.clone());
        let archived = twin.send(&mut archived_state, command);
        assert_eq!(held, archived);
    }
    for _ in 0..3 {
        let held = submit(&mut other, &mut kept);
        let archived = submit(&mut twin, &mut archived_state);
        assert_eq!(held, archived);
    }
    assert_eq!(archived_state.run_totals(), kept.run_totals());
    assert_eq!(
        everything(&archived_state, &batch.runs),
        everything(&kept, &[])
    );
    // The two archived runs were the oldest finished: forgotten, and their
    // records are for the next snapshot to delete.
    let next = archived_state.archive_finished();
    assert_eq!(next.deletes, [succeeded, cancelled]);
    assert_eq!(
        next.runs.iter().map(|a| a.run.id).collect::<Vec<_>>(),
        [running]
    );
}

#[test]
fn archived_runs_put_back_give_the_whole_state() {
    let mut client = Client::new(1);
    let mut state = setup(&mut client);
    for end in [RunEnd::Succeeded, RunEnd::Failed] {
        let run = submit(&mut client, &mut state);
        client.send(&mut state, start(run)).unwrap();
        let append = Command::AppendRunEvents {
            run,
            events: vec![NewRunEvent {
                at_ms: 12,
                level: EventLevel::Info,
                message: format!("run {run}"),
            }],
        };
        client.send(&mut state, append).unwrap();
        client.send(&mut state, finish(run, end)).unwrap();
    }
    let pending = submit(&mut client, &mut state);

    let mut whole = state.clone();
    let batch = whole.archive_finished();
    assert_eq!(batch.runs.len(), 2);
    whole.restore_archived(batch.runs.clone());
    assert_eq!(whole, state, "nothing left behind, nothing added");
    assert!(whole.archived_marks().is_empty());
    assert_eq!(
        whole.run(pending).map(|r| r.status),
        Some(RunStatus::Pending)
    );

    // A record whose mark is gone (the run was forgotten) is not put back.
    let mut forgetful = state.clone();
    let batch = forgetful.archive_finished();
    forgetful.archived.remove(&RunId(1));
    forgetful.restore_archived(batch.runs);
    assert!(forgetful.run(RunId(1)).is_none());
    assert!(forgetful.run(RunId(2)).is_some());
}
